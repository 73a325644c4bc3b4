use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bitfox_api::{Application, HttpSettings};
use bitfox_domain::chain::{
    ChainError, ChainPort, ClusterCall, ClusterReceipt, ClusterState, DelistOrder, HolderState,
    Journal, PortFuture, RegisterOrder, RegisterReceipt, RentOrder, RentReceipt, RetireOrder,
    RetireReceipt, SettleOrder, SettleReceipt, SignedGroup, TxReceipt, Unconfigured, UnsignedGroup,
    UpdatePriceOrder,
};
use bitfox_jobs::{JobRunner, JobSettings, Keeper, Outcome};
use bitfox_market::Mode;
use bitfox_store::Store;
use bitfox_store::testing::TestDatabase;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const PROVIDER: &str = "GD64YIY3TWGDMCNPP553DZPPR6LDUSFQOIJVFDPPXWEG3FVOJCCDBBHU5A";
pub const RENTER: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAY5HFKQ";

/// A third valid address, derived from a fixed key.
pub fn stranger() -> String {
    bitfox_domain::Address::from_public_key([7u8; 32]).to_string()
}

/// A chain port whose answers the test scripts in advance.
#[derive(Default)]
pub struct ScriptedChain {
    pub rents: Mutex<VecDeque<Result<RentReceipt, ChainError>>>,
    pub settles: Mutex<VecDeque<Result<SettleReceipt, ChainError>>>,
    /// Answers to registrations; when empty, a registration succeeds with listing id
    /// `100 + gpu id`.
    pub registers: Mutex<VecDeque<Result<RegisterReceipt, ChainError>>>,
    pub register_orders: Mutex<Vec<RegisterOrder>>,
    pub rent_orders: Mutex<Vec<RentOrder>>,
    pub settle_orders: Mutex<Vec<SettleOrder>>,
    /// Price updates and delistings, as (listing id, new price or `None` for a delist).
    pub listing_calls: Mutex<Vec<(u64, Option<u64>)>>,
    /// Answers to delistings; when empty, a delisting succeeds.
    pub delists: Mutex<VecDeque<Result<TxReceipt, ChainError>>>,
    /// Answers to cluster calls, and the calls made.
    pub clusters: Mutex<VecDeque<Result<ClusterReceipt, ChainError>>>,
    pub cluster_calls: Mutex<Vec<ClusterCall>>,
    /// Answers to retirement notices.
    pub retirements: Mutex<VecDeque<Result<RetireReceipt, ChainError>>>,
    /// On-chain cluster records by cluster id, and holder records by (cluster, holder).
    pub cluster_states: Mutex<HashMap<u64, ClusterState>>,
    pub holder_states: Mutex<HashMap<(u64, bitfox_domain::Address), HolderState>>,
    /// Run inside the next rent: the first before, the second after it records the
    /// signed group `RENTGROUP` in its journal, as the real port does before sending
    /// (without hooks a rent records nothing).
    pub rent_hooks: Mutex<Option<(Hook, Hook)>>,
}

/// Something a test does in the middle of a chain call.
pub type Hook = Box<dyn FnOnce() + Send>;

fn scripted<T: Send + 'static>(next: Option<Result<T, ChainError>>) -> PortFuture<'static, T> {
    Box::pin(async move {
        next.unwrap_or_else(|| Err(ChainError::Unavailable("script ran out".into())))
    })
}

impl ChainPort for ScriptedChain {
    fn name(&self) -> &str {
        "scripted"
    }

    fn now(&self) -> PortFuture<'_, u64> {
        scripted(None)
    }

    /// Accepts `SIGNED:<txid>` for each transaction.
    fn accept_signed(
        &self,
        unsigned: &UnsignedGroup,
        signed: &[Vec<u8>],
    ) -> Result<SignedGroup, String> {
        for (i, t) in unsigned.transactions.iter().enumerate() {
            if signed.get(i).map(Vec::as_slice) != Some(format!("SIGNED:{}", t.txid).as_bytes()) {
                return Err(format!("transaction {i} is not signed"));
            }
        }
        Ok(SignedGroup { bytes: signed.concat(), txid: "SIGNEDTXID".into() })
    }

    fn register<'a>(
        &'a self,
        order: &'a RegisterOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, RegisterReceipt> {
        self.register_orders.lock().unwrap().push(order.clone());
        let next = self.registers.lock().unwrap().pop_front().unwrap_or_else(|| {
            let listing_id = 100 + u64::try_from(order.gpu.0).unwrap();
            Ok(RegisterReceipt { txid: format!("REGISTER{listing_id}"), listing_id })
        });
        scripted(Some(next))
    }

    fn update_price<'a>(
        &'a self,
        order: &'a UpdatePriceOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, TxReceipt> {
        self.listing_calls.lock().unwrap().push((order.listing_id, Some(order.price.get())));
        scripted(Some(Ok(TxReceipt { txid: "UPDATETXID".into() })))
    }

    fn delist<'a>(
        &'a self,
        order: &'a DelistOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, TxReceipt> {
        self.listing_calls.lock().unwrap().push((order.listing_id, None));
        let next = self.delists.lock().unwrap().pop_front();
        scripted(Some(next.unwrap_or_else(|| Ok(TxReceipt { txid: "DELISTTXID".into() }))))
    }

    fn announce_retirement<'a>(
        &'a self,
        order: &'a RetireOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, RetireReceipt> {
        self.listing_calls.lock().unwrap().push((order.listing_id, Some(0)));
        scripted(self.retirements.lock().unwrap().pop_front())
    }

    fn cluster<'a>(
        &'a self,
        _app_id: u64,
        call: &'a ClusterCall,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, ClusterReceipt> {
        self.cluster_calls.lock().unwrap().push(call.clone());
        scripted(self.clusters.lock().unwrap().pop_front())
    }

    fn newest_app(&self) -> Option<u64> {
        Some(TEST_APP)
    }

    fn cluster_state(&self, _app_id: u64, cluster_id: u64) -> PortFuture<'_, Option<ClusterState>> {
        let state = self.cluster_states.lock().unwrap().get(&cluster_id).cloned();
        Box::pin(async move { Ok(state) })
    }

    fn holder_state<'a>(
        &'a self,
        _app_id: u64,
        cluster_id: u64,
        holder: &'a bitfox_domain::Address,
    ) -> PortFuture<'a, Option<HolderState>> {
        let state = self.holder_states.lock().unwrap().get(&(cluster_id, *holder)).copied();
        Box::pin(async move { Ok(state) })
    }

    fn rent<'a>(
        &'a self,
        order: &'a RentOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, RentReceipt> {
        self.rent_orders.lock().unwrap().push(order.clone());
        let next = self.rents.lock().unwrap().pop_front();
        let Some((before, after)) = self.rent_hooks.lock().unwrap().take() else {
            return scripted(next);
        };
        Box::pin(async move {
            before();
            let group = SignedGroup { bytes: b"RENTGROUP".to_vec(), txid: "RENTGROUPTXID".into() };
            journal.record(group).await?;
            after();
            scripted(next).await
        })
    }

    fn settle<'a>(
        &'a self,
        order: &'a SettleOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, SettleReceipt> {
        self.settle_orders.lock().unwrap().push(order.clone());
        scripted(self.settles.lock().unwrap().pop_front())
    }
}

/// The parts of the configuration a test app is built with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub http: HttpSettings,
    pub jobs: JobSettings,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub settings: Settings,
    /// The database (SQLite, or PostgreSQL when `BITFOX_TEST_POSTGRES` is set).
    pub db: Arc<TestDatabase>,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

pub struct Options {
    pub mode: Mode,
    /// Run the background job runner (tests that drive jobs step by step turn it off).
    pub runner: bool,
    pub chain: Arc<dyn ChainPort>,
    /// Reuse this database (a restart).
    pub db: Option<Arc<TestDatabase>>,
    pub body_limit: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mode: Mode::Dev,
            runner: false,
            chain: Arc::new(Unconfigured),
            db: None,
            body_limit: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> TestApp {
    let db = options.db.unwrap_or_else(|| Arc::new(TestDatabase::new()));
    let mut settings = Settings {
        mode: options.mode,
        http: HttpSettings::default(),
        jobs: JobSettings::default(),
    };
    settings.http.port = 0;
    settings.http.workers = Some(2);
    settings.http.shutdown_timeout_secs = 2;
    settings.jobs.enabled = options.runner;
    settings.jobs.poll_interval_ms = 20;
    if let Some(limit) = options.body_limit {
        settings.http.body_limit_bytes = limit;
    }
    let store = db.migrated(4);
    let wake = Arc::new(Notify::new());
    let app = Application::build(
        settings.mode,
        settings.http.clone(),
        store.clone(),
        options.chain.clone(),
        wake.clone(),
    )
    .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let shutdown = CancellationToken::new();
    // The server, and (when asked) the background work, as a worker runs it.
    let jobs = settings.jobs.clone();
    let (chain, worker_store, stop) = (options.chain, store.clone(), shutdown.clone());
    let handle = tokio::spawn(async move {
        let background = async {
            if !jobs.enabled {
                return Ok(());
            }
            let runner =
                JobRunner::new(worker_store.clone(), chain.clone(), jobs.clone(), wake.clone());
            let keeper = Keeper::new(worker_store, chain, jobs, wake);
            tokio::try_join!(runner.run(stop.child_token()), keeper.run(stop.child_token()))
                .map(drop)
        };
        let (served, background) = tokio::join!(app.run(stop.clone()), background);
        served.and(background)
    });
    TestApp {
        base,
        client: reqwest::Client::new(),
        store,
        settings,
        db,
        shutdown,
        handle: Some(handle),
    }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request failed")
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json_of(self.request(Method::GET, path, None, &[]).await).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        json_of(self.request(Method::POST, path, Some(body), &[]).await).await
    }

    pub async fn post_as(&self, path: &str, body: Option<Value>, key: &str) -> (StatusCode, Value) {
        let auth = format!("Bearer {key}");
        json_of(self.request(Method::POST, path, body, &[("Authorization", &auth)]).await).await
    }

    /// Lists a GPU for `owner` and returns its id.
    pub async fn list_gpu(&self, owner: &str, model: &str, price: u64) -> i64 {
        let (status, body) = self
            .post(
                "/gpus",
                json!({"owner_address": owner, "gpu_model": model, "price_per_minute": price}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Lists a GPU and runs its registration job through `runner` (which must be idle).
    pub async fn list_on_chain(
        &self,
        runner: &JobRunner,
        owner: &str,
        model: &str,
        price: u64,
    ) -> i64 {
        let id = self.list_gpu(owner, model, price).await;
        let (_, outcome) = step(runner).await.expect("a register job");
        assert_eq!(outcome, Outcome::Succeeded);
        id
    }

    /// A job runner over this app's database, for stepping jobs by hand.
    pub fn runner(&self, chain: Arc<dyn ChainPort>) -> JobRunner {
        JobRunner::new(
            self.store.clone(),
            chain,
            self.settings.jobs.clone(),
            Arc::new(Notify::new()),
        )
    }

    /// A keeper over this app's database, for running passes by hand.
    pub fn keeper(&self, chain: Arc<dyn ChainPort>) -> Keeper {
        Keeper::new(self.store.clone(), chain, self.settings.jobs.clone(), Arc::new(Notify::new()))
    }

    /// Stops the server and the runner; returns the database for a restart.
    pub async fn stop(mut self) -> Arc<TestDatabase> {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
        self.db.clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// Runs one due job with `runner`.
pub async fn step(runner: &JobRunner) -> Option<(i64, Outcome)> {
    runner
        .run_once(&CancellationToken::new())
        .await
        .unwrap()
        .map(|(id, outcome)| (id.get(), outcome))
}

/// A group only `signer`'s wallet can sign (one transaction, id `txid`), as the chain
/// hands it out: `ChainError::NeedsSignature`. `ScriptedChain::accept_signed` takes
/// `SIGNED:<txid>` for it.
pub fn wallet_must_sign(txid: &str, signer: &str) -> ChainError {
    let txn = bitfox_domain::chain::UnsignedTxn {
        txn: "AA==".into(),
        txid: txid.into(),
        signer: signer.parse().unwrap(),
        description: "a transaction for the wallet".into(),
    };
    ChainError::NeedsSignature(bitfox_domain::chain::UnsignedGroup { transactions: vec![txn] })
}

/// The app id a scripted chain's contract has.
pub const TEST_APP: u64 = 1001;

/// The account of [`TEST_APP`], whose holder record is a cluster's unsold shares.
pub fn test_app_account() -> bitfox_domain::Address {
    bitfox_domain::protocol::app_address(TEST_APP)
}

/// Cluster 1, the provider's (100 shares at 5 µAlgo), goes on chain as on-chain cluster 1
/// of [`TEST_APP`] with share asset 900: recorded active, and its record scripted on
/// `chain`. Holder records are the test's to script.
pub async fn cluster_on_chain(app: &TestApp, chain: &ScriptedChain) {
    use bitfox_domain::{ChainId, ClusterId};
    app.store
        .write(|c| {
            bitfox_store::repo::cluster::set_app(c, ClusterId(1), ChainId(TEST_APP))?;
            bitfox_store::repo::cluster::activate(c, ClusterId(1), ChainId(1), ChainId(900), "T", 1)
                .map_err(bitfox_store::StoreError::from)
        })
        .await
        .unwrap();
    let state = ClusterState {
        operator: PROVIDER.parse().unwrap(),
        asset_id: 900,
        total_shares: 100,
        price_per_share: 5,
        acc: 0,
        acc_rem: 0,
    };
    chain.cluster_states.lock().unwrap().insert(1, state);
}
