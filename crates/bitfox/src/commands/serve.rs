//! `bitfox up`, `bitfox api`, `bitfox worker` and `bitfox devnet`: the long-running
//! commands (see [`crate::stack`] for which parts each runs).

use anyhow::bail;
use tokio_util::sync::CancellationToken;

use crate::config::{Network, Settings};
use crate::stack::{self, Parts};
use crate::{devnet, open_store};

use super::migrate::pending_migrations;

/// `bitfox up`: migrates the database, then runs the devnet (unless disabled), the API
/// and the background work in one process. `network` other than the devnet settles
/// there instead (the embedded devnet is not started).
pub async fn up(
    mut settings: Settings,
    port: Option<u16>,
    network: Option<Network>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if let Some(port) = port {
        settings.http.port = port;
    }
    if let Some(network) = network {
        if network != Network::Devnet {
            settings.devnet.enabled = false;
        }
        settings.chain.network = network;
    }
    let store = open_store(&settings)?;
    let applied = store.migrate()?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    let parts = Parts::up(&settings);
    stack::run(settings, store, parts, shutdown).await
}

/// `bitfox api`: the API (and, unless `jobs.enabled = false`, the background work) on an
/// already migrated database.
pub async fn api(
    mut settings: Settings,
    port: Option<u16>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if let Some(port) = port {
        settings.http.port = port;
    }
    let store = migrated_store(&settings)?;
    let parts = Parts::api(&settings);
    stack::run(settings, store, parts, shutdown).await
}

/// `bitfox worker`: the job runner, the keeper and the watcher, without HTTP, on an
/// already migrated database.
pub async fn worker(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let store = migrated_store(&settings)?;
    stack::run(settings, store, Parts::worker(), shutdown).await
}

/// `bitfox devnet`: the embedded devnet on its own.
pub async fn devnet(
    mut settings: Settings,
    port: Option<u16>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if let Some(port) = port {
        settings.devnet.port = port;
    }
    let (server, _) = devnet::start(&settings)?;
    devnet::run_until(server, shutdown).await
}

fn migrated_store(settings: &Settings) -> anyhow::Result<bitfox_store::Store> {
    let store = open_store(settings)?;
    let pending = pending_migrations(&store)?;
    if pending > 0 {
        bail!("the database has {pending} pending migration(s): run `bitfox migrate` first");
    }
    Ok(store)
}
