//! Scale-out, end to end: one chain (`bitfox devnet`), one PostgreSQL database, several
//! `bitfox api` processes (HTTP only) and several `bitfox worker` processes (jobs, keeper,
//! watcher), all separate processes, as a deployment behind a load balancer runs them.
//!
//! It drives rent-and-stop lifecycles spread over the APIs, and races: several renters
//! rent one GPU at the same moment through different APIs. Mid-run it SIGKILLs one
//! worker (its leased jobs pass to the other after `jobs.lease_secs`, the keeper and
//! watcher too if it led them) and one API (its clients fail over to the next API,
//! retrying with the same `Idempotency-Key`). Neither is restarted. Then it checks, and
//! prints:
//!
//! * exactly one winner per race (one 202, every other racer 409, one rental recorded);
//! * every lifecycle settled, exactly once on chain; no intent with two committed groups;
//! * every dev account's node balance and the app's balance equal to the records, to the
//!   microAlgo; the watcher's mirror equal to the chain's boxes;
//!
//! and the figures: lifecycles per second, request-to-settled median and p99.
//!
//! With `--database sqlite` the same workload runs through one `bitfox up` process
//! (API and jobs) on a SQLite file and the same standalone devnet: the embedded default,
//! for comparison. Exits non-zero if any check fails. Not a test; `scripts/scale-out` runs
//! it, and `scripts/test` runs it once on the machine's PostgreSQL. The run's database
//! and processes' logs are removed afterwards, unless a check failed or `SCALE_OUT_KEEP`
//! is set.
//!
//!     scripts/scale-out [--lifecycles N] [--races R] [--apis A] [--workers W]
//!                       [--no-kill] [--seed S] [--database postgres|sqlite]
//!                       [--postgres SERVER_URL] [--stagger-ms MS (default 10)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use bitfox_store::DatabaseUrl;
use bitfox_store::diesel::prelude::*;
use bitfox_store::testing::TestDatabase;
use serde_json::json;

mod support;
use support::*;

/// Renters racing for each race's GPU.
const RACERS: usize = 3;
/// The workers' lease: short, so that the killed worker's jobs pass over quickly.
const LEASE_SECS: &str = "10";

struct Args {
    lifecycles: usize,
    races: usize,
    apis: usize,
    workers: usize,
    kill: bool,
    seed: u64,
    sqlite: bool,
    postgres: String,
    /// Between the starts of two lifecycles.
    stagger_ms: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        lifecycles: 300,
        races: 30,
        apis: 3,
        workers: 2,
        kill: true,
        seed: 0,
        sqlite: false,
        stagger_ms: 10,
        postgres: std::env::var(bitfox_store::testing::POSTGRES_ENV)
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-kill" {
            out.kill = false;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--lifecycles" => out.lifecycles = value.parse()?,
            "--races" => out.races = value.parse()?,
            "--apis" => out.apis = value.parse()?,
            "--workers" => out.workers = value.parse()?,
            "--seed" => out.seed = value.parse()?,
            "--stagger-ms" => out.stagger_ms = value.parse()?,
            "--postgres" => out.postgres = value,
            "--database" => match value.as_str() {
                "postgres" => out.sqlite = false,
                "sqlite" => out.sqlite = true,
                other => bail!("--database: postgres or sqlite, not {other}"),
            },
            other => bail!("unknown argument {other}"),
        }
    }
    if out.sqlite {
        // The embedded default: one process, API and jobs.
        (out.apis, out.workers, out.kill) = (1, 0, false);
    }
    ensure!(out.apis >= 1, "--apis must be at least 1");
    ensure!(out.sqlite || out.workers >= 1, "--workers must be at least 1");
    ensure!(!out.kill || (out.apis >= 2 && out.workers >= 2), "killing needs 2 APIs and 2 workers");
    out.seed = seed_or_clock(out.seed);
    Ok(out)
}

/// How a race went: the winner's rental settled; `winners` renters were told 202.
async fn race(client: Client, r: usize) -> anyhow::Result<Duration> {
    let provider = account(2 + (r % 3) as u8);
    let listing =
        json!({"owner_address": provider, "gpu_model": "A100", "price_per_minute": PRICE});
    let gpu = client.post("/gpus", listing, &format!("race-gpu-{r}")).await?;
    let id = gpu["id"].as_i64().context("gpu id")?;
    client.wait(&format!("/gpus/{id}"), |g| g["listing_id"].is_u64()).await?;
    // Every racer at once, each through another API.
    let path = format!("/gpus/{id}/rent");
    let racers: Vec<_> = (0..RACERS)
        .map(|k| {
            let (client, path) = (client.via(r + k), path.clone());
            let body =
                json!({"renter_address": account(INVESTORS[(r + k) % 4]), "max_minutes": MINUTES});
            tokio::spawn(async move {
                let key = format!("race-{r}-{k}");
                let started = Instant::now();
                let (status, answer) =
                    client.send(reqwest::Method::POST, &path, Some(&body), Some(&key)).await?;
                anyhow::Ok((client, status, answer, started))
            })
        })
        .collect();
    let mut winners = Vec::new();
    for racer in racers {
        let (client, status, answer, started) = racer.await??;
        match status {
            202 => winners.push((client, answer, started)),
            409 => {}
            other => bail!("race {r}: a racer got {other} {answer}"),
        }
    }
    ensure!(winners.len() == 1, "race {r}: {} winners", winners.len());
    // Only now, with every racer answered, may the GPU become free again.
    let (client, rental, started) = winners.pop().context("winner")?;
    let rental_path = rental["links"]["self"].as_str().context("rental link")?.to_owned();
    client.wait(&rental_path, |r| r["status"] == "active").await?;
    client.post(&format!("/gpus/{id}/stop"), json!({}), &format!("race-stop-{r}")).await?;
    client.wait(&rental_path, |r| r["status"] == "settled").await?;
    Ok(started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let bin = bitfox_bin()?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let database = if args.sqlite { None } else { Some(TestDatabase::postgres(&args.postgres)) };
    let url = match &database {
        Some(db) => db.url().clone(),
        None => DatabaseUrl::Sqlite(data.join("bitfox.db")),
    };
    let url_text = match &url {
        DatabaseUrl::Postgres(url) => url.clone(),
        DatabaseUrl::Sqlite(path) => path.display().to_string(),
    };
    let algod_port = free_port()?.to_string();
    let data_dir = data.display().to_string();
    let env = [
        ("BITFOX_DATA_DIR", data_dir.as_str()),
        ("BITFOX_DATABASE__URL", url_text.as_str()),
        ("BITFOX_DEVNET__PORT", algod_port.as_str()),
        ("BITFOX_DEVNET__ENABLED", "false"),
    ];
    println!(
        "scale-out: {} lifecycles + {} races of {RACERS}, {} API and {} worker processes on {}, \
         kills {}, seed {}",
        args.lifecycles,
        args.races,
        args.apis,
        if args.sqlite { "(in the API)".to_owned() } else { args.workers.to_string() },
        url.redacted(),
        if args.kill { "1 worker + 1 API" } else { "none" },
        args.seed,
    );

    // The chain, then the schema, then the workers, then the APIs.
    let mut devnet =
        Process::spawn(&bin, dir.path(), "devnet", &["devnet", "--port", &algod_port], &env)?;
    devnet.wait_for_line("Algorand devnet").await?;
    let migrated = Command::new(&bin)
        .current_dir(dir.path())
        .env_remove("BITFOX_CONFIG")
        .envs(env)
        .arg("migrate")
        .output()?;
    ensure!(migrated.status.success(), "migrate: {}", String::from_utf8_lossy(&migrated.stderr));
    let mut workers = Vec::new();
    // All at once: on the empty devnet each would deploy the contract, and they take
    // turns so that it is deployed once.
    for w in 0..args.workers {
        let mut env = env.to_vec();
        env.push(("BITFOX_JOBS__LEASE_SECS", LEASE_SECS));
        workers.push(Process::spawn(&bin, dir.path(), &format!("worker-{w}"), &["worker"], &env)?);
    }
    for worker in &mut workers {
        worker.wait_for_line("  worker ").await?;
    }
    let mut apis = Vec::new();
    let mut urls = Vec::new();
    for a in 0..args.apis {
        let port = free_port()?.to_string();
        let (command, mut env) = (if args.sqlite { "up" } else { "api" }, env.to_vec());
        if !args.sqlite {
            env.push(("BITFOX_JOBS__ENABLED", "false"));
        }
        let api = Process::spawn(
            &bin,
            dir.path(),
            &format!("api-{a}"),
            &[command, "--port", &port],
            &env,
        )?;
        apis.push(api);
        urls.push(format!("http://127.0.0.1:{port}"));
    }
    let client = Client::new(urls, format!("http://127.0.0.1:{algod_port}"));
    for (a, api) in apis.iter_mut().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !client.via(a).healthy().await {
            api.ensure_running()?;
            ensure!(Instant::now() < deadline, "{} never answered:\n{}", api.name, api.log_tail());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let Baseline { app_id, app_address, before, app_before } = baseline(&client, &data).await?;

    // The workload; the lifecycles start spread over a few seconds.
    let started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let total = args.lifecycles + args.races;
    let mut tasks = Vec::new();
    for i in 0..args.lifecycles {
        let (client, done) = (client.via(i), done.clone());
        let delay = Duration::from_millis(i as u64 * args.stagger_ms);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let result = lifecycle(client, i).await;
            done.fetch_add(1, Ordering::Relaxed);
            (format!("lifecycle {i}"), result)
        }));
    }
    for r in 0..args.races {
        let (client, done) = (client.clone(), done.clone());
        let delay = Duration::from_millis(
            (r * args.lifecycles / args.races.max(1)) as u64 * args.stagger_ms,
        );
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let result = race(client, r).await;
            done.fetch_add(1, Ordering::Relaxed);
            (format!("race {r}"), result)
        }));
    }
    // The kills: the first worker (it started first, so it likely leads the keeper and
    // the watcher) a third of the way through, the first API two thirds of the way.
    let mut kills = Vec::new();
    let mut failures = Vec::new();
    let mut latencies = Vec::new();
    let mut pending = tasks.into_iter();
    let mut next = pending.next();
    while let Some(task) = next.take() {
        if args.kill {
            let finished = done.load(Ordering::Relaxed);
            if kills.is_empty() && finished >= total / 3 {
                workers[0].kill()?;
                kills.push(format!("worker-0 after {finished} of {total}"));
            } else if kills.len() == 1 && finished >= total * 2 / 3 {
                apis[0].kill()?;
                kills.push(format!("api-0 after {finished} of {total}"));
            }
        }
        if !task.is_finished() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            next = Some(task);
            continue;
        }
        match task.await? {
            (_, Ok(latency)) => latencies.push(latency),
            (name, Err(e)) => failures.push(format!("{name}: {e:#}")),
        }
        next = pending.next();
    }
    let wall = started.elapsed();

    // The records and the chain (a failure here keeps the logs and data too).
    let checked = async {
        for process in workers.iter_mut().chain(apis.iter_mut()).filter(|p| p.child.is_some()) {
            process.ensure_running()?;
        }
        let store = bitfox_store::Store::connect(&url, 2)?;
        wait_for_mirror(&client, &store, app_id).await?;
        let mut report = verify(&client, &store, app_id, &app_address, &before, app_before).await?;
        let raced: Vec<(i64, i64)> = {
            use bitfox_store::schema::{gpus, rentals};
            rentals::table
                .inner_join(gpus::table)
                .filter(gpus::gpu_model.eq("A100"))
                .group_by(rentals::gpu_id)
                .select((rentals::gpu_id, bitfox_store::diesel::dsl::count_star()))
                .load(&mut store.conn()?)?
        };
        let doubled = raced.iter().filter(|(_, n)| *n != 1).count();
        report.push((
            "races with exactly one rental recorded".to_owned(),
            format!("{} of {}", raced.len() - doubled, args.races),
            doubled == 0 && raced.len() == args.races,
        ));
        anyhow::Ok(report)
    }
    .await;
    let report = checked.unwrap_or_else(|e| {
        failures.push(format!("checks: {e:#}"));
        Vec::new()
    });

    latencies.sort();
    println!("kills: {}", if kills.is_empty() { "none".to_owned() } else { kills.join(", ") });
    println!("requests answered by another API than the one asked first: {}", client.failovers());
    println!("wall: {:.1} s", wall.as_secs_f64());
    println!("lifecycles and races: {total}, failed: {}", failures.len());
    for failure in failures.iter().take(5) {
        println!("  {failure}");
    }
    if !latencies.is_empty() {
        println!(
            "throughput: {:.1} settled lifecycles/s; rent request -> settled: median {} ms, p99 {} ms, max {} ms (clients poll every 250 ms)",
            latencies.len() as f64 / wall.as_secs_f64(),
            percentile(&latencies, 50.0).as_millis(),
            percentile(&latencies, 99.0).as_millis(),
            latencies.last().map_or(0, Duration::as_millis),
        );
    }
    let mut bad = !failures.is_empty() || (args.kill && kills.len() < 2);
    for (figure, value, ok) in &report {
        println!("{figure}: {value}{}", if *ok { "" } else { "   <-- WRONG" });
        bad |= !ok;
    }
    for process in workers.iter_mut().chain(apis.iter_mut()) {
        process.kill()?;
    }
    devnet.kill()?;
    if bad || std::env::var_os("SCALE_OUT_KEEP").is_some() {
        let kept = dir.keep();
        if let Some(db) = database {
            println!("database kept: {}", db.url().redacted());
            std::mem::forget(db);
        }
        println!("logs and data kept in {}", kept.display());
    }
    ensure!(!bad, "scale-out found a problem");
    println!("scale-out: all checks exact");
    Ok(())
}
