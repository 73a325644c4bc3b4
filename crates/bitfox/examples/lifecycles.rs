//! Benchmark: N concurrent rent-and-stop lifecycles through the API, settled on the
//! embedded devnet by a real `bitfox up` (fresh data directory, release build).
//!
//! For each lifecycle: `POST /gpus/{id}/rent`, wait until `active`, `POST /gpus/{id}/stop`,
//! wait until `settled`; the time from the rent request to `settled` is measured. While
//! it runs, the watcher's lag is sampled every 20 ms, in seconds: how long the oldest
//! block the mirror does not have yet has been on the chain (0 when it has them all).
//! Each client polls its rental every 100 ms, so latencies carry up to 100 ms of polling.
//! Prints errors, median/p99/max latency, throughput and the lag. Not a test.
//!
//!     scripts/bench-lifecycles [N]      (default 500)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bitfox_devnet::node::DevAccount;
use serde_json::{Value, json};

const TOKEN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn port_after(line: &str, label: &str) -> Option<u16> {
    let rest = line.trim().strip_prefix(label)?;
    let url = rest.split_whitespace().next()?;
    url.rsplit(':').next()?.parse().ok()
}

async fn get(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(client
        .get(url)
        .header("X-Algo-API-Token", TOKEN)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<Value> {
    let response = client.post(url).json(&body).send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "{url}: {status} {body}");
    Ok(body)
}

async fn wait_for(client: &reqwest::Client, url: &str, status: &str) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let body = get(client, url).await?;
        if body["status"] == status {
            return Ok(body);
        }
        anyhow::ensure!(body["status"] != "failed", "{url} failed: {body}");
        anyhow::ensure!(Instant::now() < deadline, "{url} never became {status}: {body}");
        // Polling is the benchmark's own load on the API: 500 clients every 100 ms.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map_or(Ok(500), |a| a.parse())?;
    let bin = std::env::var("BITFOX_BIN").unwrap_or_else(|_| "target/release/bitfox".into());
    let bin = std::fs::canonicalize(&bin).map_err(|e| anyhow::anyhow!("{bin}: {e}"))?;
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(&bin)
        .current_dir(dir.path())
        .env_remove("BITFOX_BIN")
        .env("BITFOX_DATA_DIR", dir.path().join("data"))
        .env("BITFOX_DEVNET__PORT", "0")
        .env("BITFOX_LOG", "warn")
        .args(["up", "--port", "0"])
        .stderr(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let (mut api, mut algod) = (None, None);
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line?;
        seen.push(line.clone());
        algod = algod.or_else(|| port_after(&line, "Algorand devnet"));
        if let Some(port) = port_after(&line, "BitFox API") {
            api = Some(port);
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let (api, algod) = (
        format!(
            "http://127.0.0.1:{}",
            api.ok_or_else(|| anyhow::anyhow!("bitfox up printed:\n{}", seen.join("\n")))?
        ),
        format!("http://127.0.0.1:{}", algod.expect("devnet port")),
    );
    let client = reqwest::Client::new();

    // Listings: providers are dev accounts 1-4, renters 5-8.
    let started = Instant::now();
    let mut gpus = Vec::with_capacity(n);
    for i in 0..n {
        let provider = DevAccount::new(1 + (i % 4) as u8).address().to_string();
        let body =
            json!({"owner_address": provider, "gpu_model": "RTX 4090", "price_per_minute": 1000});
        gpus.push(post(&client, &format!("{api}/gpus"), body).await?["id"].as_i64().unwrap_or(0));
    }
    for id in &gpus {
        let deadline = Instant::now() + Duration::from_secs(600);
        while get(&client, &format!("{api}/gpus/{id}")).await?["listing_id"].is_null() {
            anyhow::ensure!(Instant::now() < deadline, "GPU {id} never listed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    println!("{n} listings registered on chain in {:.1} s", started.elapsed().as_secs_f64());

    // Watcher lag sampler.
    let done = Arc::new(AtomicBool::new(false));
    let store = bitfox_store::Store::open(&dir.path().join("data/bitfox.db"), 2)?;
    let sampler = {
        let (done, client, algod) = (done.clone(), client.clone(), algod.clone());
        tokio::spawn(async move {
            let mut lags = Vec::new();
            // When each round was first seen on the chain.
            let mut seen = std::collections::BTreeMap::new();
            while !done.load(Ordering::Relaxed) {
                if let Ok(status) = get(&client, &format!("{algod}/v2/status")).await {
                    let now = Instant::now();
                    let chain = status["last-round"].as_i64().unwrap_or(0);
                    let known = seen.keys().next_back().copied().unwrap_or(chain);
                    for round in known..=chain {
                        seen.entry(round).or_insert(now);
                    }
                    let mirrored = {
                        use bitfox_store::diesel::prelude::*;
                        use bitfox_store::schema::chain_cursors as cur;
                        store.conn().ok().and_then(|mut c| {
                            cur::table.select(cur::round).first::<i64>(&mut c).ok()
                        })
                    }
                    .unwrap_or(0);
                    let waiting = seen.range(mirrored + 1..).next().map(|(_, at)| *at);
                    lags.push(waiting.map_or(Duration::ZERO, |at| now - at));
                    seen = seen.split_off(&mirrored);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            lags
        })
    };

    let started = Instant::now();
    let tasks: Vec<_> = gpus
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (client, api, id) = (client.clone(), api.clone(), *id);
            tokio::spawn(async move {
                let renter = DevAccount::new(5 + (i % 4) as u8).address().to_string();
                let t0 = Instant::now();
                let rental = post(
                    &client,
                    &format!("{api}/gpus/{id}/rent"),
                    json!({"renter_address": renter, "max_minutes": 10}),
                )
                .await?;
                let path = format!("{api}{}", rental["links"]["self"].as_str().unwrap_or(""));
                wait_for(&client, &path, "active").await?;
                post(&client, &format!("{api}/gpus/{id}/stop"), json!({})).await?;
                wait_for(&client, &path, "settled").await?;
                anyhow::Ok(t0.elapsed())
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    let mut errors = Vec::new();
    for task in tasks {
        match task.await? {
            Ok(latency) => latencies.push(latency),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let wall = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let mut lags = sampler.await?;
    latencies.sort();
    lags.sort();

    println!("lifecycles: {n}, errors: {}", errors.len());
    for e in errors.iter().take(5) {
        println!("  error: {e}");
    }
    if !latencies.is_empty() {
        println!(
            "request → settled: median {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            percentile(&latencies, 50.0).as_secs_f64() * 1e3,
            percentile(&latencies, 99.0).as_secs_f64() * 1e3,
            latencies[latencies.len() - 1].as_secs_f64() * 1e3
        );
    }
    println!(
        "wall {:.1} s, {:.1} lifecycles/s ({} chain transactions per lifecycle: rent group + stop)",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        3
    );
    if !lags.is_empty() {
        println!(
            "watcher lag (seconds the oldest unmirrored block has waited, sampled every 20 ms): \
             median {:.3} s, p99 {:.3} s, max {:.3} s",
            percentile(&lags, 50.0).as_secs_f64(),
            percentile(&lags, 99.0).as_secs_f64(),
            lags[lags.len() - 1].as_secs_f64()
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    anyhow::ensure!(errors.is_empty(), "{} lifecycles failed", errors.len());
    Ok(())
}
