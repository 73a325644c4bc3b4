//! Devnet throughput benchmark (not a test): signs N payments from the dev accounts, then
//! submits them one group (= one block) at a time to a node persisting to a temporary
//! SQLite file, and prints the sustained rate and the submit-to-confirmed latency
//! distribution. Application calls are not measured yet: the devnet does not evaluate
//! them yet.
//!
//!     cargo run --release -p bitfox-devnet --example bench [count]

use std::time::Instant;

use bitfox_devnet::node::{DevAccount, Node, network};
use bitfox_devnet::txn::{SignedTxn, Transaction, TxnKind};
use ed25519_dalek::Signer;

fn main() {
    let count: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut node = Node::open(&dir.path().join("devnet.db")).expect("node");
    let net = network();
    let senders: Vec<DevAccount> = (0..10).map(DevAccount::new).collect();
    let receiver = DevAccount::dispenser().address();
    let signed: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let from = &senders[i % senders.len()];
            let txn = Transaction {
                sender: from.address(),
                fee: 1_000,
                // Transaction i is sealed in round i + 1.
                first_valid: i as u64 + 1,
                last_valid: i as u64 + 1_000,
                note: (i as u64).to_be_bytes().to_vec(),
                genesis_id: net.genesis_id.clone(),
                genesis_hash: Some(net.genesis_hash),
                group: None,
                lease: None,
                rekey_to: None,
                kind: TxnKind::Payment { receiver: Some(receiver), amount: 1, close_to: None },
            };
            let sig = from.key.sign(&txn.signing_bytes()).to_bytes();
            SignedTxn { txn, sig: Some(sig), auth_addr: None }.encode()
        })
        .collect();
    let mut latencies = Vec::with_capacity(count);
    let start = Instant::now();
    for raw in &signed {
        let t = Instant::now();
        node.submit(raw).expect("accepted");
        latencies.push(t.elapsed());
    }
    let total = start.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{count} payments, one block each, persisted: {:.0} tx/s",
        count as f64 / total.as_secs_f64()
    );
    println!(
        "submit-to-confirmed: p50 {:?}, p99 {:?}, max {:?}",
        pct(0.50),
        pct(0.99),
        latencies.last().expect("some")
    );
    println!("final round {}", node.round());
}
