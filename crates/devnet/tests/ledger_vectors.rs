//! Ledger conformance: signed groups evaluated by go-algorand
//! (`reference/fixtures/ledger_vectors.py`) replayed on the devnet's ledger, which must
//! accept and refuse the same blocks and leave the same balances, holdings and keys.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bitfox_devnet::ledger::{Consensus, Network, State, apply_group};
use bitfox_devnet::txn::SignedTxn;
use bitfox_domain::Address;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Vectors {
    genesis_hash: String,
    round: u64,
    scenarios: Vec<Scenario>,
}

#[derive(Debug, Deserialize)]
struct Scenario {
    name: String,
    initial: BTreeMap<String, u64>,
    blocks: Vec<Block>,
}

#[derive(Debug, Deserialize)]
struct Block {
    what: String,
    group: Vec<String>,
    accepted: bool,
    #[serde(default)]
    reason: Option<String>,
    counter_before: u64,
    after: BTreeMap<String, AccountAfter>,
    #[serde(default)]
    #[allow(dead_code)]
    created_assets: Vec<u64>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct AccountAfter {
    balance: u64,
    assets: BTreeMap<String, (u64, bool)>,
    auth_addr: Option<String>,
}

fn vectors() -> Vectors {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger_vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Splits a block's transactions into groups: consecutive members sharing a group id.
fn groups(txns: Vec<SignedTxn>) -> Vec<Vec<SignedTxn>> {
    let mut out: Vec<Vec<SignedTxn>> = Vec::new();
    for stxn in txns {
        match (out.last_mut(), stxn.txn.group) {
            (Some(last), Some(g)) if last[0].txn.group == Some(g) => last.push(stxn),
            _ => out.push(vec![stxn]),
        }
    }
    out
}

fn snapshot(state: &State, addresses: &[String]) -> BTreeMap<String, AccountAfter> {
    addresses
        .iter()
        .map(|text| {
            let account = state.account(&text.parse::<Address>().unwrap());
            let assets = account
                .holdings
                .iter()
                .map(|(id, h)| (id.to_string(), (h.amount, h.frozen)))
                .collect();
            let after = AccountAfter {
                balance: account.balance,
                assets,
                auth_addr: account.auth_addr.map(|a| a.to_string()),
            };
            (text.clone(), after)
        })
        .collect()
}

#[test]
fn the_devnet_ledger_agrees_with_go_algorand() {
    let vectors = vectors();
    let genesis_hash: [u8; 32] =
        STANDARD.decode(&vectors.genesis_hash).unwrap().try_into().unwrap();
    let network = Network { genesis_id: String::new(), genesis_hash };
    let consensus = Consensus::default();
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for scenario in &vectors.scenarios {
        let mut state = State::default();
        for (address, balance) in &scenario.initial {
            if *balance > 0 {
                state.accounts.entry(address.parse().unwrap()).or_default().balance = *balance;
            }
        }
        let addresses: Vec<String> = scenario.initial.keys().cloned().collect();
        for block in &scenario.blocks {
            let txns: Vec<SignedTxn> = block
                .group
                .iter()
                .map(|b| SignedTxn::decode(&STANDARD.decode(b).unwrap()).unwrap())
                .collect();
            // The reference numbers new assets from its own transaction counter.
            state.txn_counter = block.counter_before;
            // A block is accepted only if every group in it is.
            let mut next = state.clone();
            let mut accepted = true;
            let mut reason = String::new();
            for group in groups(txns) {
                if let Err(e) = apply_group(&mut next, &consensus, &network, vectors.round, &group)
                {
                    accepted = false;
                    reason = e.to_string();
                    break;
                }
            }
            if accepted {
                state = next;
            }
            let label = format!("{} / {}", scenario.name, block.what);
            if accepted != block.accepted {
                disagreements.push(format!(
                    "{label}: devnet {} ({reason}), go-algorand {} ({})",
                    if accepted { "accepted" } else { "refused" },
                    if block.accepted { "accepted" } else { "refused" },
                    block.reason.as_deref().unwrap_or("")
                ));
            }
            let ours = snapshot(&state, &addresses);
            if ours != block.after {
                disagreements.push(format!(
                    "{label}: state differs\n  devnet {ours:?}\n  go     {:?}",
                    block.after
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} blocks");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
