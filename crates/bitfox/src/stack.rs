//! The long-running processes: which parts run where, started through one
//! [`Supervisor`].
//!
//! | command | devnet | API | job runner, keeper, watcher |
//! | --- | --- | --- | --- |
//! | `bitfox up` | when `devnet.enabled` | yes | when `jobs.enabled` |
//! | `bitfox api` | no | yes | when `jobs.enabled` |
//! | `bitfox worker` | no | no | yes |
//!
//! So an API can run with `jobs.enabled = false` beside one `bitfox worker`, and the two
//! scale separately. WAL checkpointing runs in every process that writes.

use std::sync::Arc;
use std::time::Duration;

use bitfox_api::Application;
use bitfox_domain::ChainId;
use bitfox_jobs::{JobRunner, Keeper};
use bitfox_market::Mode;
use bitfox_store::{JOBS_CHANNEL, Store};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::supervisor::{Supervisor, led};
use crate::{chain, devnet};

/// How often the database's write-ahead log is checkpointed (off the request path).
const CHECKPOINT_PERIOD: Duration = Duration::from_secs(1);

/// What a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// The embedded devnet (if `devnet.enabled`).
    pub devnet: bool,
    /// The HTTP API.
    pub api: bool,
    /// The job runner, the keeper and the watcher (if `chain.watch`).
    pub background: bool,
}

impl Parts {
    /// `bitfox up`: everything in one process.
    pub fn up(settings: &Settings) -> Self {
        Self { devnet: settings.devnet.enabled, api: true, background: settings.jobs.enabled }
    }

    /// `bitfox api`: the API, with the background work unless `jobs.enabled = false`.
    pub fn api(settings: &Settings) -> Self {
        Self { devnet: false, api: true, background: settings.jobs.enabled }
    }

    /// `bitfox worker`: the background work without HTTP.
    pub fn worker() -> Self {
        Self { devnet: false, api: false, background: true }
    }
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

/// Runs `parts` over `store` until `shutdown` fires or a part fails (then everything
/// stops and the failure is returned).
pub async fn run(
    settings: Settings,
    store: Store,
    parts: Parts,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut supervisor = Supervisor::new(shutdown);
    let devnet_url = if parts.devnet {
        let (server, url) = devnet::start(&settings)?;
        supervisor.spawn("devnet", devnet::run_until(server, supervisor.shutdown()));
        Some(url)
    } else {
        None
    };
    // A failure from here on must stop the devnet started above.
    let started = start(&settings, store, parts, devnet_url, &mut supervisor).await;
    if let Err(e) = started {
        supervisor.shutdown().cancel();
        supervisor.wait().await?;
        return Err(e);
    }
    supervisor.wait().await
}

async fn start(
    settings: &Settings,
    store: Store,
    parts: Parts,
    devnet_url: Option<String>,
    supervisor: &mut Supervisor,
) -> anyhow::Result<()> {
    // On the devnet every process deploys the contract if the manifest names none: one
    // at a time, so that processes started together deploy it once.
    let deploying = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.exclusive("deploy")).await??
    };
    let connected = chain::connect(settings, devnet_url.clone()).await?;
    drop(deploying);
    if let Some(&first) = connected.apps.first() {
        // Rows from before contract versions live on the deployment's first app.
        let adopted = store
            .write(move |c| {
                Ok::<_, anyhow::Error>(bitfox_store::repo::adopt_unversioned(c, ChainId(first))?)
            })
            .await?;
        if adopted > 0 {
            eprintln!("  versions        {adopted} earlier rows adopted by app {first}");
        }
    }
    let wake = Arc::new(Notify::new());
    let checkpoints = store.clone();
    let stop = supervisor.shutdown();
    supervisor.spawn("checkpoints", async move {
        checkpoints.checkpoint_every(CHECKPOINT_PERIOD, stop.cancelled_owned()).await;
        Ok(())
    });
    if parts.background {
        let jobs = settings.jobs.clone();
        let runner =
            JobRunner::new(store.clone(), connected.port.clone(), jobs.clone(), wake.clone());
        supervisor.spawn("job runner", runner.run(supervisor.shutdown()));
        if store.shared() {
            // Jobs queued (or ended) by other processes wake this runner at once.
            let (listener, wake, stop) = (store.clone(), wake.clone(), supervisor.shutdown());
            supervisor.spawn("job wake-ups", async move {
                listener.notify_on(JOBS_CHANNEL, wake, stop.cancelled_owned()).await;
                Ok(())
            });
        }
        let keeper = Keeper::new(store.clone(), connected.port.clone(), jobs, wake.clone());
        supervisor.spawn(
            "keeper",
            led(store.clone(), "keeper".to_owned(), supervisor.shutdown(), move |stop| {
                keeper.clone().run(stop)
            }),
        );
        if settings.chain.watch {
            // One watcher per contract version: each app has its own cursor.
            for &app_id in &connected.apps {
                let watcher =
                    chain::watcher_for(settings, store.clone(), app_id, devnet_url.as_deref())?;
                let interval = Duration::from_millis(settings.chain.watch_interval_ms.max(10));
                let role = format!("watcher/{app_id}");
                let task = led(store.clone(), role, supervisor.shutdown(), move |stop| {
                    let watcher = watcher.clone();
                    async move { Ok(watcher.run(interval, stop).await?) }
                });
                supervisor.spawn(format!("watcher of app {app_id}"), task);
            }
        }
    } else {
        eprintln!("  jobs            not run here (jobs.enabled = false): run `bitfox worker`");
    }
    if parts.api {
        let app =
            Application::build(settings.mode, settings.http.clone(), store, connected.port, wake)?;
        let url = format!("http://{}:{}", settings.http.host, app.port());
        dev_mode_banner(settings);
        eprintln!("  BitFox API      {url}");
        eprintln!("  API docs        {url}/docs/");
        eprintln!("  OpenAPI         {url}/openapi.json");
        eprintln!("  database        {}", store_label(settings));
        eprintln!();
        tracing::info!(%url, mode = settings.mode.as_str(), "serving");
        supervisor.spawn("API server", app.run(supervisor.shutdown()));
    } else {
        eprintln!("  worker          database {}", store_label(settings));
        tracing::info!("worker running");
    }
    Ok(())
}

/// A token cancelled at SIGINT (Ctrl-C) or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        bitfox_api::shutdown_signal().await;
        tracing::info!("shutdown requested; draining requests");
        trigger.cancel();
    });
    shutdown
}

/// The database, as the banner shows it (no password).
fn store_label(settings: &Settings) -> String {
    settings.database_url().map_or_else(|e| e.to_string(), |url| url.redacted())
}
