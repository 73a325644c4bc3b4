//! The signed-group acceptance behind `POST /jobs/{id}/signature`
//! (`bitfox_chain::signer::accept_signed`) on arbitrary wallet answers.
//!
//! The group a job awaits is built once, exactly as the contract client builds it: the
//! `rent` group of `crates/chain/tests/fixtures/client_groups.json` (a payment and the
//! app call, grouped), which go-algorand accepted signed by the fixture's renter. The
//! first input byte picks how the rest becomes the list of signed transactions:
//!
//! - 0: parts, each a 2-byte big-endian length and its bytes (the last may be short);
//! - 1: a count `k` (0–3), `k` 2-byte cut offsets, then bytes cut there;
//! - 2: 2-byte cut offsets (at most 4) into the genuine signed group's bytes;
//! - 3: an index, then bytes that replace that transaction of the genuine group.
//!
//! Checked besides "no panic": the fuzzer cannot forge the renter's signature, so any
//! group accepted must be byte for byte the genuine one (the canonical envelopes of the
//! transactions asked for, with the renter's signatures), and the genuine transactions
//! cut at their own boundaries are accepted.

#![no_main]

use std::sync::OnceLock;

use algonaut::Algod;
use algonaut::core::{MicroAlgos, Round};
use algonaut::crypto::HashDigest;
use algonaut::model::algod::SuggestedParams;
use algonaut::transaction::account::Account;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bitfox_chain::client::Contract;
use bitfox_chain::signer::{self, Keyring};
use bitfox_domain::chain::{SignedGroup, UnsignedGroup};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Fixture {
    /// What the job awaits.
    unsigned: UnsignedGroup,
    /// The renter's signed transactions, one per part.
    parts: Vec<Vec<u8>>,
    /// What accepting them must produce.
    genuine: SignedGroup,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let f: Value = serde_json::from_str(include_str!(
            "../../crates/chain/tests/fixtures/client_groups.json"
        ))
        .expect("the fixture is JSON");
        let num = |key: &str| f[key].as_u64().expect("a number");
        let hash: [u8; 32] = B64
            .decode(f["genesis_hash"].as_str().expect("the genesis hash"))
            .expect("base64")
            .try_into()
            .expect("32 bytes");
        let params = SuggestedParams::new(
            "future".into(),
            MicroAlgos(0),
            HashDigest(hash),
            String::new(),
            Round(num("first_valid")),
            MicroAlgos(1_000),
        );
        let contract = Contract::new(
            Algod::new("http://127.0.0.1:9", &"a".repeat(64)).expect("an algod client"),
            num("app_id"),
        );
        let seed = f["renter_seed"].as_str().expect("the renter's seed");
        let seed: Vec<u8> = (0..seed.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&seed[i..i + 2], 16).expect("hex"))
            .collect();
        let mut keys = Keyring::new();
        let renter = keys.insert(Account::from_seed(seed.try_into().expect("32 bytes")));
        let price = num("price_per_minute");
        let minutes = num("minutes");
        let built = contract
            .rent(&params, &renter, num("listing_id"), price * minutes, minutes)
            .expect("the rent group builds");
        let grouped = signer::group(built).expect("the group forms");
        let unsigned = signer::unsigned(&grouped).expect("the group is shown");
        let genuine = keys.sign_grouped(grouped).expect("the renter signs");
        let rent = f["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .find(|g| g["name"] == "rent")
            .expect("the rent group");
        let parts: Vec<Vec<u8>> = rent["stxns"]
            .as_array()
            .expect("stxns")
            .iter()
            .map(|s| B64.decode(s.as_str().expect("base64 text")).expect("base64"))
            .collect();
        assert_eq!(parts.concat(), genuine.bytes, "the fixture is the group built here");
        let accepted = signer::accept_signed(&unsigned, &parts).expect("the genuine group");
        assert_eq!(accepted, genuine);
        Fixture { unsigned, parts, genuine }
    })
}

fn be16(bytes: &[u8]) -> usize {
    match bytes {
        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
        [a] => usize::from(*a),
        [] => 0,
    }
}

/// `body` cut at `offsets` (each taken modulo the body's length plus one, then sorted).
fn cut(body: &[u8], offsets: &[usize]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = offsets.iter().map(|o| o % (body.len() + 1)).collect();
    at.sort_unstable();
    let mut parts = Vec::with_capacity(at.len() + 1);
    let mut start = 0;
    for end in at {
        parts.push(body[start..end].to_vec());
        start = end;
    }
    parts.push(body[start..].to_vec());
    parts
}

fuzz_target!(|data: &[u8]| {
    let fx = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let signed: Vec<Vec<u8>> = match mode % 4 {
        0 => {
            let mut parts = Vec::new();
            let mut rest = rest;
            while !rest.is_empty() && parts.len() < 32 {
                let len = be16(rest).min(rest.len().saturating_sub(2));
                let body = rest.get(2..).unwrap_or_default();
                parts.push(body[..len].to_vec());
                rest = &body[len..];
            }
            parts
        }
        1 => {
            let Some((&k, rest)) = rest.split_first() else {
                return;
            };
            let k = usize::from(k % 4).min(rest.len() / 2);
            let offsets: Vec<usize> = rest[..2 * k].chunks(2).map(be16).collect();
            cut(&rest[2 * k..], &offsets)
        }
        2 => {
            let offsets: Vec<usize> = rest.chunks(2).take(4).map(be16).collect();
            let signed = cut(&fx.genuine.bytes, &offsets);
            if signed == fx.parts {
                let accepted = signer::accept_signed(&fx.unsigned, &signed);
                assert_eq!(accepted.as_ref(), Ok(&fx.genuine), "the genuine group is accepted");
            }
            signed
        }
        _ => {
            let Some((&index, rest)) = rest.split_first() else {
                return;
            };
            let mut signed = fx.parts.clone();
            signed[usize::from(index) % fx.parts.len()] = rest.to_vec();
            signed
        }
    };
    if let Ok(group) = signer::accept_signed(&fx.unsigned, &signed) {
        assert_eq!(group, fx.genuine, "only the renter's own signatures are accepted");
    }
});
