//! `bitfox watch`: the watcher on its own, against the deployment in the manifest.

use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::chain::watcher_for;
use crate::config::Settings;
use crate::open_store;

/// Mirrors the deployed app's events into the database: from `from_round` if given
/// (events already mirrored are skipped), then follows the chain until `shutdown`, or
/// stops once caught up with `once`.
pub async fn watch(
    settings: Settings,
    from_round: Option<u64>,
    once: bool,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let store = open_store(&settings)?;
    store.migrate()?;
    let manifest_path = settings.manifest_path(settings.chain.network);
    let manifest = bitfox_deployer::read_manifest(&manifest_path)?.with_context(|| {
        format!("no deployment manifest at {}: deploy first", manifest_path.display())
    })?;
    // Every contract version, each with its own cursor.
    let mut watchers = Vec::new();
    for version in &manifest.versions {
        let watcher = watcher_for(&settings, store.clone(), version.app_id, None)?;
        if let Some(round) = from_round {
            watcher.rewind_to(round).await?;
            eprintln!("app {}: resyncing from round {round}", version.app_id);
        }
        let app = version.app_id;
        let progress = watcher
            .sync(|p| {
                eprintln!(
                    "app {app}: mirrored up to round {} of {} ({} events)",
                    p.round, p.chain_round, p.applied
                )
            })
            .await?;
        eprintln!(
            "app {app}: caught up: round {} ({} events applied, {} already mirrored)",
            progress.round, progress.applied, progress.skipped
        );
        watchers.push(watcher);
    }
    if once {
        return Ok(());
    }
    let interval = Duration::from_millis(settings.chain.watch_interval_ms.max(10));
    let mut running = tokio::task::JoinSet::new();
    for watcher in watchers {
        let stop = shutdown.clone();
        running.spawn(async move { watcher.run(interval, stop).await });
    }
    // A watcher returns only on shutdown (or with an error, which stops them all).
    while let Some(done) = running.join_next().await {
        done??;
    }
    Ok(())
}
