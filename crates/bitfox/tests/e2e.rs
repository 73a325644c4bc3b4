//! End to end on the embedded devnet, as a user runs it: `bitfox up` on a fresh data
//! directory, the seed's HTTP flow with dev accounts, and the money checked by reading
//! balances and the app's state from the node.

mod common;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bitfox_devnet::node::DevAccount;
use bitfox_domain::MicroAlgos;
use bitfox_domain::billing::{FeeBps, PricePerMinute, Settlement};
use serde_json::{Value, json};

use common::*;

const PRICE: u64 = 1_000;
const MINUTES: u64 = 10;
const FEE_BPS: u16 = 250;
const LISTING_MBR: u64 = 28_500;
const RENTAL_MBR: u64 = 38_100;
const MIN_FEE: u64 = 1_000;
const APP_ID: u64 = 1001;

/// A running `bitfox up`.
struct Stack {
    child: Child,
    api: u16,
    algod: u16,
}

fn up(dir: &Path, envs: &[(&str, &str)]) -> Stack {
    let (child, api, banner) = start_with(dir, &["up", "--port", "0"], "BitFox API", envs);
    let devnet = banner.iter().find(|l| l.contains("Algorand devnet")).expect("a devnet URL");
    Stack { child, api, algod: port_of(devnet) }
}

fn json_body(status: &str, body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{status}: {e}: {body:?}"))
}

impl Stack {
    fn get(&self, path: &str) -> Value {
        let (status, body) = http(self.api, "GET", path, "");
        assert!(status.contains("200"), "GET {path}: {status} {body}");
        json_body(&status, &body)
    }

    fn post(&self, path: &str, body: Value) -> (String, Value) {
        let (status, body) = http(self.api, "POST", path, &body.to_string());
        let value = json_body(&status, &body);
        (status, value)
    }

    fn algod(&self, method: &str, path: &str, body: &str) -> Value {
        let token = "a".repeat(64);
        let (status, body) =
            http_with(self.algod, method, path, body, &[("X-Algo-API-Token", &token)]);
        assert!(status.contains("200"), "{method} {path}: {status} {body}");
        json_body(&status, &body)
    }

    fn balance(&self, account: &DevAccount) -> u64 {
        let info = self.algod("GET", &format!("/v2/accounts/{}", account.address()), "");
        info["amount"].as_u64().unwrap()
    }

    fn global(&self, key: &str) -> u64 {
        let app = self.algod("GET", &format!("/v2/applications/{APP_ID}"), "");
        let wanted = B64.encode(key);
        app["params"]["global-state"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == wanted.as_str())
            .map_or(0, |kv| kv["value"]["uint"].as_u64().unwrap())
    }

    /// Moves the chain's clock `seconds` ahead and makes a block, so that the contract
    /// (which reads the latest block's timestamp) sees the new time.
    fn advance(&self, seconds: u64) {
        self.algod("POST", &format!("/v2/devmode/blocks/offset/{seconds}"), "");
        let someone = DevAccount::new(7).address().to_string();
        self.algod(
            "POST",
            "/v2/devnet/fund",
            &json!({"address": someone, "amount": 1}).to_string(),
        );
    }

    /// Polls `path` until `done` holds for its body.
    fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let body = self.get(path);
            if done(&body) {
                return body;
            }
            if Instant::now() >= deadline {
                let jobs: Vec<String> =
                    (1..12).map(|j| http(self.api, "GET", &format!("/jobs/{j}"), "").1).collect();
                panic!("{path} never got there: {body}\njobs: {}", jobs.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn list(&self, provider: &DevAccount) -> i64 {
        let (status, gpu) = self.post(
            "/gpus",
            json!({"owner_address": provider.address().to_string(), "gpu_model": "RTX 4090", "price_per_minute": PRICE}),
        );
        assert!(status.contains("201"), "{status} {gpu}");
        let id = gpu["id"].as_i64().unwrap();
        self.wait_for(&format!("/gpus/{id}"), |g| g["listing_id"].is_u64());
        id
    }

    fn rent(&self, gpu: i64, renter: &DevAccount) -> String {
        let body = json!({"renter_address": renter.address().to_string(), "max_minutes": MINUTES});
        let (status, rental) = self.post(&format!("/gpus/{gpu}/rent"), body);
        assert!(status.contains("202"), "{status} {rental}");
        rental["links"]["self"].as_str().unwrap().to_owned()
    }

    fn stop(self) {
        drop(self);
    }

    /// Waits for the process to end by itself (an injected crash).
    fn crashed(mut self) {
        let status = wait_with_timeout(&mut self.child, Duration::from_secs(30));
        assert!(!status.success(), "the injected crash should end the process: {status}");
    }
}

impl Drop for Stack {
    /// Kills the process (a failing test must not leave it running).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The exact amounts design.md prescribes for a rental that ran from `start` to `end`.
fn expected(start: u64, end: u64) -> Settlement {
    Settlement::compute(
        PricePerMinute::new(PRICE).unwrap(),
        MicroAlgos(PRICE * MINUTES),
        end - start,
        FeeBps::new(FEE_BPS).unwrap(),
    )
}

fn timestamp(value: &Value) -> u64 {
    let text = value.as_str().unwrap();
    let parsed = humantime::parse_rfc3339(text).unwrap();
    parsed.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn the_seed_flow_settles_on_chain_with_the_exact_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(dir.path(), &[]);
    let (provider, renter) = (DevAccount::new(1), DevAccount::new(2));
    let (provider_before, renter_before) = (stack.balance(&provider), stack.balance(&renter));

    let gpu = stack.list(&provider);
    assert_eq!(stack.balance(&provider), provider_before - LISTING_MBR - 2 * MIN_FEE);
    let listed = stack.get("/gpus");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    let rental = stack.rent(gpu, &renter);
    let active = stack.wait_for(&rental, |r| r["status"] == "active");
    let deposit = PRICE * MINUTES;
    assert_eq!(active["deposit"], deposit);
    assert_eq!(stack.balance(&renter), renter_before - deposit - RENTAL_MBR - 2 * MIN_FEE);
    assert_eq!(stack.get(&format!("/gpus/{gpu}"))["status"], "rented");
    let (status, again) = stack.post(
        &format!("/gpus/{gpu}/rent"),
        json!({"renter_address": DevAccount::new(3).address().to_string()}),
    );
    assert!(status.contains("409"), "a rented GPU is refused: {status} {again}");

    stack.advance(125);
    let (status, stopping) = stack.post(&format!("/gpus/{gpu}/stop"), json!({}));
    assert!(status.contains("202"), "{status} {stopping}");
    let settled = stack.wait_for(&rental, |r| r["status"] == "settled");

    let (start, end) = (timestamp(&settled["started_at"]), timestamp(&settled["ended_at"]));
    assert!(end - start >= 125, "{settled}");
    let want = expected(start, end);
    assert_eq!(
        settled["settlement"],
        json!({
            "cost": want.cost.get(),
            "paid_to_provider": want.provider.get(),
            "platform_fee": want.fee.get(),
            "refunded": want.refund.get(),
        })
    );
    assert!(want.cost.get() > 0 && want.refund.get() > 0, "{want:?}");
    // The node agrees to the microAlgo: the provider got cost - fee, the renter paid
    // only the cost and two fees, the fee accrues in the app for the treasury.
    assert_eq!(
        stack.balance(&provider),
        provider_before - LISTING_MBR - 2 * MIN_FEE + want.provider.get()
    );
    assert_eq!(stack.balance(&renter), renter_before - want.cost.get() - 2 * MIN_FEE);
    assert_eq!(stack.global("fees_owed"), want.fee.get());
    assert_eq!(stack.global("n_rental"), 1);
    assert_eq!(stack.get(&format!("/gpus/{gpu}"))["status"], "available");
    assert!(settled["transactions"]["settle"].is_string(), "{settled}");

    // The watcher's mirror equals the chain (and the API) once it has caught up.
    let mirror = Mirror::open(dir.path());
    let deadline = Instant::now() + Duration::from_secs(30);
    while mirror.settled_rentals() < 1 {
        assert!(Instant::now() < deadline, "the watcher never mirrored the settlement");
        std::thread::sleep(Duration::from_millis(50));
    }
    let listing = stack.algod(
        "GET",
        &format!("/v2/applications/{APP_ID}/box?name=b64:{}", B64.encode(key(b'l', 1))),
        "",
    );
    let value = B64.decode(listing["value"].as_str().unwrap()).unwrap();
    let word = |at: usize| u64::from_be_bytes(value[at..at + 8].try_into().unwrap());
    assert_eq!(
        mirror.listing(1),
        (provider.address().to_string(), word(32) as i64, word(40) as i64, word(48) as i64, false)
    );
    assert_eq!(&value[..32], provider.address().public_key());
    let rental = mirror.rental(1);
    assert_eq!(rental.0, settled["transactions"]["rent"].as_str().unwrap());
    assert_eq!(rental.1.as_deref(), settled["transactions"]["settle"].as_str());
    assert_eq!(
        (rental.2, rental.3, rental.4, rental.5),
        (
            Some(want.cost.get() as i64),
            Some(want.fee.get() as i64),
            Some(want.provider.get() as i64),
            Some(want.refund.get() as i64)
        )
    );
    assert_eq!((rental.6, rental.7), (start as i64, Some(end as i64)));
    assert_eq!(mirror.fees() as u64, stack.global("fees_owed"), "mirrored fees = the app's");
    let events = mirror.events();
    assert_eq!(events, ["Initialized", "ListingRegistered", "RentalStarted", "RentalSettled"]);

    // A resync from round 1 replays every round and changes nothing.
    let indexer = format!("http://127.0.0.1:{}", stack.algod);
    let out = bitfox(dir.path())
        .env("BITFOX_CHAIN__INDEXER_URL", &indexer)
        .args(["watch", "--once", "--from-round", "1"])
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("0 events applied, 4 already mirrored"), "{said}");
    assert_eq!(mirror.events(), events);
    assert_eq!(mirror.rental(1), rental);

    // A price change and the delisting go on chain too; the listing's minimum balance
    // comes back to the provider.
    let provider_now = stack.balance(&provider);
    let token = [("Content-Type", "application/json")];
    let (status, _) = http_with(
        stack.api,
        "PATCH",
        &format!("/gpus/{gpu}"),
        r#"{"price_per_minute":900}"#,
        &token,
    );
    assert!(status.contains("200"), "{status}");
    let box_path = format!("/v2/applications/{APP_ID}/box?name=b64:{}", B64.encode(key(b'l', 1)));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listing = stack.algod("GET", &box_path, "");
        let value = B64.decode(listing["value"].as_str().unwrap()).unwrap();
        if u64::from_be_bytes(value[32..40].try_into().unwrap()) == 900 {
            break;
        }
        assert!(Instant::now() < deadline, "the price never reached the chain");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = http_with(stack.api, "DELETE", &format!("/gpus/{gpu}"), "", &[]);
    assert!(status.contains("200"), "{status}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while stack.balance(&provider) != provider_now - MIN_FEE + LISTING_MBR - 2 * MIN_FEE {
        assert!(Instant::now() < deadline, "the delisting never settled on chain");
        std::thread::sleep(Duration::from_millis(50));
    }
    let token = "a".repeat(64);
    let (status, _) = http_with(stack.algod, "GET", &box_path, "", &[("X-Algo-API-Token", &token)]);
    assert!(status.contains("404"), "the listing box is gone: {status}");
    stack.stop();
}

fn key(prefix: u8, id: u64) -> Vec<u8> {
    let mut key = vec![prefix];
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// The watcher's tables, read from the database file.
struct Mirror {
    store: bitfox_store::Store,
}

type RentalMirror =
    (String, Option<String>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, i64, Option<i64>);

impl Mirror {
    fn open(dir: &Path) -> Self {
        Self { store: bitfox_store::Store::open(&dir.join("data/bitfox.db"), 1).unwrap() }
    }

    fn settled_rentals(&self) -> i64 {
        use bitfox_store::diesel::prelude::*;
        use bitfox_store::schema::chain_rentals as r;
        r::table
            .filter(r::settle_txid.is_not_null())
            .count()
            .get_result(&mut self.store.conn().unwrap())
            .unwrap()
    }

    fn listing(&self, id: i64) -> (String, i64, i64, i64, bool) {
        use bitfox_store::diesel::prelude::*;
        use bitfox_store::schema::chain_listings as l;
        l::table
            .filter(l::listing_id.eq(id))
            .select((
                l::provider,
                l::price_per_minute,
                l::cluster_id,
                l::active_rental_id,
                l::delisted,
            ))
            .first(&mut self.store.conn().unwrap())
            .unwrap()
    }

    fn rental(&self, id: i64) -> RentalMirror {
        use bitfox_store::diesel::prelude::*;
        use bitfox_store::schema::chain_rentals as r;
        r::table
            .filter(r::rental_id.eq(id))
            .select((
                r::rent_txid,
                r::settle_txid,
                r::cost,
                r::fee,
                r::provider_amount,
                r::refund,
                r::start,
                r::ended_at,
            ))
            .first(&mut self.store.conn().unwrap())
            .unwrap()
    }

    fn events(&self) -> Vec<String> {
        use bitfox_store::diesel::prelude::*;
        use bitfox_store::schema::chain_events as e;
        e::table.order(e::id).select(e::name).load(&mut self.store.conn().unwrap()).unwrap()
    }

    fn fees(&self) -> i64 {
        use bitfox_store::diesel::prelude::*;
        use bitfox_store::schema::chain_rentals as r;
        let fees: Vec<Option<i64>> =
            r::table.select(r::fee).load(&mut self.store.conn().unwrap()).unwrap();
        fees.into_iter().flatten().sum()
    }
}

#[test]
fn a_crash_before_sending_or_before_recording_sends_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (provider, renter) = (DevAccount::new(4), DevAccount::new(5));
    let stack = up(dir.path(), &[]);
    let gpu = stack.list(&provider);
    let (provider_before, renter_before) = (stack.balance(&provider), stack.balance(&renter));
    stack.stop();

    // 1. The rent group is signed and journalled, then the process dies before
    //    sending it.
    // The process may die before its answer leaves: the client retries with the same
    // Idempotency-Key after the restart and gets the saved answer, as a real client would.
    let stack = up(dir.path(), &[("BITFOX_CRASH_AT", "before-send")]);
    let body = json!({"renter_address": renter.address().to_string(), "max_minutes": MINUTES});
    let keyed = [("Idempotency-Key", "rent-once")];
    let path = format!("/gpus/{gpu}/rent");
    let (status, _) = http_with(stack.api, "POST", &path, &body.to_string(), &keyed);
    assert!(status.is_empty() || status.contains("202"), "{status}");
    stack.crashed();
    let stack = up(dir.path(), &[]);
    let (status, answer) = http_with(stack.api, "POST", &path, &body.to_string(), &keyed);
    assert!(status.contains("202"), "{status} {answer}");
    let rental = json_body(&status, &answer)["links"]["self"].as_str().unwrap().to_owned();
    let active = stack.wait_for(&rental, |r| r["status"] == "active");
    let deposit = PRICE * MINUTES;
    assert_eq!(stack.balance(&renter), renter_before - deposit - RENTAL_MBR - 2 * MIN_FEE);
    assert_eq!(stack.global("n_rental"), 1, "exactly one rental on chain");
    let job = stack.get(active["links"]["job"].as_str().unwrap());
    assert_eq!(job["txid"], active["transactions"]["rent"], "the journalled group was sent");
    stack.advance(30);
    stack.stop();

    // 2. The stop is sent and confirmed on chain, then the process dies before
    //    recording the outcome.
    let stack = up(dir.path(), &[("BITFOX_CRASH_AT", "before-record-outcome")]);
    // The crash comes after the stop was recorded and settled on chain, possibly before
    // the answer left.
    let (status, _) = http(stack.api, "POST", &format!("/gpus/{gpu}/stop"), "{}");
    assert!(status.is_empty() || status.contains("202"), "{status}");
    stack.crashed();
    let stack = up(dir.path(), &[]);
    let settled = stack.wait_for(&rental, |r| r["status"] == "settled");
    let want = expected(timestamp(&settled["started_at"]), timestamp(&settled["ended_at"]));
    assert_eq!(settled["settlement"]["paid_to_provider"], want.provider.get());
    assert_eq!(stack.balance(&provider), provider_before + want.provider.get(), "paid once");
    assert_eq!(stack.balance(&renter), renter_before - want.cost.get() - 2 * MIN_FEE);
    let listed: Vec<Value> = stack.get("/rentals").as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "exactly one rental: {listed:?}");
    stack.stop();
}

#[test]
fn the_keeper_settles_a_used_up_deposit_and_the_rental_expires() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(dir.path(), &[("BITFOX_JOBS__KEEPER_INTERVAL_MS", "50")]);
    let (provider, renter) = (DevAccount::new(6), DevAccount::new(8));
    let gpu = stack.list(&provider);
    let (provider_before, renter_before) = (stack.balance(&provider), stack.balance(&renter));
    let body = json!({"renter_address": renter.address().to_string(), "max_minutes": 1});
    let (status, rental) = stack.post(&format!("/gpus/{gpu}/rent"), body);
    assert!(status.contains("202"), "{status} {rental}");
    let path = rental["links"]["self"].as_str().unwrap().to_owned();
    stack.wait_for(&path, |r| r["status"] == "active");

    // The chain's clock passes the paid minute (and the keeper's grace); nobody stops.
    stack.advance(70);
    let expired = stack.wait_for(&path, |r| r["status"] == "expired");
    let fee = PRICE * u64::from(FEE_BPS) / 10_000;
    assert_eq!(
        expired["settlement"],
        json!({"cost": PRICE, "paid_to_provider": PRICE - fee, "platform_fee": fee, "refunded": 0})
    );
    assert_eq!(timestamp(&expired["ended_at"]) - timestamp(&expired["started_at"]), 60);
    assert_eq!(stack.balance(&provider), provider_before + PRICE - fee);
    assert_eq!(stack.balance(&renter), renter_before - PRICE - 2 * MIN_FEE);
    assert_eq!(stack.get(&format!("/gpus/{gpu}"))["status"], "available");
}

/// A wallet: a key only this test holds. It signs as every Algorand wallet does —
/// ed25519 over `"TX" ‖ msgpack(txn)` — and wraps the signature and the transaction in
/// the canonical signed envelope `{"sig": …, "txn": …}`.
struct Wallet {
    key: ed25519_dalek::SigningKey,
}

impl Wallet {
    fn address(&self) -> String {
        bitfox_domain::Address::from_public_key(self.key.verifying_key().to_bytes()).to_string()
    }

    fn sign(&self, unsigned_b64: &str) -> String {
        use ed25519_dalek::Signer;
        let txn = B64.decode(unsigned_b64).unwrap();
        let mut message = b"TX".to_vec();
        message.extend_from_slice(&txn);
        let sig = self.key.sign(&message).to_bytes();
        B64.encode(bitfox_chain::signer::envelope(&sig, &txn))
    }
}

#[test]
fn a_renter_whose_key_the_server_never_sees_signs_the_deposit_group() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(dir.path(), &[]);
    let wallet = Wallet { key: ed25519_dalek::SigningKey::from_bytes(&[42; 32]) };
    let intruder = Wallet { key: ed25519_dalek::SigningKey::from_bytes(&[43; 32]) };
    let funding = json!({"address": wallet.address(), "amount": 5_000_000}).to_string();
    stack.algod("POST", "/v2/devnet/fund", &funding);
    let provider = DevAccount::new(1);
    let gpu = stack.list(&provider);
    let balance = |address: &str| {
        stack.algod("GET", &format!("/v2/accounts/{address}"), "")["amount"].as_u64().unwrap()
    };
    let before = balance(&wallet.address());

    let body = json!({"renter_address": wallet.address(), "max_minutes": MINUTES});
    let (status, rental) = stack.post(&format!("/gpus/{gpu}/rent"), body);
    assert!(status.contains("202"), "{status} {rental}");
    let rental_path = rental["links"]["self"].as_str().unwrap().to_owned();
    let job_path = rental["links"]["job"].as_str().unwrap().to_owned();
    let job = stack.wait_for(&job_path, |j| j["state"] == "awaiting_signature");
    let group = job["unsigned_group"].as_array().unwrap().clone();
    assert_eq!(group.len(), 2, "payment and app call: {job}");
    assert!(group.iter().all(|t| t["signer"] == wallet.address().as_str()), "{job}");
    assert!(group[0]["description"].as_str().unwrap().contains("pay 48100 microAlgos"), "{job}");
    assert!(group[1]["description"].as_str().unwrap().contains("call rent"), "{job}");

    // A signature by another key is refused and changes nothing.
    let forged: Vec<String> =
        group.iter().map(|t| intruder.sign(t["txn"].as_str().unwrap())).collect();
    let (status, problem) =
        stack.post(&format!("{job_path}/signature"), json!({"signed_transactions": forged}));
    assert!(status.contains("409"), "{status} {problem}");
    assert!(problem["detail"].as_str().unwrap().contains("signature is not"), "{problem}");
    assert_eq!(stack.get(&job_path)["state"], "awaiting_signature");

    let signed: Vec<String> =
        group.iter().map(|t| wallet.sign(t["txn"].as_str().unwrap())).collect();
    let (status, accepted) =
        stack.post(&format!("{job_path}/signature"), json!({"signed_transactions": signed}));
    assert!(status.contains("202"), "{status} {accepted}");
    let active = stack.wait_for(&rental_path, |r| r["status"] == "active");
    assert_eq!(active["transactions"]["rent"], group[1]["txid"], "the wallet's group was sent");
    let deposit = PRICE * MINUTES;
    assert_eq!(balance(&wallet.address()), before - deposit - RENTAL_MBR - 2 * MIN_FEE);

    // The stop needs no wallet: the operator settles, the refund reaches the wallet.
    stack.advance(61);
    let (status, _) = stack.post(&format!("/gpus/{gpu}/stop"), json!({}));
    assert!(status.contains("202"), "{status}");
    let settled = stack.wait_for(&rental_path, |r| r["status"] == "settled");
    let want = expected(timestamp(&settled["started_at"]), timestamp(&settled["ended_at"]));
    assert_eq!(settled["settlement"]["refunded"], want.refund.get());
    assert_eq!(balance(&wallet.address()), before - want.cost.get() - 2 * MIN_FEE);
}

#[test]
fn a_managed_account_in_the_encrypted_keystore_signs_for_its_listing() {
    let dir = tempfile::tempdir().unwrap();
    let key = B64.encode([5u8; 32]);
    let managed = algonaut::transaction::account::Account::from_seed([77; 32]);
    let mnemonic = managed.mnemonic();
    let add = |key: &str, label: &str| {
        bitfox(dir.path())
            .env("BITFOX_KEYSTORE_KEY", key)
            .env("BITFOX_IMPORT_MNEMONIC", &mnemonic)
            .args(["keystore", "add", "--label", label])
            .output()
            .unwrap()
    };
    let out = add(&key, "provider");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let address = text(&out.stdout).trim().to_owned();
    assert_eq!(address, managed.address().to_string());
    let file = std::fs::read_to_string(dir.path().join("data/keystore.json")).unwrap();
    assert!(file.contains(&address) && !file.contains(&mnemonic), "sealed at rest");
    let wrong = add(&B64.encode([6u8; 32]), "again");
    assert!(!wrong.status.success());
    assert!(text(&wrong.stderr).contains("does not open with this key"), "{}", text(&wrong.stderr));
    let list = text(&run(dir.path(), &["keystore", "list"]).stdout);
    assert_eq!(list.trim(), format!("{address}\tprovider"));

    let stack = up(dir.path(), &[("BITFOX_KEYSTORE_KEY", key.as_str())]);
    let funding = json!({"address": address, "amount": 1_000_000}).to_string();
    stack.algod("POST", "/v2/devnet/fund", &funding);
    let (status, gpu) = stack.post(
        "/gpus",
        json!({"owner_address": address, "gpu_model": "H100", "price_per_minute": PRICE}),
    );
    assert!(status.contains("201"), "{status} {gpu}");
    let listed = stack.wait_for(&format!("/gpus/{}", gpu["id"]), |g| g["listing_id"].is_u64());
    assert!(listed["listing_txid"].is_string(), "{listed}");
    let balance = stack.algod("GET", &format!("/v2/accounts/{address}"), "")["amount"].as_u64();
    assert_eq!(balance, Some(1_000_000 - LISTING_MBR - 2 * MIN_FEE));
}

impl Stack {
    fn address_balance(&self, address: &str) -> u64 {
        self.algod("GET", &format!("/v2/accounts/{address}"), "")["amount"].as_u64().unwrap()
    }

    /// POSTs `body` and waits for the job it answers with to succeed.
    fn job(&self, path: &str, body: Value) -> Value {
        let (status, job) = self.post(path, body);
        assert!(status.contains("202"), "{path}: {status} {job}");
        let link = format!("/jobs/{}", job["id"]);
        self.wait_for(&link, |j| {
            assert_ne!(j["state"], "failed", "{path}: {j}");
            j["state"] == "succeeded"
        })
    }

    /// A rental of `gpu` by `renter` for `seconds` of chain time; returns the revenue it
    /// credits (the provider part of its settlement).
    fn rental(&self, gpu: i64, renter: &DevAccount, seconds: u64) -> u64 {
        let path = self.rent(gpu, renter);
        self.wait_for(&path, |r| r["status"] == "active");
        self.advance(seconds);
        let (status, _) = self.post(&format!("/gpus/{gpu}/stop"), json!({}));
        assert!(status.contains("202"), "{status}");
        let settled = self.wait_for(&path, |r| r["status"] == "settled");
        settled["settlement"]["paid_to_provider"].as_u64().unwrap()
    }
}

#[test]
fn investors_earn_their_exact_pro_rata_share_of_a_clusters_rentals() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(dir.path(), &[]);
    let (operator, other, renter, stranger) =
        (DevAccount::new(1), DevAccount::new(2), DevAccount::new(6), DevAccount::new(7));
    let investors = [DevAccount::new(3), DevAccount::new(4), DevAccount::new(5)];
    let addr = |a: &DevAccount| a.address().to_string();
    let gpu = stack.list(&operator);
    let foreign = stack.list(&other);

    let (status, cluster) = stack.post(
        "/clusters",
        json!({"operator_address": addr(&operator), "name": "Rack A", "description": "8×4090",
               "total_shares": 100, "price_per_share": 1_000, "gpus": [gpu]}),
    );
    assert!(status.contains("202"), "{status} {cluster}");
    let cluster = stack.wait_for("/clusters/1", |c| c["status"] == "active");
    assert!(cluster["asset_id"].is_u64(), "{cluster}");
    // The GPU's listing moved into the cluster: delisted and listed again under it.
    stack.wait_for(&format!("/gpus/{gpu}"), |g| g["listing_id"] == 3);
    let (status, problem) = stack.post("/clusters/1/gpus", json!({"gpu_id": foreign}));
    assert!(status.contains("403"), "someone else's GPU: {status} {problem}");

    let operator_before = stack.address_balance(&addr(&operator));
    for (investor, count) in investors.iter().zip([10, 20, 30]) {
        stack.job("/clusters/1/shares", json!({"buyer_address": addr(investor), "count": count}));
    }
    assert_eq!(stack.address_balance(&addr(&operator)), operator_before + 60 * 1_000, "paid");
    let (status, problem) =
        stack.post("/clusters/1/shares", json!({"buyer_address": addr(&stranger), "count": 41}));
    assert!(status.contains("422"), "more than available: {status} {problem}");
    let figures = stack.get("/clusters/1")["chain"].clone();
    assert_eq!(
        (figures["shares_sold"].as_u64(), figures["shares_available"].as_u64()),
        (Some(60), Some(40))
    );

    // Revenue with holdings 10/20/30 (+40 unsold), then 5/20/35 (+40).
    let first = stack.rental(gpu, &renter, 125);
    stack.job(
        "/clusters/1/transfers",
        json!({"from_address": addr(&investors[0]), "to_address": addr(&investors[2]), "count": 5}),
    );
    let (status, problem) = stack.post(
        "/clusters/1/transfers",
        json!({"from_address": addr(&investors[0]), "to_address": addr(&investors[1]), "count": 6}),
    );
    assert!(status.contains("422"), "more than held: {status} {problem}");
    let second = stack.rental(gpu, &renter, 200);
    assert!(first > 0 && second > 0);
    let figures = stack.get("/clusters/1")["chain"].clone();
    assert_eq!(figures["total_revenue"], first + second, "{figures}");
    // Who holds shares comes from the watcher's mirror, which follows the chain.
    let deadline = Instant::now() + Duration::from_secs(30);
    while stack.get("/clusters/1")["chain"]["holders"] != 3 {
        assert!(Instant::now() < deadline, "the mirror never showed 3 holders");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Everyone claims; what the API said was claimable is what the node pays.
    let holders = stack.get("/clusters/1/holders");
    let claimable = |address: &str| {
        holders.as_array().unwrap().iter().find(|h| h["address"] == address).unwrap()["claimable"]
            .as_u64()
            .unwrap()
    };
    let app = holders
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["address"].as_str().unwrap().to_owned())
        .find(|a| !investors.iter().any(|i| addr(i) == *a))
        .unwrap();
    let mut paid = Vec::new();
    for (claimant, record) in
        investors.iter().map(|i| (addr(i), addr(i))).chain([(addr(&operator), app)])
    {
        let before = stack.address_balance(&claimant);
        stack.job("/clusters/1/claims", json!({"holder_address": claimant}));
        let got = stack.address_balance(&claimant) + 2 * MIN_FEE - before;
        assert_eq!(
            got,
            claimable(&record),
            "{claimant}: the API's claimable is what the chain paid"
        );
        paid.push(got);
    }
    // Exact entitlements, in units of 1/100 µAlgo: shares · revenue.
    let exact = [
        10 * first + 5 * second,
        20 * (first + second),
        30 * first + 35 * second,
        40 * (first + second),
    ];
    for (got, exact) in paid.iter().zip(exact) {
        let diff = (i128::from(*got) * 100 - i128::from(exact)).abs();
        assert!(
            diff < 100,
            "paid {got}, entitled to {exact}/100: within the contract's bound of 1 µAlgo"
        );
    }
    assert!(paid.iter().sum::<u64>() <= first + second, "never more than came in");

    // Bad claims change nothing.
    let (status, problem) =
        stack.post("/clusters/1/claims", json!({"holder_address": addr(&stranger)}));
    assert!(status.contains("422"), "a non-holder: {status} {problem}");
    let (status, problem) =
        stack.post("/clusters/1/claims", json!({"holder_address": addr(&investors[1])}));
    assert!(status.contains("409"), "nothing due: {status} {problem}");

    let portfolio = stack.get(&format!("/accounts/{}/portfolio", addr(&investors[2])));
    assert_eq!(portfolio["holdings"][0]["shares"], 35, "{portfolio}");
    assert_eq!(portfolio["claimable_revenue"], 0, "{portfolio}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while stack.get(&format!("/accounts/{}/portfolio", addr(&investors[2])))["claimed_revenue"]
        != paid[2]
    {
        assert!(Instant::now() < deadline, "the watcher never mirrored the claim");
        std::thread::sleep(Duration::from_millis(50));
    }
    let renter_view = stack.get(&format!("/accounts/{}/portfolio", addr(&renter)));
    assert_eq!(renter_view["rentals_as_renter"].as_array().unwrap().len(), 2);
    let operator_view = stack.get(&format!("/accounts/{}/portfolio", addr(&operator)));
    assert_eq!(operator_view["provider_earnings"], 0, "a cluster GPU earns for its holders");
    assert_eq!(operator_view["holdings"][0]["unsold"], true, "{operator_view}");

    // The same through the CLI.
    let api = format!("http://127.0.0.1:{}", stack.api);
    let cli = |args: &[&str]| run(dir.path(), &[args, &["--api", api.as_str()]].concat());
    let shown = cli(&["clusters", "show", "1"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["chain"]["total_revenue"], first + second);
    let refused = cli(&["clusters", "buy", "1", "--buyer", &addr(&stranger), "--count", "1000"]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("40 shares available"), "{}", text(&refused.stderr));
    let portfolio = cli(&["portfolio", &addr(&investors[1])]);
    assert!(text(&portfolio.stdout).contains("\"shares\": 20"), "{}", text(&portfolio.stdout));
}

#[test]
fn a_rental_the_renter_settled_directly_on_chain_is_recorded_from_the_chain() {
    use bitfox_chain::client::Contract;
    use bitfox_chain::signer::Keyring;
    let dir = tempfile::tempdir().unwrap();
    let stack = up(dir.path(), &[]);
    let (provider, renter) = (DevAccount::new(1), DevAccount::new(2));
    let gpu = stack.list(&provider);
    let path = stack.rent(gpu, &renter);
    let active = stack.wait_for(&path, |r| r["status"] == "active");
    stack.advance(90);

    // The renter calls the contract's stop itself, with its own wallet.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("http://127.0.0.1:{}", stack.algod);
        let algod = algonaut::Algod::new(&url, &"a".repeat(64)).unwrap();
        let contract = Contract::new(algod, APP_ID);
        let mut keys = Keyring::new();
        let me =
            keys.insert(algonaut::transaction::account::Account::from_seed(renter.key.to_bytes()));
        let params = contract.params().await.unwrap();
        let listing = stack.get(&format!("/gpus/{gpu}"))["listing_id"].as_u64().unwrap();
        let rental_id = active["chain_rental_id"].as_u64().unwrap();
        let group =
            contract.stop(&params, &me, listing, rental_id, &me, &provider.address(), 0).unwrap();
        let signed = keys.sign_group(group).unwrap();
        contract.send(&signed.bytes, &signed.txid).await.unwrap();
    });

    // The API's stop then finds the rental settled and records the chain's figures.
    let (status, _) = stack.post(&format!("/gpus/{gpu}/stop"), json!({}));
    assert!(status.contains("202"), "{status}");
    let settled = stack.wait_for(&path, |r| r["status"] == "settled");
    let want = expected(timestamp(&settled["started_at"]), timestamp(&settled["ended_at"]));
    assert_eq!(settled["settlement"]["refunded"], want.refund.get());
    assert_eq!(settled["settlement"]["cost"], want.cost.get());
    assert_eq!(stack.get(&format!("/gpus/{gpu}"))["status"], "available");
    assert_eq!(stack.global("n_rental"), 1);
}

/// What a stranger can put on the contract directly (not through the API): a listing
/// priced at u64::MAX (beyond a signed 64-bit column), and a cluster whose URL is not
/// UTF-8 (its ClusterCreated event cannot be decoded). Returns the cluster's txid, or
/// the node's refusal.
fn stranger_calls(algod: u16, app_id: u64) -> Result<String, String> {
    use algonaut::transaction::transaction::TransactionType;
    use bitfox_chain::client::Contract;
    use bitfox_chain::signer::Keyring;
    let stranger = DevAccount::new(5);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("http://127.0.0.1:{algod}");
        let algod = algonaut::Algod::new(&url, &"a".repeat(64)).unwrap();
        let contract = Contract::new(algod, app_id);
        let mut keys = Keyring::new();
        let me = keys
            .insert(algonaut::transaction::account::Account::from_seed(stranger.key.to_bytes()));
        let params = contract.params().await.unwrap();
        let next = contract.global_uint("n_listing").await.unwrap() + 1;
        let listing = contract.register_listing(&params, &me, u64::MAX, 0, next).unwrap();
        let signed = keys.sign_group(listing).unwrap();
        contract.send(&signed.bytes, &signed.txid).await.map_err(|e| e.to_string())?;
        let next = contract.global_uint("n_cluster").await.unwrap() + 1;
        let mut cluster = contract.create_cluster(&params, &me, 100, 5, "ok", next).unwrap();
        if let TransactionType::ApplicationCallTransaction(call) = &mut cluster[1].txn_type {
            call.app_arguments.as_mut().unwrap()[3] = vec![0, 2, 0xff, 0xfe];
        }
        let signed = keys.sign_group(cluster).unwrap();
        Ok(contract.send(&signed.bytes, &signed.txid).await.map_err(|e| e.to_string())?.txid)
    })
}

/// The mirrored events of `app`, in order.
fn app_events(mirror: &Mirror, app: u64) -> Vec<String> {
    use bitfox_store::diesel::prelude::*;
    use bitfox_store::schema::chain_events as e;
    e::table
        .filter(e::app_id.eq(i64::try_from(app).unwrap()))
        .order(e::id)
        .select(e::name)
        .load(&mut mirror.store.conn().unwrap())
        .unwrap()
}

/// `bitfox up --network localnet` against a devnet at `algod`, signing with the
/// keystore's accounts.
fn up_localnet(dir: &Path, algod: u16, keystore_key: &str) -> Stack {
    let url = format!("http://127.0.0.1:{algod}");
    let envs = [
        ("BITFOX_CHAIN__ALGOD_URL", url.as_str()),
        ("BITFOX_CHAIN__INDEXER_URL", url.as_str()),
        ("BITFOX_KEYSTORE_KEY", keystore_key),
    ];
    let args = ["up", "--port", "0", "--network", "localnet"];
    let (child, api, _) = start_with(dir, &args, "BitFox API", &envs);
    Stack { child, api, algod }
}

#[test]
fn a_new_contract_version_takes_new_listings_while_the_old_app_settles_its_rentals() {
    use algonaut::transaction::account::Account;
    let dir = tempfile::tempdir().unwrap();
    // A chain of its own (as LocalNet would be), with contract v1 deployed on it the way
    // an earlier BitFox did.
    let (mut devnet, algod) = start(dir.path(), &["devnet"], "Algorand devnet");
    let url = format!("http://127.0.0.1:{algod}");
    let operator = Account::from_seed(DevAccount::new(0).key.to_bytes());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let v1 = runtime.block_on(async {
        let plan = bitfox_deployer::Plan {
            network: "localnet".into(),
            approval: bitfox_deployer::v1::APPROVAL_TEAL.to_owned(),
            clear: bitfox_deployer::CLEAR_TEAL.to_owned(),
            contract_version: 1,
            treasury: DevAccount::new(9).address().to_string().parse().unwrap(),
            fee_bps: u64::from(FEE_BPS),
            manifest: dir.path().join("data/deployments/localnet.json"),
            dry_run: false,
            allow_mainnet: false,
        };
        let algod = algonaut::Algod::new(&url, &"a".repeat(64)).unwrap();
        match bitfox_deployer::deploy(&algod, &operator, &plan).await.unwrap() {
            bitfox_deployer::Outcome::Deployed(m) => m.app_id(),
            other => panic!("{other:?}"),
        }
    });
    // The server signs for the operator, a provider and a renter (keystore).
    let key = B64.encode([3u8; 32]);
    for (label, index) in [("operator", 0), ("provider", 1), ("renter", 2)] {
        let mnemonic = Account::from_seed(DevAccount::new(index).key.to_bytes()).mnemonic();
        let out = bitfox(dir.path())
            .env("BITFOX_KEYSTORE_KEY", &key)
            .env("BITFOX_IMPORT_MNEMONIC", &mnemonic)
            .args(["keystore", "add", "--label", label])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let (provider, renter) = (DevAccount::new(1), DevAccount::new(2));

    // On v1: a listing and a running rental.
    let stack = up_localnet(dir.path(), algod, &key);
    let old_gpu = stack.list(&provider);
    assert_eq!(stack.get(&format!("/gpus/{old_gpu}"))["app_id"], v1);
    let old_rental = stack.rent(old_gpu, &renter);
    stack.wait_for(&old_rental, |r| r["status"] == "active");
    // A stranger's values that v1 accepts cannot stop the service: the price is mirrored
    // exactly, the undecodable event recorded as an anomaly and skipped.
    let bad_txid = stranger_calls(algod, v1).expect("v1 accepts what v2 refuses");
    let mirror = Mirror::open(dir.path());
    let deadline = Instant::now() + Duration::from_secs(30);
    while bitfox_store::mirror::anomalies(&mut mirror.store.conn().unwrap(), v1).unwrap().is_empty()
    {
        assert!(Instant::now() < deadline, "the watcher stopped: {:?}", app_events(&mirror, v1));
        std::thread::sleep(Duration::from_millis(50));
    }
    let anomalies = bitfox_store::mirror::anomalies(&mut mirror.store.conn().unwrap(), v1).unwrap();
    assert_eq!((anomalies.len(), anomalies[0].txid.as_str()), (1, bad_txid.as_str()));
    assert!(anomalies[0].reason.contains("ClusterCreated"), "{:?}", anomalies[0]);
    assert_eq!(stack.get("/health")["status"], "ok");
    stack.stop();

    // The operator deploys the new version: a new app beside v1.
    let deployed = bitfox(dir.path())
        .env("BITFOX_DEPLOYER_MNEMONIC", operator.mnemonic())
        .args(["deploy", "--network", "localnet", "--algod-url", &url])
        .args(["--treasury", &DevAccount::new(9).address().to_string()])
        .output()
        .unwrap();
    let said = text(&deployed.stdout);
    assert!(deployed.status.success(), "{said}{}", text(&deployed.stderr));
    assert!(said.contains(&format!("contract v1 app {v1} keeps settling")), "{said}");
    let manifest =
        bitfox_deployer::read_manifest(&dir.path().join("data/deployments/localnet.json"))
            .unwrap()
            .unwrap();
    let v2 = manifest.app_id();
    assert_ne!(v2, v1);
    assert_eq!(manifest.versions[0].app_id, v1);

    let stack = up_localnet(dir.path(), algod, &key);
    // New listings go to v2; v2 refuses what a stranger put on v1.
    let new_gpu = stack.list(&provider);
    assert_eq!(stack.get(&format!("/gpus/{new_gpu}"))["app_id"], v2);
    let refused = stranger_calls(algod, v2).expect_err("v2 refuses a price beyond its bounds");
    assert!(refused.contains("logic eval error") || refused.contains("rejected"), "{refused}");
    // The v1 rental is settled on v1, and a rental of the new listing lives on v2.
    let (status, _) = stack.post(&format!("/gpus/{old_gpu}/stop"), json!({}));
    assert!(status.contains("202"), "{status}");
    let settled = stack.wait_for(&old_rental, |r| r["status"] == "settled");
    assert!(settled["settlement"]["cost"].is_u64(), "{settled}");
    let new_rental = stack.rent(new_gpu, &renter);
    let active = stack.wait_for(&new_rental, |r| r["status"] == "active");
    assert_eq!(active["chain_rental_id"], 1, "the first rental on v2: {active}");
    // The watcher follows both apps.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (old, new) = (app_events(&mirror, v1), app_events(&mirror, v2));
        if old.contains(&"RentalSettled".to_owned()) && new.contains(&"RentalStarted".to_owned()) {
            break;
        }
        assert!(Instant::now() < deadline, "v1 {old:?}, v2 {new:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    stack.stop();
    let _ = devnet.kill();
    let _ = devnet.wait();
}

#[test]
fn a_cluster_gpu_with_investors_leaves_only_after_its_notice_and_within_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let stack = up(dir.path(), &[]);
    let (operator, investor) = (DevAccount::new(1), DevAccount::new(3));
    let addr = |a: &DevAccount| a.address().to_string();
    let gpu = stack.list(&operator);
    let (status, cluster) = stack.post(
        "/clusters",
        json!({"operator_address": addr(&operator), "name": "Rack R", "total_shares": 100,
               "price_per_share": 1_000, "gpus": [gpu]}),
    );
    assert!(status.contains("202"), "{status} {cluster}");
    stack.wait_for("/clusters/1", |c| c["status"] == "active");
    stack.wait_for(&format!("/gpus/{gpu}"), |g| g["listing_id"] == 2);
    stack.job("/clusters/1/shares", json!({"buyer_address": addr(&investor), "count": 10}));

    // With an investor holding shares, the GPU cannot simply leave.
    let delist = || http(stack.api, "DELETE", &format!("/gpus/{gpu}"), "");
    let (status, problem) = delist();
    assert!(status.contains("409") && problem.contains("announce its retirement"), "{problem}");
    // The contract itself refuses it too (a stranger's client, not the API's check).
    assert!(
        delist_on_chain(stack.algod, &operator, 2, 1).is_err(),
        "v2 refuses the delisting on chain"
    );

    // The notice: 30 days, then a 7-day window.
    let before = stack.address_balance(&addr(&operator));
    let (status, announced) = stack.post(&format!("/gpus/{gpu}/retirement"), json!({}));
    assert!(status.contains("202"), "{status} {announced}");
    let job = announced["links"]["job"].as_str().unwrap().to_owned();
    stack.wait_for(&job, |j| j["state"] == "succeeded");
    assert_eq!(stack.address_balance(&addr(&operator)), before - 9_300 - 2 * MIN_FEE);
    let listed = stack.get(&format!("/gpus/{gpu}"));
    let effective = timestamp(&listed["retirement_effective_at"]);
    let (status, problem) = stack.post(&format!("/gpus/{gpu}/retirement"), json!({}));
    assert!(
        status.contains("409") && problem.to_string().contains("announced already"),
        "{problem}"
    );
    let (status, problem) = delist();
    assert!(status.contains("409") && problem.contains("takes effect at"), "{problem}");
    // It keeps earning for the cluster meanwhile.
    let revenue = stack.rental(gpu, &DevAccount::new(6), 60);
    assert_eq!(stack.get("/clusters/1")["chain"]["total_revenue"], revenue);

    let now = stack.algod("GET", "/v2/status", "")["last-round"].as_u64().unwrap();
    let round = stack.algod("GET", &format!("/v2/blocks/{now}"), "");
    let chain_now = round["block"]["ts"].as_u64().unwrap();
    // Into the window (with a margin for the clock the last advance left behind).
    stack.advance(effective - chain_now + 120);
    let before = stack.address_balance(&addr(&operator));
    let (status, body) = delist();
    assert!(status.contains("200"), "{status} {body}");
    stack.wait_for("/gpus?status=delisted", |page| {
        page.as_array()
            .is_some_and(|items| items.iter().any(|g| g["id"] == gpu && g["listing_id"].is_null()))
    });
    assert_eq!(
        stack.address_balance(&addr(&operator)),
        before + LISTING_MBR + 9_300 - 2 * MIN_FEE,
        "the listing's and the notice's minimum balances come back"
    );
    stack.stop();
}

/// The provider's own `delist` of listing `listing` in cluster `cluster`, sent straight to
/// the node.
fn delist_on_chain(
    algod: u16,
    provider: &DevAccount,
    listing: u64,
    cluster: u64,
) -> Result<(), String> {
    use bitfox_chain::client::Contract;
    use bitfox_chain::signer::Keyring;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("http://127.0.0.1:{algod}");
        let contract = Contract::new(algonaut::Algod::new(&url, &"a".repeat(64)).unwrap(), APP_ID);
        let mut keys = Keyring::new();
        let me = keys
            .insert(algonaut::transaction::account::Account::from_seed(provider.key.to_bytes()));
        let params = contract.params().await.unwrap();
        let group = contract.delist(&params, &me, listing, cluster).unwrap();
        let signed = keys.sign_group(group).unwrap();
        contract.send(&signed.bytes, &signed.txid).await.map(|_| ()).map_err(|e| e.to_string())
    })
}
