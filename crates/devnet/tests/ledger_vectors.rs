//! Ledger conformance: signed groups evaluated by go-algorand
//! (`reference/fixtures/ledger_vectors.py`) replayed on the devnet's ledger, which must
//! accept and refuse the same blocks and leave the same balances, holdings and keys.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bitfox_avm::eval::Value as TealValue;
use bitfox_devnet::ledger::{Consensus, Network, State, apply_group_at};
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
    timestamp: u64,
    after: BTreeMap<String, AccountAfter>,
    #[serde(default)]
    logs: Option<Vec<Vec<String>>>,
    #[serde(default)]
    #[allow(dead_code)]
    created_assets: Vec<u64>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct AccountAfter {
    balance: u64,
    assets: BTreeMap<String, (u64, bool)>,
    auth_addr: Option<String>,
    /// For application accounts: the app's global state (hex key → value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    global: Option<BTreeMap<String, Teal>>,
    /// For application accounts: the app's boxes (hex name → hex value).
    #[serde(default)]
    boxes: Option<BTreeMap<String, String>>,
    /// For application accounts: (number of boxes, their bytes), behind the minimum balance.
    #[serde(default)]
    box_totals: Option<(u64, u64)>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Teal {
    Uint(u64),
    Bytes(String),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    let mut out: BTreeMap<String, AccountAfter> = addresses
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
                global: None,
                boxes: None,
                box_totals: None,
            };
            (text.clone(), after)
        })
        .collect();
    for (id, app) in &state.apps {
        let address = Address::from_public_key(bitfox_avm::eval::app_address(*id));
        let account = state.account(&address);
        let global = app
            .global
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    TealValue::Uint(n) => Teal::Uint(*n),
                    TealValue::Bytes(b) => Teal::Bytes(hex(b)),
                };
                (hex(k), value)
            })
            .collect();
        let boxes = state
            .boxes
            .iter()
            .filter(|((a, _), _)| a == id)
            .map(|((_, n), v)| (hex(n), hex(v)))
            .collect();
        let after = AccountAfter {
            balance: account.balance,
            assets: BTreeMap::new(),
            auth_addr: None,
            global: Some(global),
            boxes: Some(boxes),
            box_totals: Some((account.total_boxes, account.total_box_bytes)),
        };
        out.insert(address.to_string(), after);
    }
    out
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
            let mut logs = Vec::new();
            for group in groups(txns) {
                match apply_group_at(
                    &mut next,
                    &consensus,
                    &network,
                    vectors.round,
                    block.timestamp,
                    &group,
                ) {
                    Ok(applied) => logs.extend(
                        applied.iter().map(|a| a.logs.iter().map(|l| hex(l)).collect::<Vec<_>>()),
                    ),
                    Err(e) => {
                        accepted = false;
                        reason = e.to_string();
                        break;
                    }
                }
            }
            if let (true, Some(expected)) = (accepted, &block.logs)
                && logs != *expected
            {
                disagreements.push(format!(
                    "{} / {}: logs differ\n  devnet {logs:?}\n  go     {expected:?}",
                    scenario.name, block.what
                ));
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
