//! Crash chaos: concurrent rent-and-stop lifecycles, cluster share purchases and revenue
//! claims through the API of a real `bitfox up` (embedded devnet, fresh data directory),
//! while the process is SIGKILLed at random moments and restarted on the same data
//! directory. Clients retry what failed with the same `Idempotency-Key`, as a real client
//! would. Afterwards it checks, and prints:
//!
//! * lifecycles lost (never settled) and duplicated (more rentals or jobs than intents);
//! * every rental settled exactly once on chain (`n_rental`, one `RentalStarted` and one
//!   `RentalSettled` per rental), no intent with two signed groups;
//! * every account's node balance equal, to the µAlgo, to what the recorded settlements,
//!   purchases and claims say it should be (each committed job's fixed fees included);
//! * the app account's balance equal to its own minimum balance + live deposits + box
//!   minimum balances + share-ASA holdings + fees owed + cluster revenue not yet claimed;
//! * the watcher's mirror equal to the chain's boxes.
//!
//! Exits non-zero if any figure is off. Not a test; `scripts/chaos` runs it (a short
//! version runs in `scripts/test`).
//!
//!     scripts/chaos [--lifecycles N] [--kills K] [--seed S]     (defaults 300, 12)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use bitfox_store::diesel::prelude::*;
use serde_json::json;
use tokio::sync::Mutex;

mod support;
use support::*;

struct Args {
    lifecycles: usize,
    kills: usize,
    seed: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args { lifecycles: 300, kills: 12, seed: 0 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--lifecycles" => out.lifecycles = value.parse()?,
            "--kills" => out.kills = value.parse()?,
            "--seed" => out.seed = value.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    out.seed = seed_or_clock(out.seed);
    Ok(out)
}

/// The `bitfox up` process, restarted on the same data directory and ports.
struct Server {
    bin: PathBuf,
    dir: PathBuf,
    api: u16,
    algod: u16,
    process: Option<Process>,
    starts: usize,
}

impl Server {
    fn start(&mut self) -> anyhow::Result<()> {
        self.starts += 1;
        let (data, api, algod) =
            (self.dir.join("data"), self.api.to_string(), self.algod.to_string());
        let env = [
            ("BITFOX_DATA_DIR", data.to_str().context("data dir")?),
            ("BITFOX_DEVNET__PORT", &algod),
        ];
        let name = format!("bitfox-{}", self.starts);
        self.process =
            Some(Process::spawn(&self.bin, &self.dir, &name, &["up", "--port", &api], &env)?);
        Ok(())
    }

    /// SIGKILL: no shutdown hook runs.
    fn kill(&mut self) -> anyhow::Result<()> {
        self.process.take().map_or(Ok(()), |mut p| p.kill())
    }

    /// Fails, with the log's tail, if `bitfox up` has exited.
    fn ensure_running(&mut self) -> anyhow::Result<()> {
        self.process.as_mut().map_or(Ok(()), Process::ensure_running)
    }

    fn log_tail(&self) -> String {
        self.process.as_ref().map(Process::log_tail).unwrap_or_default()
    }
}

/// Investors buy shares, the cluster's GPU is rented and stopped a few times, investors
/// claim while it runs.
async fn cluster_work(client: Client, gpu: i64) -> anyhow::Result<()> {
    for round in 0..2 {
        for (n, investor) in INVESTORS.iter().enumerate() {
            let body = json!({"buyer_address": account(*investor), "count": 10 * (n as u64 + 1)});
            let job =
                client.post("/clusters/1/shares", body, &format!("buy-{round}-{investor}")).await?;
            client.wait(&format!("/jobs/{}", job["id"]), |j| j["state"] == "succeeded").await?;
        }
    }
    for r in 0..CLUSTER_RENTALS {
        let renter = account(INVESTORS[r % 4]);
        let rent = json!({"renter_address": renter, "max_minutes": MINUTES});
        let rental = client.post(&format!("/gpus/{gpu}/rent"), rent, &format!("crent-{r}")).await?;
        let path = rental["links"]["self"].as_str().context("rental link")?.to_owned();
        client.wait(&path, |r| r["status"] == "active").await?;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        client.post(&format!("/gpus/{gpu}/stop"), json!({}), &format!("cstop-{r}")).await?;
        client.wait(&path, |r| r["status"] == "settled").await?;
        claims(&client, &format!("claim-{r}")).await?;
    }
    Ok(())
}

/// Every investor with something due claims it.
async fn claims(client: &Client, prefix: &str) -> anyhow::Result<()> {
    for investor in INVESTORS {
        let body = json!({"holder_address": account(investor)});
        let (status, job) = client
            .send(
                reqwest::Method::POST,
                "/clusters/1/claims",
                Some(&body),
                Some(&format!("{prefix}-{investor}")),
            )
            .await?;
        match status {
            202 => {
                client.wait(&format!("/jobs/{}", job["id"]), |j| j["state"] == "succeeded").await?;
            }
            409 => {} // nothing due
            other => bail!("claim: {other} {job}"),
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let bin = bitfox_bin()?;
    let dir = tempfile::tempdir()?;
    let mut server = Server {
        bin,
        dir: dir.path().to_owned(),
        api: free_port()?,
        algod: free_port()?,
        process: None,
        starts: 0,
    };
    println!(
        "chaos: {} lifecycles, {} kills, seed {}, data {}",
        args.lifecycles,
        args.kills,
        args.seed,
        dir.path().display()
    );
    server.start()?;
    let client = Client::new(
        vec![format!("http://127.0.0.1:{}", server.api)],
        format!("http://127.0.0.1:{}", server.algod),
    );
    // The first start deploys the contract: wait for it, or say why it died.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !client.healthy().await {
        server.ensure_running()?;
        ensure!(Instant::now() < deadline, "bitfox up never answered:\n{}", server.log_tail());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let Baseline { app_id, app_address, before, app_before } =
        baseline(&client, &dir.path().join("data")).await?;

    // The cluster and its GPU, before the chaos.
    let operator = account(OPERATOR);
    let cluster = json!({"operator_address": operator, "name": "chaos rack", "total_shares": SHARES, "price_per_share": PRICE_PER_SHARE});
    client.post("/clusters", cluster, "cluster").await?;
    client.wait("/clusters/1", |c| c["status"] == "active").await?;
    let listing =
        json!({"owner_address": operator, "gpu_model": "H100", "price_per_minute": PRICE});
    let gpu = client.post("/gpus", listing, "cluster-gpu").await?["id"].as_i64().context("id")?;
    client.wait(&format!("/gpus/{gpu}"), |g| g["listing_id"].is_u64()).await?;
    client.post("/clusters/1/gpus", json!({"gpu_id": gpu}), "attach").await?;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let jobs = open_store(dir.path())?;
        let pending: i64 = {
            use bitfox_store::schema::jobs::dsl as j;
            j::jobs
                .filter(j::gpu_id.eq(gpu))
                .filter(j::state.ne("succeeded"))
                .count()
                .get_result(&mut jobs.conn()?)?
        };
        if pending == 0 {
            break;
        }
        ensure!(Instant::now() < deadline, "the cluster GPU never moved into the cluster");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The chaos: the workload, and a killer.
    let started = Instant::now();
    let working = Arc::new(AtomicBool::new(true));
    let kills = Arc::new(AtomicUsize::new(0));
    let server = Arc::new(Mutex::new(server));
    let killer = {
        let (working, kills, server) = (working.clone(), kills.clone(), server.clone());
        let (wanted, seed) = (args.kills, args.seed);
        tokio::spawn(async move {
            let mut rng = Rng(seed);
            while kills.load(Ordering::Relaxed) < wanted && working.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(500 + rng.below(2_000))).await;
                let mut server = server.lock().await;
                server.kill()?;
                kills.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(rng.below(1_000))).await;
                server.start()?;
            }
            anyhow::Ok(())
        })
    };
    let mut tasks = Vec::new();
    // The lifecycles start spread over the time the kills take (2 s a kill), so that every
    // kill lands while work is in flight, however fast the build.
    let spread = args.kills as u64 * 2_000;
    for i in 0..args.lifecycles {
        let client = client.clone();
        let delay = Duration::from_millis(i as u64 * spread / args.lifecycles.max(1) as u64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            (format!("lifecycle {i}"), lifecycle(client, i).await.map(drop))
        }));
    }
    {
        let client = client.clone();
        tasks.push(tokio::spawn(
            async move { ("cluster".to_owned(), cluster_work(client, gpu).await) },
        ));
    }
    let mut failures = Vec::new();
    for task in tasks {
        let (name, result) = task.await?;
        if let Err(e) = result {
            failures.push(format!("{name}: {e:#}"));
        }
    }
    working.store(false, Ordering::Relaxed);
    killer.await??;
    claims(&client, "final-claim").await?;
    let wall = started.elapsed();
    let kills = kills.load(Ordering::Relaxed);

    let store = open_store(dir.path())?;
    wait_for_mirror(&client, &store, app_id).await?;
    let report = verify(&client, &store, app_id, &app_address, &before, app_before).await?;
    println!(
        "kills: {kills} (SIGKILL, restarted each time; {} starts)",
        server.lock().await.starts
    );
    println!("wall: {:.1} s", wall.as_secs_f64());
    println!("lifecycles: {}, failed or lost: {}", args.lifecycles, failures.len());
    for failure in failures.iter().take(5) {
        println!("  {failure}");
    }
    let mut bad = !failures.is_empty() || kills < args.kills;
    for (figure, value, ok) in &report {
        println!("{figure}: {value}{}", if *ok { "" } else { "   <-- WRONG" });
        bad |= !ok;
    }
    server.lock().await.kill()?;
    if bad {
        // Keep the data directory for a post-mortem.
        let kept = dir.keep();
        bail!("chaos found a problem; data kept in {}", kept.display());
    }
    println!("chaos: all figures exact");
    let _ = std::io::stdout().flush();
    Ok(())
}

fn open_store(dir: &Path) -> anyhow::Result<bitfox_store::Store> {
    Ok(bitfox_store::Store::open(&dir.join("data/bitfox.db"), 1)?)
}
