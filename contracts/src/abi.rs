//! The contract's ARC-4 methods: signatures, selectors, argument encoding and return
//! values (`contracts/README.md` lists them all; `bitfox.arc56.json` is the source).

use bitfox_domain::protocol::selector;

/// The prefix of an ARC-4 return value log.
pub const RETURN_PREFIX: [u8; 4] = [0x15, 0x1f, 0x7c, 0x75];

/// Method signatures.
pub mod method {
    pub const REGISTER_LISTING: &str = "register_listing(uint64,uint64,pay)uint64";
    pub const UPDATE_PRICE: &str = "update_price(uint64,uint64)void";
    pub const DELIST: &str = "delist(uint64)void";
    pub const RENT: &str = "rent(uint64,uint64,pay)uint64";
    pub const EXTEND: &str = "extend(uint64,uint64,uint64,pay)void";
    pub const STOP: &str = "stop(uint64,uint64)(uint64,uint64,uint64,uint64)";
    pub const WITHDRAW_FEES: &str = "withdraw_fees()uint64";
    pub const CREATE_CLUSTER: &str = "create_cluster(uint64,uint64,string,pay)(uint64,uint64)";
    pub const JOIN_CLUSTER: &str = "join_cluster(uint64,pay)void";
    pub const BUY_SHARES: &str = "buy_shares(uint64,uint64,pay)void";
    pub const TRANSFER_SHARES: &str = "transfer_shares(uint64,account,uint64)void";
    pub const CLAIM: &str = "claim(uint64)uint64";
    pub const CLAIM_UNSOLD: &str = "claim_unsold(uint64)uint64";
    /// Version 2 only.
    pub const ANNOUNCE_RETIREMENT: &str = "announce_retirement(uint64,pay)uint64";
}

/// The name of the contract method whose selector is `head`.
pub fn method_name(head: &[u8]) -> Option<&'static str> {
    [
        method::REGISTER_LISTING,
        method::UPDATE_PRICE,
        method::DELIST,
        method::RENT,
        method::EXTEND,
        method::STOP,
        method::WITHDRAW_FEES,
        method::CREATE_CLUSTER,
        method::JOIN_CLUSTER,
        method::BUY_SHARES,
        method::TRANSFER_SHARES,
        method::CLAIM,
        method::CLAIM_UNSOLD,
        method::ANNOUNCE_RETIREMENT,
    ]
    .into_iter()
    .find(|signature| selector(signature.as_bytes())[..] == *head)
    .and_then(|signature| signature.split('(').next())
}

/// The return value of an ARC-4 call: the last log, without its prefix.
pub fn return_value(logs: &[Vec<u8>]) -> Option<&[u8]> {
    logs.last().and_then(|log| log.strip_prefix(&RETURN_PREFIX[..]))
}

/// The ARC-4 encoding of a `uint64` argument.
pub fn u64_arg(n: u64) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

/// The selector of method `signature`, as the first application argument.
pub fn method_arg(signature: &str) -> Vec<u8> {
    selector(signature.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_the_contract_readme() {
        for (signature, hex) in [
            (method::REGISTER_LISTING, "b0512ade"),
            (method::RENT, "84ad7f5a"),
            (method::STOP, "a9714d96"),
            (method::DELIST, "c97dbb2e"),
            (method::UPDATE_PRICE, "318f668d"),
            (method::EXTEND, "487c70d6"),
            (method::WITHDRAW_FEES, "addc96ab"),
            (method::CREATE_CLUSTER, "bbe43b62"),
            (method::JOIN_CLUSTER, "3eab8022"),
            (method::BUY_SHARES, "933b647b"),
            (method::TRANSFER_SHARES, "4ea729fd"),
            (method::CLAIM, "d1f1ba15"),
            (method::CLAIM_UNSOLD, "e0146a77"),
        ] {
            let got: String = method_arg(signature).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hex, "{signature}");
            assert_eq!(method_name(&method_arg(signature)), signature.split('(').next());
        }
    }
}
