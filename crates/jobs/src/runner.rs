//! The job runner: claims due jobs from the durable jobs table and carries them out
//! through a [`ChainPort`].
//!
//! * `Ok` from the chain: the outcome and the job's success commit in one transaction.
//! * [`ChainError::Unavailable`]: the job goes back to the queue untouched (the attempt
//!   is not counted) with the reason in `last_error`, and is retried later. With the
//!   [`bitfox_domain::chain::Unconfigured`] port, jobs therefore stay visibly queued.
//! * [`ChainError::Transient`]: retried with exponential backoff, then failed.
//! * [`ChainError::Rejected`]: the rental fails (or stays live, for a settle) with the
//!   chain's reason, and the job fails.
//!
//! Jobs left `running` by a crash are requeued at start-up
//! ([`bitfox_store::repo::job::requeue_interrupted`]).
//!
//! This module holds the runner and its dispatch; [`crate::queue`] the queue mechanics
//! (prerequisites, backoff, requeue, conclusions); one module per job family
//! ([`crate::listing`], [`crate::rental`], [`crate::cluster`]) the jobs themselves.

use std::sync::Arc;
use std::time::Duration;

use bitfox_domain::JobId;
use bitfox_domain::chain::{ChainHandle, ChainPort};
use bitfox_market::MarketError;
use bitfox_store::models::JobRow;
use bitfox_store::repo::job;
use bitfox_store::{Store, now_seconds};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{JobSettings, Outcome, Result};

/// Claims and runs jobs.
#[derive(Clone, Debug)]
pub struct JobRunner {
    pub(crate) store: Store,
    pub(crate) chain: ChainHandle,
    pub(crate) settings: JobSettings,
    wake: Arc<Notify>,
}

impl JobRunner {
    /// A runner over `store`, reaching the chain through `chain`; `wake` is notified
    /// whenever a job is queued.
    pub fn new(
        store: Store,
        chain: Arc<dyn ChainPort>,
        settings: JobSettings,
        wake: Arc<Notify>,
    ) -> Self {
        Self { store, chain: ChainHandle(chain), settings, wake }
    }

    /// Runs until `cancel` fires: requeues jobs interrupted by a previous crash, then
    /// claims due jobs one at a time, sleeping when none is due.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let requeued = self
            .store
            .write(|c| job::requeue_interrupted(c, now_seconds()).map_err(MarketError::from))
            .await?;
        if requeued > 0 {
            tracing::warn!(requeued, "requeued jobs interrupted by the previous shutdown");
        }
        tracing::info!(chain = self.chain.name(), "job runner started");
        let idle = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        loop {
            if cancel.is_cancelled() {
                break;
            }
            match self.run_once(&cancel).await {
                Ok(Some((id, Outcome::Requeued(reason)))) => {
                    tracing::debug!(job = id.get(), %reason, "job requeued");
                }
                Ok(Some((id, outcome))) => tracing::info!(job = id.get(), ?outcome, "job ran"),
                Ok(None) => {
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(idle) => {}
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "job runner step failed");
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = tokio::time::sleep(idle) => {}
                    }
                }
            }
        }
        tracing::info!("job runner stopped");
        Ok(())
    }

    /// Claims the next due job and runs it; `None` when no job is due.
    pub async fn run_once(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Option<(JobId, Outcome)>, MarketError> {
        let claimed = self
            .store
            .write(|c| job::claim_next(c, now_seconds()).map_err(MarketError::from))
            .await?;
        let Some(job) = claimed else { return Ok(None) };
        let id = job.id;
        let outcome = match self.execute(job.clone(), cancel).await {
            Ok(outcome) => outcome,
            // Never leave a claimed job `running`: retry later, then give up.
            Err(e) => {
                tracing::error!(job = id.get(), error = %e, "job step failed");
                let reason = match &e {
                    MarketError::Store(_) | MarketError::Corrupt(_) => {
                        format!("internal error: {e}")
                    }
                    other => other.to_string(),
                };
                let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
                if attempts < self.settings.max_attempts {
                    self.backoff(&job, &reason, self.settings.retry_base_secs.max(1)).await?
                } else {
                    self.finish(&job, Err(reason)).await?
                }
            }
        };
        Ok(Some((id, outcome)))
    }

    async fn execute(&self, job: JobRow, cancel: &CancellationToken) -> Result<Outcome> {
        if let Some(outcome) = self.prerequisites(&job).await? {
            return Ok(outcome);
        }
        match job.kind {
            kind if kind.is_listing() => self.listing_job(job, cancel).await,
            kind if kind.is_rental() => self.rental_job(job, cancel).await,
            _ => self.cluster_job(job, cancel).await,
        }
    }
}
