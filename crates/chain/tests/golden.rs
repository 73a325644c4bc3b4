//! The contract client's groups (marketplace and clusters), byte for byte, against
//! py-algorand-sdk's — which
//! go-algorand accepted, evaluated in order on its ledger with the project's contract
//! (`reference/fixtures/client_groups.py` writes the fixture and refuses to if the
//! reference rejects a group).

use algonaut::Algod;
use algonaut::core::{MicroAlgos, Round};
use algonaut::crypto::HashDigest;
use algonaut::model::algod::SuggestedParams;
use algonaut::transaction::account::Account;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bitfox_chain::client::Contract;
use bitfox_chain::signer::Keyring;
use bitfox_domain::Address;
use serde_json::Value;

fn fixture() -> Value {
    let text = include_str!("fixtures/client_groups.json");
    serde_json::from_str(text).unwrap()
}

fn account(hex: &str) -> Account {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    Account::from_seed(bytes.try_into().unwrap())
}

#[test]
fn every_group_matches_the_sdk_bytes_that_go_algorand_accepted() {
    let f = fixture();
    let num = |key: &str| f[key].as_u64().unwrap();
    let hash: [u8; 32] =
        B64.decode(f["genesis_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
    let params = SuggestedParams::new(
        "future".into(),
        MicroAlgos(0),
        HashDigest(hash),
        String::new(),
        Round(num("first_valid")),
        MicroAlgos(1_000),
    );
    let contract =
        Contract::new(Algod::new("http://127.0.0.1:9", &"a".repeat(64)).unwrap(), num("app_id"));
    let mut keys = Keyring::new();
    let provider = keys.insert(account(f["provider_seed"].as_str().unwrap()));
    let renter = keys.insert(account(f["renter_seed"].as_str().unwrap()));
    let investor = keys.insert(account(f["investor_seed"].as_str().unwrap()));
    let asset = num("asset_id");
    let (listing, price) = (num("listing_id"), num("price_per_minute"));
    let (minutes, extra) = (num("minutes"), num("extra_minutes"));

    let built = |name: &str| match name {
        "register_listing" => contract.register_listing(&params, &provider, price, 0, listing),
        "rent" => contract.rent(&params, &renter, listing, price * minutes, minutes),
        "extend" => contract.extend(&params, &renter, listing, 1, price * extra, extra),
        "stop" => contract.stop(&params, &renter, listing, 1, &renter, &provider, 0),
        "update_price" => contract.update_price(&params, &provider, listing, num("new_price")),
        "delist" => contract.delist(&params, &provider, listing, 0),
        "create_cluster" => {
            contract.create_cluster(&params, &provider, 100, 1_000, "bitfox://clusters/1", 1)
        }
        "join_cluster" => contract.join_cluster(&params, &renter, 1),
        "opt_in" => contract.opt_in(&params, &renter, asset),
        "buy_shares" => contract.buy_shares(&params, &renter, 1, asset, &provider, 10, 1_000),
        "join_cluster_investor" => contract.join_cluster(&params, &investor, 1),
        "opt_in_investor" => contract.opt_in(&params, &investor, asset),
        "transfer_shares" => contract.transfer_shares(&params, &renter, 1, asset, &investor, 3),
        "claim" => contract.claim(&params, &renter, 1, false),
        "claim_unsold" => contract.claim(&params, &provider, 1, true),
        other => panic!("unknown group {other}"),
    };
    let groups = f["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 15);
    for group in groups {
        let name = group["name"].as_str().unwrap();
        let signed = keys.sign_group(built(name).unwrap()).unwrap();
        let expected: Vec<u8> = group["stxns"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| B64.decode(s.as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(B64.encode(&signed.bytes), B64.encode(&expected), "{name}: signed bytes");
        let txids = group["txids"].as_array().unwrap();
        assert_eq!(
            signed.txid,
            txids.last().unwrap().as_str().unwrap(),
            "{name}: the app call's id"
        );
    }
    // Sanity: the keys are the fixture's accounts.
    assert_ne!(provider, Address::from_public_key([0; 32]));
}
