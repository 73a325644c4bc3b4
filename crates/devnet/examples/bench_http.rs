//! Devnet over HTTP (not a test): drives a devnet server the way an external client
//! does — each of C concurrent clients signs an application call, sends it with
//! `POST /v2/transactions` and reads it back confirmed with
//! `GET /v2/transactions/pending/{txid}` — and prints the confirmed calls per second and
//! the send-to-confirmed latency. The node persists its blocks to a temporary SQLite
//! file, as `bitfox devnet` does.
//!
//!     cargo run --release -p bitfox-devnet --example bench_http [count] [clients]

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bitfox_devnet::node::{DevAccount, Node, transaction};
use bitfox_devnet::server::{self, Shared, TOKEN_HEADER};
use bitfox_devnet::txn::{AppCall, StateSchema, TxnKind};

type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

const TOKEN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// Counts its calls in global state and logs, as a contract call does.
const APP: &str = include_str!("counter.teal");

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let clients: usize = args.next().map_or(Ok(16), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let mut node = Node::open(&dir.path().join("devnet.db"))?;
    let creator = DevAccount::new(0);
    let program = bitfox_avm::assemble(APP).map_err(|e| format!("{e:?}"))?.bytecode;
    let create = TxnKind::AppCall(AppCall {
        approval_program: program.clone(),
        clear_program: program,
        global_schema: StateSchema { num_uint: 1, num_byte_slice: 0 },
        ..AppCall::default()
    });
    let signed = creator.sign(transaction(creator.address(), node.round() + 1, vec![], create));
    let txid = node.submit(&signed.encode()).map_err(|e| e.to_string())?;
    let app_id = node.confirmed(&txid).map(|c| c.apply.application_id).unwrap_or(0);
    let round = Arc::new(AtomicU64::new(node.round()));

    let shared = Shared::new(node, Some(TOKEN.to_owned()));
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let server = server::build(shared, listener, workers)?;
    let handle = server.handle();
    tokio::spawn(server);

    let http = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, url, next, round) = (http.clone(), url.clone(), next.clone(), round.clone());
            let sender = DevAccount::new(1 + (c % 8) as u8);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok::<_, Box<dyn std::error::Error + Send + Sync>>(latencies);
                    }
                    let t0 = Instant::now();
                    let kind = TxnKind::AppCall(AppCall { app_id, ..AppCall::default() });
                    let first = round.load(Ordering::Relaxed).max(1);
                    let note = (i as u64).to_be_bytes().to_vec();
                    let raw =
                        sender.sign(transaction(sender.address(), first, note, kind)).encode();
                    let sent: serde_json::Value = http
                        .post(format!("{url}/v2/transactions"))
                        .header(TOKEN_HEADER, TOKEN)
                        .header("Content-Type", "application/x-binary")
                        .body(raw)
                        .send()
                        .await?
                        .error_for_status()?
                        .json()
                        .await?;
                    let txid = sent["txId"].as_str().unwrap_or_default().to_owned();
                    let confirmed: serde_json::Value = http
                        .get(format!("{url}/v2/transactions/pending/{txid}"))
                        .header(TOKEN_HEADER, TOKEN)
                        .send()
                        .await?
                        .error_for_status()?
                        .json()
                        .await?;
                    let at = confirmed["confirmed-round"].as_u64().unwrap_or(0);
                    if at == 0 {
                        return Err(format!("{txid} not confirmed: {confirmed}").into());
                    }
                    round.fetch_max(at, Ordering::Relaxed);
                    latencies.push(t0.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(count);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let wall = started.elapsed();
    latencies.sort();
    println!(
        "{count} signed application calls over HTTP, {clients} clients, one block each, \
         persisted: {:.0} confirmed calls/s",
        count as f64 / wall.as_secs_f64()
    );
    println!(
        "  send-to-confirmed: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    handle.stop(true).await;
    Ok(())
}
