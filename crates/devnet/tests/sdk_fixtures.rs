//! Golden signed transactions from py-algorand-sdk
//! (`reference/fixtures/sdk_txns.py`): the devnet decodes each, re-encodes it to the
//! very same bytes, computes the same id and verifies the signature.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bitfox_devnet::txn::{SignedTxn, TxnError, TxnKind, group_id};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Fixture {
    name: String,
    stxn: String,
    txid: String,
}

fn fixtures() -> Vec<Fixture> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdk_txns.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn sdk_transactions_round_trip_with_the_same_id_and_a_valid_signature() {
    let all = fixtures();
    assert!(all.len() >= 20, "{} fixtures", all.len());
    let mut kinds = BTreeMap::new();
    for fixture in &all {
        let bytes = STANDARD.decode(&fixture.stxn).unwrap();
        let stxn = SignedTxn::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
        assert_eq!(stxn.encode(), bytes, "{}: re-encoding differs", fixture.name);
        assert_eq!(stxn.txn.id(), fixture.txid, "{}", fixture.name);
        stxn.verify().unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
        *kinds.entry(stxn.txn.kind.type_name()).or_insert(0) += 1;
    }
    for kind in ["pay", "acfg", "axfer", "afrz", "appl"] {
        assert!(kinds.contains_key(kind), "no {kind} fixture: {kinds:?}");
    }
}

#[test]
fn the_rekeyed_fixture_names_its_signer() {
    let all = fixtures();
    let fixture = all.iter().find(|f| f.name == "pay-signed-by-rekeyed-key").unwrap();
    let stxn = SignedTxn::decode(&STANDARD.decode(&fixture.stxn).unwrap()).unwrap();
    let signer = stxn.auth_addr.expect("sgnr");
    assert_ne!(signer, stxn.txn.sender);
    assert_eq!(stxn.signer(), signer);
}

#[test]
fn group_ids_are_recomputed_exactly() {
    let members: Vec<SignedTxn> = fixtures()
        .iter()
        .filter(|f| f.name.starts_with("group-"))
        .map(|f| SignedTxn::decode(&STANDARD.decode(&f.stxn).unwrap()).unwrap())
        .collect();
    assert_eq!(members.len(), 3);
    let ids: Vec<_> = members
        .iter()
        .map(|s| {
            let mut txn = s.txn.clone();
            txn.group = None;
            txn.id_bytes()
        })
        .collect();
    let expected = group_id(&ids);
    for member in &members {
        assert_eq!(member.txn.group, Some(expected));
    }
}

#[test]
fn tampering_breaks_the_signature() {
    let all = fixtures();
    let bytes = STANDARD.decode(&all[0].stxn).unwrap();
    let mut stxn = SignedTxn::decode(&bytes).unwrap();
    if let TxnKind::Payment { amount, .. } = &mut stxn.txn.kind {
        *amount += 1;
    }
    assert_eq!(stxn.verify(), Err(TxnError::BadSignature));
    let mut concatenated = bytes.clone();
    concatenated.extend_from_slice(&bytes);
    assert_eq!(SignedTxn::decode_group(&concatenated).unwrap().len(), 2);
    assert!(SignedTxn::decode(&concatenated).is_err(), "trailing bytes are refused");
}
