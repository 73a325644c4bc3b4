//! `bitfox`: the BitFox command.
//!
//! * `bitfox up` — the main job on the embedded default: migrates the database and runs
//!   the embedded Algorand devnet, the API and the job runner in one process.
//! * `bitfox devnet` — the embedded Algorand devnet on its own.
//! * `bitfox api` — the API and job runner against an already migrated database.
//! * `bitfox watch` — the watcher alone: mirrors the contract's events into the database.
//! * `bitfox migrate` — applies database migrations.
//! * `bitfox keys create|list|revoke` — API keys bound to Algorand addresses.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use bitfox_api::config::{LogFormat, Mode, Settings};
use bitfox_api::{Application, auth};
use bitfox_chain::client::Contract;
use bitfox_chain::keystore::{Keystore, KeystoreKey};
use bitfox_chain::port::AlgorandChain;
use bitfox_chain::signer::Keyring;
use bitfox_devnet::node::{DEV_ACCOUNTS, DevAccount, Node};
use bitfox_devnet::server::{self as devnet_server, Shared};
use bitfox_domain::Address;
use bitfox_domain::chain::{ChainPort, Unconfigured};
use bitfox_store::{MIGRATIONS, Store, now_seconds};
use bitfox_watcher::Watcher;
use bitfox_watcher::indexer::Indexer;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// BitFox: a GPU-rental marketplace settled on Algorand.
#[derive(Debug, Parser)]
#[command(name = "bitfox", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML). Defaults to ./bitfox.toml if it exists.
    #[arg(long, global = true, env = "BITFOX_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole stack on the embedded default: migrate, then serve the API and
    /// run the job runner until Ctrl-C / SIGTERM.
    Up {
        /// Port to listen on (overrides the configuration).
        #[arg(long)]
        port: Option<u16>,
        /// Settle on this network instead of the embedded devnet: `localnet`, `testnet`
        /// or `mainnet` (the contract deployed there with `bitfox deploy`; the embedded
        /// devnet is not started).
        #[arg(long)]
        network: Option<String>,
    },
    /// Run the embedded Algorand devnet on its own (algod v2 API, dev accounts).
    Devnet {
        /// Port of the devnet's algod API (overrides the configuration).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Deploy the contract to a network (idempotent; writes
    /// `<data_dir>/deployments/<network>.json`).
    Deploy(DeployTarget),
    /// Follow the contract through the indexer and mirror its events into the database
    /// (`bitfox up` runs the same watcher in-process).
    Watch {
        /// Resync from this round (events already mirrored are skipped).
        #[arg(long)]
        from_round: Option<u64>,
        /// Catch up once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Serve the API and run the job runner (the database must be migrated).
    Api {
        /// Port to listen on (overrides the configuration).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Clusters through the API of a running server (`--api`, default this
    /// configuration's; API key from BITFOX_API_KEY in production).
    Clusters {
        /// The API's base URL.
        #[arg(long, global = true)]
        api: Option<String>,
        #[command(subcommand)]
        command: ClustersCommand,
    },
    /// An address's shares, claimable revenue, rentals and earnings (through the API).
    Portfolio {
        /// The Algorand address.
        address: String,
        /// The API's base URL.
        #[arg(long)]
        api: Option<String>,
    },
    /// Manage the encrypted keystore of server-managed accounts (key from
    /// BITFOX_KEYSTORE_KEY: base64 of 32 random bytes).
    Keystore {
        #[command(subcommand)]
        command: KeystoreCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ClustersCommand {
    /// Create a cluster and its share token (the operator pays the deposit).
    Create {
        #[arg(long)]
        operator: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Shares issued.
        #[arg(long)]
        shares: u64,
        /// microAlgos per share.
        #[arg(long)]
        price: u64,
        /// GPUs of the operator to put in the cluster (repeatable).
        #[arg(long = "gpu")]
        gpus: Vec<i64>,
    },
    /// List the clusters.
    List,
    /// One cluster with its on-chain figures.
    Show { id: i64 },
    /// A cluster's holders, shares and claimable revenue.
    Holders { id: i64 },
    /// Put a GPU of the operator in the cluster.
    Attach {
        id: i64,
        #[arg(long)]
        gpu: i64,
    },
    /// Buy unsold shares.
    Buy {
        id: i64,
        #[arg(long)]
        buyer: String,
        #[arg(long)]
        count: u64,
    },
    /// Transfer shares.
    Transfer {
        id: i64,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        count: u64,
    },
    /// Claim the revenue owed (the operator: its unsold shares').
    Claim {
        id: i64,
        #[arg(long)]
        holder: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeystoreCommand {
    /// Add an account: the one whose 25-word mnemonic is in BITFOX_IMPORT_MNEMONIC, or
    /// a new one with --generate. Prints its address, never its key.
    Add {
        /// A name for the account; `operator` is the key that signs settlements.
        #[arg(long)]
        label: String,
        /// Generate a new account instead of importing one.
        #[arg(long)]
        generate: bool,
    },
    /// List the accounts (addresses and labels).
    List,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key bound to an Algorand address; the key is printed once.
    Create {
        /// The address the key acts as.
        #[arg(long)]
        address: String,
        /// A note to recognise the key by.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List keys (ids, addresses, labels; never the keys).
    List,
    /// Revoke a key by id.
    Revoke {
        /// The key's id, as shown by `keys list`.
        id: i64,
    },
}

fn init_tracing(settings: &Settings) {
    let filter = std::env::var("BITFOX_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| settings.log.filter.clone());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match settings.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let path = settings.database_path();
    Store::open(&path, settings.database.max_connections)
        .with_context(|| format!("opening the database {}", path.display()))
}

fn dev_mode_banner(settings: &Settings) {
    if settings.mode == Mode::Dev {
        tracing::warn!("DEV MODE: the API is open; mutating requests need no API key");
        eprintln!(
            "\n  !!  DEV MODE — the API is OPEN: anyone who can reach it can list, rent and\n  \
             !!  stop without an API key. Set mode = \"production\" for real use.\n"
        );
    }
}

/// Opens the devnet's chain and binds its algod API; prints where it is and the dev
/// accounts.
fn start_devnet(settings: &Settings) -> anyhow::Result<(actix_web::dev::Server, String)> {
    let path = settings.devnet_path();
    let node = Node::open(&path)
        .with_context(|| format!("opening the devnet chain {}", path.display()))?;
    let round = node.round();
    let shared = Shared::new(node, Some(settings.devnet.token.clone()));
    let listener = std::net::TcpListener::bind((settings.devnet.host, settings.devnet.port))
        .with_context(|| format!("binding the devnet to port {}", settings.devnet.port))?;
    let url = format!("http://{}:{}", settings.devnet.host, listener.local_addr()?.port());
    let server = devnet_server::build(shared, listener, 1)?;
    eprintln!("  Algorand devnet {url}  (algod v2 API, round {round}, chain {})", path.display());
    eprintln!("  devnet token    {}", settings.devnet.token);
    eprintln!(
        "  dev accounts    (funded with 1,000,000 Algo each; development keys, never use them elsewhere)"
    );
    for index in 0..DEV_ACCOUNTS {
        let account = DevAccount::new(index);
        let mnemonic =
            algonaut::transaction::account::Account::from_seed(account.key.to_bytes()).mnemonic();
        eprintln!("    #{index} {}", account.address());
        eprintln!("       {mnemonic}");
    }
    eprintln!("  dispenser       {}", DevAccount::dispenser().address());
    eprintln!();
    Ok((server, url))
}

/// Runs `server` until `shutdown` fires.
async fn run_until(
    server: actix_web::dev::Server,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let handle = server.handle();
    let stopper = tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.stop(true).await;
    });
    let result = server.await;
    stopper.abort();
    Ok(result?)
}

fn shutdown_on_signal() -> CancellationToken {
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        bitfox_api::shutdown_signal().await;
        tracing::info!("shutdown requested; draining requests");
        trigger.cancel();
    });
    shutdown
}

async fn devnet_only(settings: Settings) -> anyhow::Result<()> {
    let (server, _) = start_devnet(&settings)?;
    run_until(server, shutdown_on_signal()).await
}

async fn serve(settings: Settings, store: Store, with_devnet: bool) -> anyhow::Result<()> {
    let shutdown = shutdown_on_signal();
    let (devnet, devnet_url) = if with_devnet && settings.devnet.enabled {
        let (server, url) = start_devnet(&settings)?;
        (Some(tokio::spawn(run_until(server, shutdown.clone()))), Some(url))
    } else {
        (None, None)
    };
    let connected = connect_chain(&settings, devnet_url.clone()).await?;
    let watcher = match connected.app_id {
        Some(app_id) if settings.chain.watch => {
            let watcher = watcher_for(&settings, store.clone(), app_id, devnet_url.as_deref())?;
            let interval =
                std::time::Duration::from_millis(settings.chain.watch_interval_ms.max(10));
            let (cancel, failed) = (shutdown.clone(), shutdown.clone());
            Some(tokio::spawn(async move {
                let result = watcher.run(interval, cancel).await;
                if let Err(e) = &result {
                    // A dead watcher must not leave a half-working process behind.
                    tracing::error!(error = %e, "watcher failed; shutting down");
                    failed.cancel();
                }
                result
            }))
        }
        _ => None,
    };
    let app = Application::build(settings.clone(), store, connected.port)?;
    let url = format!("http://{}:{}", settings.http.host, app.port());
    dev_mode_banner(&settings);
    eprintln!("  BitFox API      {url}");
    eprintln!("  API docs        {url}/docs/");
    eprintln!("  OpenAPI         {url}/openapi.json");
    eprintln!("  database        {}", settings.database_path().display());
    eprintln!();
    tracing::info!(%url, mode = settings.mode.as_str(), "serving");
    let result = app.run(shutdown.clone()).await;
    // The API ended (shutdown or failure): stop the watcher and the devnet too.
    shutdown.cancel();
    if let Some(watcher) = watcher {
        watcher.await??;
    }
    if let Some(devnet) = devnet {
        devnet.await??;
    }
    result
}

/// The algod endpoint of `network`: the given URL and token, or the defaults (the
/// devnet's own, LocalNet's well-known ones).
fn endpoint(
    settings: &Settings,
    network: &str,
    url: Option<&str>,
    token: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let url = match (url, network) {
        (Some(url), _) => url.to_owned(),
        (None, "devnet") => format!("http://{}:{}", settings.devnet.host, settings.devnet.port),
        (None, "localnet") => "http://localhost:4001".to_owned(),
        (None, other) => {
            bail!("an algod URL is required for network {other:?} (--algod-url or chain.algod_url)")
        }
    };
    let token = match (token, network) {
        (Some(token), _) => token.to_owned(),
        (None, "devnet") => settings.devnet.token.clone(),
        (None, _) => "a".repeat(64),
    };
    Ok((url, token))
}

fn dev_account(index: u8) -> algonaut::transaction::account::Account {
    algonaut::transaction::account::Account::from_seed(DevAccount::new(index).key.to_bytes())
}

fn mnemonic_account(variable: &str) -> anyhow::Result<algonaut::transaction::account::Account> {
    let mnemonic = std::env::var(variable)
        .with_context(|| format!("set {variable} to the account's 25-word mnemonic"))?;
    algonaut::transaction::account::Account::from_mnemonic(&mnemonic)
        .map_err(|e| anyhow::anyhow!("{variable}: {e:?}"))
}

/// A chain port, and the app it calls (none without a chain).
struct Connected {
    port: Arc<dyn ChainPort>,
    app_id: Option<u64>,
}

/// The watcher of `app_id`, through the configured indexer (by default the devnet's
/// own search, or LocalNet's indexer).
fn watcher_for(
    settings: &Settings,
    store: Store,
    app_id: u64,
    devnet_url: Option<&str>,
) -> anyhow::Result<Watcher> {
    let (url, token) = indexer_endpoint(settings, devnet_url)?;
    eprintln!("  watcher         indexer {url}, app {app_id}");
    Ok(Watcher::new(store, Indexer::new(&url, &token), app_id))
}

/// The indexer of `settings.chain`: the configured one, or the devnet's own search, or
/// LocalNet's.
fn indexer_endpoint(
    settings: &Settings,
    devnet_url: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let network = settings.chain.network.as_str();
    let url = match (&settings.chain.indexer_url, network) {
        (Some(url), _) => url.clone(),
        (None, "devnet") => endpoint(settings, network, devnet_url, None)?.0,
        (None, "localnet") => "http://localhost:8980".to_owned(),
        (None, other) => bail!("chain.indexer_url is required for network {other:?}"),
    };
    let token = match (&settings.chain.indexer_token, network) {
        (Some(token), _) => token.clone(),
        (None, "devnet") => settings.devnet.token.clone(),
        (None, _) => "a".repeat(64),
    };
    Ok((url, token))
}

/// `bitfox watch`: the watcher on its own, against the deployment in the manifest.
async fn watch(
    settings: Settings,
    store: Store,
    from_round: Option<u64>,
    once: bool,
) -> anyhow::Result<()> {
    let network = settings.chain.network.clone();
    let manifest_path = settings.manifest_path(&network);
    let manifest = bitfox_chain::deploy::read_manifest(&manifest_path)?.with_context(|| {
        format!("no deployment manifest at {}: deploy first", manifest_path.display())
    })?;
    let watcher = watcher_for(&settings, store, manifest.app_id, None)?;
    if let Some(round) = from_round {
        watcher.rewind_to(round).await?;
        eprintln!("resyncing from round {round}");
    }
    let progress = watcher
        .sync(|p| {
            eprintln!(
                "mirrored up to round {} of {} ({} events)",
                p.round, p.chain_round, p.applied
            )
        })
        .await?;
    eprintln!(
        "caught up: round {} ({} events applied, {} already mirrored)",
        progress.round, progress.applied, progress.skipped
    );
    if once {
        return Ok(());
    }
    let interval = std::time::Duration::from_millis(settings.chain.watch_interval_ms.max(10));
    Ok(watcher.run(interval, shutdown_on_signal()).await?)
}

/// The chain port of `settings.chain`: on the devnet the contract is deployed once
/// (idempotently) and the dev accounts are signed for; elsewhere the deployment
/// manifest written by `bitfox deploy` names the app and the operator key signs.
async fn connect_chain(
    settings: &Settings,
    devnet_url: Option<String>,
) -> anyhow::Result<Connected> {
    use bitfox_chain::deploy::{self, Outcome, Plan};

    let network = settings.chain.network.as_str();
    if network == "none" {
        eprintln!(
            "  chain           none: rent and stop jobs stay queued (chain.network = \"none\")"
        );
        return Ok(Connected { port: Arc::new(Unconfigured), app_id: None });
    }
    let url = settings.chain.algod_url.clone().or(devnet_url.clone());
    let (url, token) =
        endpoint(settings, network, url.as_deref(), settings.chain.algod_token.as_deref())?;
    let algod = algonaut::Algod::new(&url, &token).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let manifest_path = settings.manifest_path(network);
    let mut keys = Keyring::new();
    // Server-managed accounts, if a keystore key is given.
    let mut managed_operator = None;
    if let Some(key) = keystore_key()? {
        let path = settings.keystore_path();
        for (label, account) in Keystore::open(&path)?.unlock(&key)? {
            let address = keys.insert(account);
            eprintln!("  managed account {address} ({label})");
            if label == "operator" {
                managed_operator = Some(address);
            }
        }
    }
    if let Some(kmd_url) = &settings.chain.kmd_url {
        let token = settings.chain.kmd_token.clone().unwrap_or_else(|| "a".repeat(64));
        let wallet = &settings.chain.kmd_wallet;
        let accounts =
            bitfox_chain::kmd::accounts(kmd_url, &token, wallet, &settings.chain.kmd_password)
                .await?;
        for account in accounts {
            eprintln!("  kmd account     {} ({wallet})", keys.insert(account));
        }
    }
    let (manifest, operator) = if network == "devnet" {
        let admin = dev_account(0);
        let plan = Plan {
            network: network.to_owned(),
            approval: deploy::APPROVAL_TEAL.to_owned(),
            clear: deploy::CLEAR_TEAL.to_owned(),
            treasury: dev_account(9).address(),
            fee_bps: settings.chain.fee_bps,
            manifest: manifest_path.clone(),
            dry_run: false,
            allow_mainnet: false,
        };
        let manifest = match deploy::deploy(&algod, &admin, &plan)
            .await
            .with_context(|| format!("deploying the contract to the devnet at {url}"))?
        {
            Outcome::Deployed(m) | Outcome::AlreadyDeployed(m) => m,
            Outcome::WouldDeploy(_) => bail!("a dry run cannot serve"),
        };
        for index in 0..DEV_ACCOUNTS {
            keys.insert(dev_account(index));
        }
        (manifest, keys.insert(admin))
    } else {
        let manifest = deploy::read_manifest(&manifest_path)?.with_context(|| {
            format!(
                "no deployment manifest at {}: run `bitfox deploy --network {network}` first",
                manifest_path.display()
            )
        })?;
        let operator = match managed_operator {
            Some(operator) => operator,
            None => keys.insert(mnemonic_account("BITFOX_OPERATOR_MNEMONIC").context(
                "no `operator` in the keystore: add it with `bitfox keystore add --label operator`, \
                 or set BITFOX_OPERATOR_MNEMONIC",
            )?),
        };
        (manifest, operator)
    };
    eprintln!(
        "  contract        app {} ({}) on {network}, fee {} bps; manifest {}",
        manifest.app_id,
        manifest.app_address,
        manifest.fee_bps,
        manifest_path.display()
    );
    eprintln!("  operator        {operator} signs settlements");
    let mut contract = Contract::new(algod, manifest.app_id);
    // Without an indexer a group resent after its validity could not be told committed
    // or lost: required.
    let (indexer, indexer_token) = indexer_endpoint(settings, devnet_url.as_deref())?;
    contract = contract.with_indexer(&indexer, &indexer_token);
    // Settlements before a deposit is used up need the contract's admin.
    let admin = contract.global_address("admin").await?;
    if admin != Some(operator) {
        bail!(
            "the operator {operator} is not the contract's admin ({}): settlements would be refused",
            admin.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
        );
    }
    let port = AlgorandChain::new(format!("algorand {network}"), contract, keys, operator);
    Ok(Connected { port: Arc::new(port), app_id: Some(manifest.app_id) })
}

fn pending_migrations(store: &Store) -> anyhow::Result<usize> {
    use bitfox_store::diesel_migrations::MigrationHarness;
    let mut conn = store.conn()?;
    let pending = conn
        .pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("reading migrations: {e}"))?;
    Ok(pending.len())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load(cli.config.as_deref()).context("loading configuration")?;
    init_tracing(&settings);
    match cli.command {
        Command::Up { port, network } => {
            if let Some(port) = port {
                settings.http.port = port;
            }
            if let Some(network) = network {
                if network != "devnet" {
                    settings.devnet.enabled = false;
                }
                settings.chain.network = network;
            }
            let store = open_store(&settings)?;
            let applied = store.migrate()?;
            if !applied.is_empty() {
                tracing::info!(?applied, "applied migrations");
            }
            run_async(serve(settings, store, true))
        }
        Command::Devnet { port } => {
            if let Some(port) = port {
                settings.devnet.port = port;
            }
            run_async(devnet_only(settings))
        }
        Command::Api { port } => {
            if let Some(port) = port {
                settings.http.port = port;
            }
            let store = open_store(&settings)?;
            let pending = pending_migrations(&store)?;
            if pending > 0 {
                bail!(
                    "the database has {pending} pending migration(s): run `bitfox migrate` first"
                );
            }
            run_async(serve(settings, store, false))
        }
        Command::Migrate => {
            let store = open_store(&settings)?;
            let applied = store.migrate()?;
            if applied.is_empty() {
                println!("database is up to date ({})", settings.database_path().display());
            }
            for version in applied {
                println!("applied {version}");
            }
            Ok(())
        }
        Command::Keys { command } => keys(&settings, command),
        Command::Keystore { command } => keystore(&settings, command),
        Command::Clusters { api, command } => {
            let (method, path, body) = clusters_request(command);
            run_async(call_api(&settings, api, method, &path, body))
        }
        Command::Portfolio { address, api } => {
            let path = format!("/accounts/{address}/portfolio");
            run_async(call_api(&settings, api, reqwest::Method::GET, &path, None))
        }
        Command::Watch { from_round, once } => {
            let store = open_store(&settings)?;
            store.migrate()?;
            run_async(watch(settings, store, from_round, once))
        }
        Command::Deploy(target) => run_async(deploy(settings, target)),
    }
}

fn run_async(future: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(future)
}

fn keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let store = open_store(settings)?;
    store.migrate()?;
    let mut conn = store.conn()?;
    match command {
        KeysCommand::Create { address, label } => {
            let address: Address = address
                .parse()
                .map_err(|e| anyhow::anyhow!("--address is not an Algorand address: {e}"))?;
            let (id, key) = auth::create_key(&mut conn, &address, &label, now_seconds())?;
            eprintln!("created key {id} for {address}; it is shown only now:");
            println!("{key}");
        }
        KeysCommand::List => {
            for key in bitfox_store::repo::api_key::list(&mut conn)? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{}\t{state}\t{}", key.id, key.address, key.label);
            }
        }
        KeysCommand::Revoke { id } => {
            if bitfox_store::repo::api_key::revoke(&mut conn, id, now_seconds())? {
                println!("revoked key {id}");
            } else {
                bail!("no active key with id {id}");
            }
        }
    }
    Ok(())
}

/// The HTTP request of a `bitfox clusters` command.
fn clusters_request(
    command: ClustersCommand,
) -> (reqwest::Method, String, Option<serde_json::Value>) {
    use reqwest::Method;
    use serde_json::json;
    match command {
        ClustersCommand::Create { operator, name, description, shares, price, gpus } => (
            Method::POST,
            "/clusters".into(),
            Some(json!({"operator_address": operator, "name": name, "description": description,
                        "total_shares": shares, "price_per_share": price, "gpus": gpus})),
        ),
        ClustersCommand::List => (Method::GET, "/clusters".into(), None),
        ClustersCommand::Show { id } => (Method::GET, format!("/clusters/{id}"), None),
        ClustersCommand::Holders { id } => (Method::GET, format!("/clusters/{id}/holders"), None),
        ClustersCommand::Attach { id, gpu } => {
            (Method::POST, format!("/clusters/{id}/gpus"), Some(json!({"gpu_id": gpu})))
        }
        ClustersCommand::Buy { id, buyer, count } => (
            Method::POST,
            format!("/clusters/{id}/shares"),
            Some(json!({"buyer_address": buyer, "count": count})),
        ),
        ClustersCommand::Transfer { id, from, to, count } => (
            Method::POST,
            format!("/clusters/{id}/transfers"),
            Some(json!({"from_address": from, "to_address": to, "count": count})),
        ),
        ClustersCommand::Claim { id, holder } => (
            Method::POST,
            format!("/clusters/{id}/claims"),
            Some(json!({"holder_address": holder})),
        ),
    }
}

/// Calls the API, prints the JSON answer; an error answer fails with its detail.
async fn call_api(
    settings: &Settings,
    api: Option<String>,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    let base =
        api.unwrap_or_else(|| format!("http://{}:{}", settings.http.host, settings.http.port));
    let mut request = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Ok(key) = std::env::var("BITFOX_API_KEY") {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.with_context(|| format!("calling {base}"))?;
    let status = response.status();
    let answer: serde_json::Value = response.json().await.context("reading the answer")?;
    if !status.is_success() {
        bail!("{status}: {}", answer["detail"].as_str().unwrap_or("request refused"));
    }
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

fn keystore_key() -> anyhow::Result<Option<KeystoreKey>> {
    match std::env::var("BITFOX_KEYSTORE_KEY") {
        Ok(text) => Ok(Some(KeystoreKey::from_base64(&text).context("BITFOX_KEYSTORE_KEY")?)),
        Err(_) => Ok(None),
    }
}

fn keystore(settings: &Settings, command: KeystoreCommand) -> anyhow::Result<()> {
    let path = settings.keystore_path();
    let mut store = Keystore::open(&path)?;
    match command {
        KeystoreCommand::Add { label, generate } => {
            let key = keystore_key()?.context(
                "set BITFOX_KEYSTORE_KEY to the keystore's key (base64 of 32 random bytes)",
            )?;
            // One key per file: the existing entries must open with it.
            store.unlock(&key)?;
            let account = if generate {
                algonaut::transaction::account::Account::generate()
            } else {
                mnemonic_account("BITFOX_IMPORT_MNEMONIC")?
            };
            let address = store.add(&key, &account, &label)?;
            eprintln!("added {label} to {}", path.display());
            println!("{address}");
        }
        KeystoreCommand::List => {
            for (address, label) in store.entries() {
                println!("{address}\t{label}");
            }
        }
    }
    Ok(())
}

/// `bitfox deploy` arguments.
#[derive(Debug, clap::Args)]
struct DeployTarget {
    /// `devnet` (the embedded one, which must be running), `localnet`, `testnet` or
    /// `mainnet`.
    #[arg(long, default_value = "devnet")]
    network: String,
    /// algod URL (default: the devnet's, or LocalNet's http://localhost:4001).
    #[arg(long)]
    algod_url: Option<String>,
    /// algod API token (default: the devnet's, or LocalNet's `a` × 64).
    #[arg(long)]
    algod_token: Option<String>,
    /// Where the platform fee goes (default on devnet: dev account #9).
    #[arg(long)]
    treasury: Option<String>,
    /// Platform fee in basis points (at most 2000).
    #[arg(long, default_value_t = 250)]
    fee_bps: u64,
    /// Print what would be sent, send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Allow deploying to MainNet.
    #[arg(long)]
    allow_mainnet: bool,
}

async fn deploy(settings: Settings, target: DeployTarget) -> anyhow::Result<()> {
    use bitfox_chain::deploy::{self, Outcome, Plan};

    let devnet = target.network == "devnet";
    let (url, token) = endpoint(
        &settings,
        &target.network,
        target.algod_url.as_deref(),
        target.algod_token.as_deref(),
    )?;
    // The deployer's key: a devnet dev account, or a mnemonic from the environment that
    // is never printed. The deployer becomes the contract's admin, which signs
    // settlements: give `bitfox up` the same key as BITFOX_OPERATOR_MNEMONIC.
    let admin = if devnet { dev_account(0) } else { mnemonic_account("BITFOX_DEPLOYER_MNEMONIC")? };
    let treasury = match (&target.treasury, devnet) {
        (Some(text), _) => text.parse().map_err(|e| anyhow::anyhow!("--treasury: {e:?}"))?,
        (None, true) => dev_account(9).address(),
        (None, false) => bail!("--treasury is required outside the devnet"),
    };
    let plan = Plan {
        network: target.network.clone(),
        approval: deploy::APPROVAL_TEAL.to_owned(),
        clear: deploy::CLEAR_TEAL.to_owned(),
        treasury,
        fee_bps: target.fee_bps,
        manifest: settings.manifest_path(&target.network),
        dry_run: target.dry_run,
        allow_mainnet: target.allow_mainnet,
    };
    let algod = algonaut::Algod::new(&url, &token).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    match deploy::deploy(&algod, &admin, &plan).await? {
        Outcome::Deployed(m) => {
            println!(
                "deployed app {} ({}) on {} in round {}",
                m.app_id, m.app_address, m.network, m.created_round
            );
            println!("manifest: {}", plan.manifest.display());
        }
        Outcome::AlreadyDeployed(m) => {
            println!(
                "already deployed: app {} ({}) on {}; nothing sent",
                m.app_id, m.app_address, m.network
            );
        }
        Outcome::WouldDeploy(lines) => {
            println!("dry run; nothing sent. Would:");
            for line in lines {
                println!("  {line}");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_commands() {
        let cli = Cli::try_parse_from(["bitfox", "up", "--port", "0"]).unwrap();
        assert!(matches!(cli.command, Command::Up { port: Some(0), network: None }));
        let cli = Cli::try_parse_from(["bitfox", "up", "--network", "localnet"]).unwrap();
        assert!(matches!(cli.command, Command::Up { network: Some(n), .. } if n == "localnet"));
        let cli = Cli::try_parse_from(["bitfox", "watch", "--from-round", "7", "--once"]).unwrap();
        assert!(matches!(cli.command, Command::Watch { from_round: Some(7), once: true }));
        let cli = Cli::try_parse_from(["bitfox", "--config", "x.toml", "migrate"]).unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("x.toml")));
        assert!(Cli::try_parse_from(["bitfox", "keys", "revoke", "nope"]).is_err());
    }
}
