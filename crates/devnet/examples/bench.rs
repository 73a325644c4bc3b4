//! Devnet throughput benchmark (not a test): signs N transactions from the dev accounts,
//! then submits them one group (= one block) at a time to a node persisting to a temporary
//! SQLite file, and prints the sustained rate and the submit-to-confirmed latency
//! distribution — first payments, then application calls (a program that reads and
//! writes global state and logs).
//!
//!     cargo run --release -p bitfox-devnet --example bench [count]

use std::time::Instant;

use bitfox_devnet::node::{DevAccount, Node, transaction};
use bitfox_devnet::txn::{AppCall, StateSchema, TxnKind};

const APP: &str = include_str!("counter.teal");

fn sign(from: &DevAccount, round: u64, note: u64, kind: TxnKind) -> Vec<u8> {
    from.sign(transaction(from.address(), round, note.to_be_bytes().to_vec(), kind)).encode()
}

fn run(label: &str, node: &mut Node, signed: &[Vec<u8>]) {
    let mut latencies = Vec::with_capacity(signed.len());
    let start = Instant::now();
    for raw in signed {
        let t = Instant::now();
        node.submit(raw).expect("accepted");
        latencies.push(t.elapsed());
    }
    let total = start.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{} {label}, one block each, persisted: {:.0} tx/s",
        signed.len(),
        signed.len() as f64 / total.as_secs_f64()
    );
    println!(
        "  submit-to-confirmed: p50 {:?}, p99 {:?}, max {:?}",
        pct(0.50),
        pct(0.99),
        latencies.last().expect("some")
    );
}

fn main() {
    let count: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut node = Node::open(&dir.path().join("devnet.db")).expect("node");
    let senders: Vec<DevAccount> = (0..10).map(DevAccount::new).collect();
    let receiver = DevAccount::dispenser().address();
    let base = node.round() + 1;
    let payments: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let kind = TxnKind::Payment { receiver: Some(receiver), amount: 1, close_to: None };
            sign(&senders[i % senders.len()], base + i as u64, i as u64, kind)
        })
        .collect();
    run("payments", &mut node, &payments);

    let program = bitfox_avm::assemble(APP).expect("assembles").bytecode;
    let create = TxnKind::AppCall(AppCall {
        approval_program: program.clone(),
        clear_program: program,
        global_schema: StateSchema { num_uint: 1, num_byte_slice: 0 },
        ..AppCall::default()
    });
    let txid =
        node.submit(&sign(&senders[0], node.round() + 1, u64::MAX, create)).expect("created");
    let app_id = node.confirmed(&txid).expect("confirmed").apply.application_id;
    let base = node.round() + 1;
    let calls: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let kind = TxnKind::AppCall(AppCall { app_id, ..AppCall::default() });
            sign(&senders[i % senders.len()], base + i as u64, i as u64, kind)
        })
        .collect();
    run("application calls", &mut node, &calls);
    println!("final round {}", node.round());
}
