//! What the multi-process examples share: a client that retries through restarts and
//! fails over between API processes, the rent-and-stop lifecycle, and the checks that
//! the records, the node's balances and the watcher's mirror agree to the microAlgo.
//! (`chaos` and `scale_out` include it as a module; it is not an example of its own.)

#![allow(dead_code)] // each example uses part of it

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bitfox_devnet::node::DevAccount;
use bitfox_store::diesel::prelude::*;
use serde_json::{Value, json};

pub const TOKEN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const PRICE: u64 = 1_000;
pub const MINUTES: u64 = 60;
pub const SHARES: u64 = 1_000;
pub const PRICE_PER_SHARE: u64 = 1_000;
pub const OPERATOR: u8 = 1;
pub const INVESTORS: [u8; 4] = [5, 6, 7, 8];
pub const CLUSTER_RENTALS: usize = 3;

/// Fixed fees of each committed group, as contracts/README.md states them.
pub const REGISTER: u64 = 28_500 + 2 * 1_000;
pub const DELIST_FEE: u64 = 2_000;
pub const LISTING_MBR: u64 = 28_500;
pub const RENT_FEES: u64 = 2 * 1_000;
pub const STOP_FEE: u64 = 3_000;
pub const CREATE_CLUSTER: u64 = 173_000 + 1_000 + 2_000;
pub const JOIN: u64 = 34_900 + 2 * 1_000;
pub const OPT_IN: u64 = 1_000;
pub const BUY_FEES: u64 = 1_000 + 2_000;
pub const CLAIM_FEE: u64 = 2_000;

/// A small deterministic generator (xorshift), so a run can be repeated by its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Waits until the watcher's mirror of `app_id` has every round the chain has now.
pub async fn wait_for_mirror(
    client: &Client,
    store: &bitfox_store::Store,
    app_id: u64,
) -> anyhow::Result<()> {
    let chain_round =
        client.algod_get("/v2/status").await?["last-round"].as_i64().context("round")?;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        use bitfox_store::schema::chain_cursors::dsl as c;
        let mirrored: Option<i64> = c::chain_cursors
            .filter(c::app_id.eq(app_id as i64))
            .select(c::round)
            .first(&mut store.conn()?)
            .optional()?;
        if mirrored.unwrap_or(0) >= chain_round {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "the watcher never caught up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the checks compare against: the devnet deployment's newest app (from the
/// manifest in `data`), and every dev account's and the app's balance before the work.
pub struct Baseline {
    pub app_id: u64,
    pub app_address: String,
    pub before: BTreeMap<u8, u64>,
    pub app_before: u64,
}

pub async fn baseline(client: &Client, data: &Path) -> anyhow::Result<Baseline> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("deployments/devnet.json"))?)?;
    let app_id = manifest["versions"]
        .as_array()
        .and_then(|v| v.last())
        .and_then(|v| v["app_id"].as_u64())
        .context("manifest")?;
    let app_address = bitfox_domain::protocol::app_address(app_id).to_string();
    let mut before = BTreeMap::new();
    for index in 0..=9u8 {
        before.insert(index, client.balance(&account(index)).await?);
    }
    let app_before = client.balance(&app_address).await?;
    Ok(Baseline { app_id, app_address, before, app_before })
}

/// The `bitfox` binary under test: `BITFOX_BIN`, else the release build.
pub fn bitfox_bin() -> anyhow::Result<PathBuf> {
    let bin = std::env::var("BITFOX_BIN").unwrap_or_else(|_| "target/release/bitfox".into());
    std::fs::canonicalize(&bin).map_err(|e| anyhow::anyhow!("{bin}: {e}"))
}

/// `seed`, or one from the clock when it is 0 (never 0: xorshift would stay at 0).
pub fn seed_or_clock(seed: u64) -> u64 {
    if seed != 0 {
        return seed;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64 | 1)
}

/// A `bitfox` process, its stderr in a log file.
pub struct Process {
    pub name: String,
    pub child: Option<Child>,
    log: PathBuf,
}

impl Process {
    pub fn spawn(
        bin: &Path,
        dir: &Path,
        name: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let log = dir.join(format!("{name}.log"));
        let mut command = Command::new(bin);
        command
            .current_dir(dir)
            .env_remove("BITFOX_CONFIG")
            .env_remove("BITFOX_BIN")
            .env("BITFOX_LOG", "warn")
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().with_context(|| format!("starting {name}"))?;
        Ok(Self { name: name.to_owned(), child: Some(child), log })
    }

    /// SIGKILL: no shutdown hook runs.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Fails, with the log's tail, if the process has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
            bail!("{} exited with {status}:\n{}", self.name, self.log_tail());
        }
        Ok(())
    }

    /// Waits until the log has a line containing `text`.
    pub async fn wait_for_line(&mut self, text: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if std::fs::read_to_string(&self.log).unwrap_or_default().contains(text) {
                return Ok(());
            }
            self.ensure_running()?;
            ensure!(Instant::now() < deadline, "{} never said {text:?}", self.name);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The API processes; a request goes to `apis[first]`, and while that one does not
    /// answer, to the next (as a load balancer fails over).
    apis: Arc<Vec<String>>,
    first: usize,
    /// Requests answered by another API than the one first asked.
    failovers: Arc<AtomicUsize>,
    algod: String,
}

impl Client {
    pub fn new(apis: Vec<String>, algod: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            apis: Arc::new(apis),
            first: 0,
            failovers: Arc::default(),
            algod,
        }
    }

    /// This client, asking API `index` (modulo their number) first.
    pub fn via(&self, index: usize) -> Self {
        Self { first: index % self.apis.len(), ..self.clone() }
    }

    /// The API this client asks first.
    pub fn api(&self) -> &str {
        &self.apis[self.first]
    }

    /// Whether the API this client asks first answers `GET /health`.
    pub async fn healthy(&self) -> bool {
        let url = format!("{}/health", self.api());
        self.http.get(url).send().await.is_ok_and(|r| r.status().is_success())
    }

    /// How many requests another API than the first asked answered.
    pub fn failovers(&self) -> usize {
        self.failovers.load(Ordering::Relaxed)
    }

    /// Sends until an answer arrives (an API may be down, being killed or restarting:
    /// the next one is asked); POSTs carry `key` so that a retry is replayed, not
    /// repeated.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> anyhow::Result<(u16, Value)> {
        let deadline = Instant::now() + Duration::from_secs(900);
        let mut attempt = 0;
        loop {
            let api = &self.apis[(self.first + attempt) % self.apis.len()];
            let mut request = self.http.request(method.clone(), format!("{api}{path}"));
            if let Some(body) = body {
                request = request.json(body);
            }
            if let Some(key) = key {
                request = request.header("Idempotency-Key", key);
            }
            // No answer (the server is down or restarting), or a 503: try again.
            if let Ok(response) = request.timeout(Duration::from_secs(30)).send().await {
                let status = response.status().as_u16();
                if let Ok(value) = response.json::<Value>().await
                    && status != 503
                {
                    if attempt % self.apis.len() != 0 {
                        self.failovers.fetch_add(1, Ordering::Relaxed);
                    }
                    return Ok((status, value));
                }
            }
            ensure!(Instant::now() < deadline, "{method} {path}: no answer for 15 minutes");
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn post(&self, path: &str, body: Value, key: &str) -> anyhow::Result<Value> {
        let (status, value) =
            self.send(reqwest::Method::POST, path, Some(&body), Some(key)).await?;
        ensure!((200..300).contains(&status), "POST {path}: {status} {value}");
        Ok(value)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let (status, value) = self.send(reqwest::Method::GET, path, None, None).await?;
        ensure!(status == 200, "GET {path}: {status} {value}");
        Ok(value)
    }

    /// Polls `path` until `done` holds.
    pub async fn wait(&self, path: &str, done: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            let value = self.get(path).await?;
            if done(&value) {
                return Ok(value);
            }
            ensure!(value["status"] != "failed", "{path} failed: {value}");
            ensure!(value["status"] != "cancelled", "{path} was cancelled: {value}");
            ensure!(value["state"] != "failed", "{path} failed: {value}");
            ensure!(Instant::now() < deadline, "{path} never got there: {value}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub async fn algod_get(&self, path: &str) -> anyhow::Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let sent = self
                .http
                .get(format!("{}{path}", self.algod))
                .header("X-Algo-API-Token", TOKEN)
                .send()
                .await;
            if let Ok(response) = sent
                && response.status().is_success()
            {
                return Ok(response.json().await?);
            }
            ensure!(Instant::now() < deadline, "algod {path} does not answer");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn balance(&self, address: &str) -> anyhow::Result<u64> {
        let info = self.algod_get(&format!("/v2/accounts/{address}")).await?;
        info["amount"].as_u64().context("no amount")
    }
}

pub fn account(index: u8) -> String {
    DevAccount::new(index).address().to_string()
}

/// One rent-and-stop lifecycle on a GPU of its own; returns the time from the rent
/// request to the settlement seen.
pub async fn lifecycle(client: Client, i: usize) -> anyhow::Result<Duration> {
    let provider = account(2 + (i % 3) as u8);
    let renter = account(INVESTORS[i % 4]);
    let listing =
        json!({"owner_address": provider, "gpu_model": "RTX 4090", "price_per_minute": PRICE});
    let gpu = client.post("/gpus", listing, &format!("gpu-{i}")).await?;
    let id = gpu["id"].as_i64().context("gpu id")?;
    client.wait(&format!("/gpus/{id}"), |g| g["listing_id"].is_u64()).await?;
    let started = Instant::now();
    let rent = json!({"renter_address": renter, "max_minutes": MINUTES});
    let rental = client.post(&format!("/gpus/{id}/rent"), rent, &format!("rent-{i}")).await?;
    let path = rental["links"]["self"].as_str().context("rental link")?.to_owned();
    client.wait(&path, |r| r["status"] == "active").await?;
    client.post(&format!("/gpus/{id}/stop"), json!({}), &format!("stop-{i}")).await?;
    client.wait(&path, |r| r["status"] == "settled").await?;
    Ok(started.elapsed())
}

pub type Figure = (String, String, bool);

pub fn figure(name: &str, got: impl std::fmt::Display, ok: bool) -> Figure {
    (name.to_owned(), got.to_string(), ok)
}

/// Every check of the module docs; each figure with whether it is exact.
pub async fn verify(
    client: &Client,
    store: &bitfox_store::Store,
    app_id: u64,
    app_address: &str,
    before: &BTreeMap<u8, u64>,
    app_before: u64,
) -> anyhow::Result<Vec<Figure>> {
    use bitfox_store::schema::{
        chain_clusters, chain_events, chain_holdings, chain_listings, chain_rentals, gpus, jobs,
        rentals,
    };
    let mut conn = store.conn()?;
    let mut out = Vec::new();
    let app = app_id as i64;

    // Rentals: every one settled, once.
    type RentalRow = (i64, String, String, i64, String, Option<i64>, Option<i64>, Option<i64>);
    let all: Vec<RentalRow> = rentals::table
        .select((
            rentals::id,
            rentals::renter_address,
            rentals::provider_address,
            rentals::gpu_id,
            rentals::status,
            rentals::provider_amount,
            rentals::refund,
            rentals::chain_rental_id,
        ))
        .load(&mut conn)?;
    let deposits: HashMap<i64, i64> = rentals::table
        .select((rentals::id, rentals::deposit))
        .load(&mut conn)?
        .into_iter()
        .collect();
    let settled = all.iter().filter(|r| r.4 == "settled").count();
    out.push(figure(
        "rentals recorded / settled",
        format!("{} / {settled}", all.len()),
        settled == all.len(),
    ));
    let n_rental = global(client, app_id, "n_rental").await?;
    out.push(figure("rentals on chain (n_rental)", n_rental, n_rental == all.len() as u64));
    let count = |name: &str, conn: &mut bitfox_store::Conn| -> anyhow::Result<i64> {
        Ok(chain_events::table
            .filter(chain_events::app_id.eq(app))
            .filter(chain_events::name.eq(name))
            .count()
            .get_result(conn)?)
    };
    let (started, ended) = (count("RentalStarted", &mut conn)?, count("RentalSettled", &mut conn)?);
    out.push(figure(
        "RentalStarted / RentalSettled events",
        format!("{started} / {ended}"),
        started == all.len() as i64 && ended == started,
    ));
    let settled_on_chain: Vec<i64> = chain_rentals::table
        .filter(chain_rentals::app_id.eq(app))
        .filter(chain_rentals::settle_txid.is_not_null())
        .select(chain_rentals::rental_id)
        .load(&mut conn)?;
    let mut ids: Vec<i64> = all.iter().filter_map(|r| r.7).collect();
    ids.sort_unstable();
    let mut chain_ids = settled_on_chain.clone();
    chain_ids.sort_unstable();
    out.push(figure("rentals settled exactly once on chain", chain_ids.len(), ids == chain_ids));

    // No intent signed twice: one signed group per job, and no two jobs of one rental.
    // (id, kind, rental, signed txid, state)
    type Job = (i64, String, Option<i64>, Option<String>, String);
    let signed: Vec<Job> = jobs::table
        .select((jobs::id, jobs::kind, jobs::rental_id, jobs::signed_txid, jobs::state))
        .load(&mut conn)?;
    let mut per_intent: HashMap<(String, i64), usize> = HashMap::new();
    for (_, kind, rental, txid, state) in &signed {
        if let (Some(rental), Some(_), "succeeded") = (rental, txid, state.as_str()) {
            *per_intent.entry((kind.clone(), *rental)).or_default() += 1;
        }
    }
    let twice = per_intent.values().filter(|n| **n > 1).count();
    out.push(figure("intents with more than one committed group", twice, twice == 0));
    let unfinished = signed.iter().filter(|j| j.4 != "succeeded").count();
    out.push(figure("jobs not succeeded", unfinished, unfinished == 0));

    // Balances, from what was recorded.
    let mut expect: BTreeMap<String, i128> = BTreeMap::new();
    let mut add = |who: &str, amount: i128| *expect.entry(who.to_owned()).or_default() += amount;
    let operator0 = account(0);
    let gpu_rows: Vec<(i64, String)> =
        gpus::table.select((gpus::id, gpus::owner_address)).load(&mut conn)?;
    let owners: HashMap<i64, String> = gpu_rows.into_iter().collect();
    let committed = |kind: &'static str| {
        signed.iter().filter(move |j| j.1 == kind && j.3.is_some() && j.4 == "succeeded")
    };
    let job_gpus: Vec<(i64, Option<i64>)> =
        jobs::table.select((jobs::id, jobs::gpu_id)).load(&mut conn)?;
    let job_gpu: HashMap<i64, Option<i64>> = job_gpus.into_iter().collect();
    for job in committed("register") {
        let owner = &owners[&job_gpu[&job.0].context("register job without GPU")?];
        add(owner, -(REGISTER as i128));
    }
    for job in committed("delist") {
        let owner = &owners[&job_gpu[&job.0].context("delist job without GPU")?];
        add(owner, LISTING_MBR as i128 - DELIST_FEE as i128);
    }
    for (id, renter, provider, _, status, provider_amount, refund, _) in &all {
        if status != "settled" {
            continue;
        }
        let deposit = i128::from(deposits[id]);
        add(renter, -deposit - RENT_FEES as i128 + i128::from(refund.unwrap_or(0)));
        if provider != &account(OPERATOR) {
            add(provider, i128::from(provider_amount.unwrap_or(0)));
        }
        add(&operator0, -(STOP_FEE as i128));
    }
    let payloads: Vec<(String, Option<String>, Option<String>, String)> = jobs::table
        .select((jobs::kind, jobs::payload, jobs::signed_txid, jobs::state))
        .load(&mut conn)?;
    for (kind, payload, txid, state) in &payloads {
        if txid.is_none() || state != "succeeded" {
            continue;
        }
        let p: Value =
            payload.as_deref().map(serde_json::from_str).transpose()?.unwrap_or(Value::Null);
        let holder = p["holder"].as_str().unwrap_or_default().to_owned();
        match kind.as_str() {
            "create_cluster" => add(&account(OPERATOR), -(CREATE_CLUSTER as i128)),
            "join_cluster" => add(&holder, -(JOIN as i128)),
            "opt_in" => add(&holder, -(OPT_IN as i128)),
            "buy_shares" => {
                let paid =
                    i128::from(p["count"].as_u64().context("count")?) * PRICE_PER_SHARE as i128;
                add(&holder, -paid - BUY_FEES as i128);
                add(&account(OPERATOR), paid);
            }
            "claim" => add(&holder, -(CLAIM_FEE as i128)),
            _ => {}
        }
    }
    let claimed: Vec<(String, i64)> = chain_holdings::table
        .filter(chain_holdings::app_id.eq(app))
        .select((chain_holdings::holder, chain_holdings::claimed))
        .load(&mut conn)?;
    for (holder, amount) in &claimed {
        add(holder, i128::from(bitfox_store::mirror::chain_value(*amount)));
    }
    let mut off = Vec::new();
    for (index, was) in before {
        let address = account(*index);
        let want = i128::from(*was) + expect.get(&address).copied().unwrap_or(0);
        let got = i128::from(client.balance(&address).await?);
        if got != want {
            off.push(format!("dev #{index}: node {got}, expected {want} ({:+})", got - want));
        }
    }
    out.push(figure(
        "accounts whose node balance differs from the records",
        if off.is_empty() { "0 of 10".to_owned() } else { off.join("; ") },
        off.is_empty(),
    ));

    // The app account: its own minimum, boxes, share ASAs, fees owed, unclaimed revenue.
    let live_listings: i64 = chain_listings::table
        .filter(chain_listings::app_id.eq(app))
        .filter(chain_listings::delisted.eq(false))
        .count()
        .get_result(&mut conn)?;
    let clusters: i64 = chain_clusters::table
        .filter(chain_clusters::app_id.eq(app))
        .count()
        .get_result(&mut conn)?;
    let holders: i64 = chain_holdings::table
        .filter(chain_holdings::app_id.eq(app))
        .filter(chain_holdings::holder.ne(app_address))
        .count()
        .get_result(&mut conn)?;
    let revenue: i64 = chain_clusters::table
        .filter(chain_clusters::app_id.eq(app))
        .select(chain_clusters::revenue)
        .first(&mut conn)
        .unwrap_or(0);
    let claimed_total: i128 =
        claimed.iter().map(|(_, a)| i128::from(bitfox_store::mirror::chain_value(*a))).sum();
    let fees_owed = global(client, app_id, "fees_owed").await?;
    let want = i128::from(app_before)
        + i128::from(live_listings) * LISTING_MBR as i128
        + i128::from(clusters) * 173_000
        + i128::from(holders) * 34_900
        + i128::from(fees_owed)
        + i128::from(bitfox_store::mirror::chain_value(revenue))
        - claimed_total;
    let got = i128::from(client.balance(app_address).await?);
    out.push(figure(
        "app balance = minimum + listing boxes + clusters + holder records + fees owed + unclaimed revenue",
        format!("{got} (expected {want})"),
        got == want,
    ));

    // The mirror against the chain's boxes.
    let boxes = client.algod_get(&format!("/v2/applications/{app_id}/boxes")).await?;
    let names: Vec<Vec<u8>> = boxes["boxes"]
        .as_array()
        .context("boxes")?
        .iter()
        .filter_map(|b| B64.decode(b["name"].as_str()?).ok())
        .collect();
    let chain_live: usize = names.iter().filter(|n| n.first() == Some(&b'l')).count();
    let rental_boxes: usize = names.iter().filter(|n| n.first() == Some(&b'r')).count();
    let mirrored_open: i64 = chain_rentals::table
        .filter(chain_rentals::app_id.eq(app))
        .filter(chain_rentals::settle_txid.is_null())
        .count()
        .get_result(&mut conn)?;
    out.push(figure(
        "mirror = chain (live listing boxes, open rental boxes)",
        format!("listings {live_listings} vs {chain_live}, open rentals {mirrored_open} vs {rental_boxes}"),
        live_listings as usize == chain_live && mirrored_open as usize == rental_boxes,
    ));
    let mut shares_off = 0;
    let holdings: Vec<(String, i64)> = chain_holdings::table
        .filter(chain_holdings::app_id.eq(app))
        .select((chain_holdings::holder, chain_holdings::shares))
        .load(&mut conn)?;
    for (holder, shares) in &holdings {
        let address: bitfox_domain::Address = holder.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
        // The holder record's box: "h" ‖ cluster id ‖ address.
        let mut name = vec![b'h'];
        name.extend_from_slice(&1u64.to_be_bytes());
        name.extend_from_slice(address.public_key());
        let value = client
            .algod_get(&format!("/v2/applications/{app_id}/box?name=b64:{}", B64.encode(&name)))
            .await?;
        let bytes = B64.decode(value["value"].as_str().context("box value")?)?;
        let on_chain = u64::from_be_bytes(bytes[..8].try_into()?);
        if on_chain != bitfox_store::mirror::chain_value(*shares) {
            shares_off += 1;
        }
    }
    out.push(figure(
        "mirrored share holdings differing from the chain",
        shares_off,
        shares_off == 0,
    ));
    Ok(out)
}

pub async fn global(client: &Client, app_id: u64, key: &str) -> anyhow::Result<u64> {
    let app = client.algod_get(&format!("/v2/applications/{app_id}")).await?;
    let wanted = B64.encode(key);
    Ok(app["params"]["global-state"]
        .as_array()
        .context("global state")?
        .iter()
        .find(|kv| kv["key"] == wanted.as_str())
        .and_then(|kv| kv["value"]["uint"].as_u64())
        .unwrap_or(0))
}
