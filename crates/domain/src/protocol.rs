//! Algorand protocol hashes that more than one part of BitFox needs: the address of an
//! application's account and the ARC-4 selector of a method or event signature. Both are
//! SHA-512/256 digests defined by the protocol, so they live here once, beside
//! [`Address`], for the AVM, the contract's pure knowledge and the chain client alike.

use sha2::{Digest, Sha512_256};

use crate::Address;

/// The address of application `app_id`'s account: SHA-512/256(`"appID"` ‖ big-endian id).
pub fn app_address(app_id: u64) -> Address {
    let mut hasher = Sha512_256::new();
    hasher.update(b"appID");
    hasher.update(app_id.to_be_bytes());
    Address::from_public_key(hasher.finalize().into())
}

/// The 4-byte ARC-4 selector of a method or ARC-28 event signature: the first four bytes
/// of SHA-512/256 of the signature's bytes.
pub fn selector(signature: &[u8]) -> [u8; 4] {
    let digest = Sha512_256::digest(signature);
    [digest[0], digest[1], digest[2], digest[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_address_matches_go_algorand() {
        // py-algorand-sdk: `algosdk.logic.get_application_address(1001)`.
        assert_eq!(
            app_address(1001).to_string(),
            "OKSDOCOXVGMBXQ5TP5YA4VWTZWZJLJP3OMIILPHMHGHURUFE2Q3JP62QNU"
        );
    }

    #[test]
    fn selector_matches_arc4() {
        // ARC-4's own example: "add(uint64,uint64)uint128" → 0x8aa3b61f.
        assert_eq!(selector(b"add(uint64,uint64)uint128"), [0x8a, 0xa3, 0xb6, 0x1f]);
    }
}
