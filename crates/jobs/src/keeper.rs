//! The keeper: housekeeping that no request triggers.
//!
//! * A rental whose deposit is used up (`start + paid seconds`, plus a grace for block
//!   timestamps that trail real time) by the chain's clock is stopped: a settle job is queued, and
//!   the rental ends `expired` once the chain settles the whole deposit.
//! * A rent that has sent nothing (its job queued, or awaiting the renter's signature)
//!   for `checkout_window_secs` is cancelled: rental and job `cancelled`, the GPU free.
//! * Any other job awaiting a wallet's signature for `signature_timeout_secs` fails.
//! * A GPU whose provider sent heartbeats (`POST /gpus/{id}/heartbeat`) and then went
//!   silent for `heartbeat_timeout_secs` goes `offline`; its next heartbeat brings it
//!   back. GPUs that never sent a heartbeat are not tracked.

use std::sync::Arc;
use std::time::Duration;

use bitfox_domain::billing;
use bitfox_domain::chain::ChainPort;
use bitfox_store::DbConnection;
use bitfox_store::repo::{gpu, job, rental};
use bitfox_store::{Store, now_seconds};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use bitfox_domain::chain::ChainHandle;
use bitfox_market::{MarketError, failure, listings, rentals};

use crate::{JobSettings, Result};

/// What one keeper pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// Rentals stopped because their deposit is used up.
    pub expired: usize,
    /// GPUs marked offline.
    pub offline: usize,
    /// Jobs failed for want of a wallet signature.
    pub unsigned: usize,
    /// Rents cancelled because they sent nothing within the checkout window.
    pub cancelled: usize,
}

/// The keeper's thresholds, in seconds.
#[derive(Debug, Clone, Copy)]
struct Limits {
    grace: i64,
    silence: i64,
    unsigned: i64,
    checkout: i64,
}

/// What is due at `chain_now` / `now`; with `apply`, also does it.
fn pass(
    c: &mut DbConnection,
    limits: Limits,
    chain_now: i64,
    now: i64,
    apply: bool,
) -> Result<Report> {
    let mut report = Report::default();
    for mut row in rental::running(c)? {
        // An active rental has its start; one without is not billing (yet).
        let Some(start) = row.started_at else { continue };
        let start = u64::try_from(start)
            .map_err(|_| MarketError::corrupt(format!("rental {} started at {start}", row.id)))?;
        let end = billing::max_end(start, row.price_per_minute, row.deposit);
        if chain_now >= i64::try_from(end).unwrap_or(i64::MAX).saturating_add(limits.grace) {
            if apply {
                rentals::expire(c, &mut row, now)?;
            }
            report.expired += 1;
        }
    }
    for id in gpu::silent_since(c, now.saturating_sub(limits.silence))? {
        if apply {
            listings::go_offline(c, id, now)?;
        }
        report.offline += 1;
    }
    // A rent that sent nothing — queued behind a listing not yet on chain, or awaiting
    // the renter's signature — holds its GPU for the checkout window only.
    for stale in rental::pending_since(c, now.saturating_sub(limits.checkout))? {
        let Some(rent) = rentals::unsent_rent(c, &stale)? else { continue };
        if apply {
            let reason = format!(
                "cancelled: nothing was sent within the {}-second checkout window",
                limits.checkout
            );
            rentals::cancel(c, stale, rent, &reason, now)?;
        }
        report.cancelled += 1;
    }
    for stale in job::awaiting_since(c, now.saturating_sub(limits.unsigned))? {
        if apply {
            let reason = format!(
                "no signature within {} seconds: sign sooner, or ask again",
                limits.unsigned
            );
            failure::job_failed(c, &stale, &reason, now)?;
        }
        report.unsigned += 1;
    }
    Ok(report)
}

/// Runs the housekeeping passes.
#[derive(Clone, Debug)]
pub struct Keeper {
    store: Store,
    chain: ChainHandle,
    settings: JobSettings,
    wake: Arc<Notify>,
}

impl Keeper {
    /// A keeper over `store`, reading the time from `chain`; `wake` tells the job
    /// runner about new settle jobs.
    pub fn new(
        store: Store,
        chain: Arc<dyn ChainPort>,
        settings: JobSettings,
        wake: Arc<Notify>,
    ) -> Self {
        Self { store, chain: ChainHandle(chain), settings, wake }
    }

    /// One pass: deposits are judged by `chain_now` (the chain's clock, which bills),
    /// heartbeats by `now` (the server's clock, which stamped them); Unix seconds.
    ///
    /// It looks in a read first and takes the writer only when something is due: a
    /// write every second would also invalidate the listing page cache every second.
    pub async fn run_once(&self, chain_now: i64, now: i64) -> Result<Report> {
        let limits = Limits {
            grace: i64::try_from(self.settings.expiry_grace_secs).unwrap_or(i64::MAX),
            silence: i64::try_from(self.settings.heartbeat_timeout_secs).unwrap_or(i64::MAX),
            unsigned: i64::try_from(self.settings.signature_timeout_secs).unwrap_or(i64::MAX),
            checkout: i64::try_from(self.settings.checkout_window_secs).unwrap_or(i64::MAX),
        };
        let due = self.store.read(move |c| pass(c, limits, chain_now, now, false)).await?;
        if due == Report::default() {
            return Ok(due);
        }
        let report = self.store.write(move |c| pass(c, limits, chain_now, now, true)).await?;
        if report.expired > 0 {
            self.wake.notify_one();
        }
        Ok(report)
    }

    /// Runs a pass every `keeper_interval_ms` until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let interval = Duration::from_millis(self.settings.keeper_interval_ms.max(10));
        loop {
            // Without the chain's clock (no chain, node down) the server's stands in.
            let now = now_seconds();
            let chain_now = match self.chain.now().await {
                Ok(t) => i64::try_from(t).unwrap_or(i64::MAX),
                Err(_) => now,
            };
            match self.run_once(chain_now, now).await {
                Ok(report) if report != Report::default() => {
                    tracing::info!(?report, "keeper");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "keeper pass failed"),
            }
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}
