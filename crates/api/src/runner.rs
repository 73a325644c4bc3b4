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

use std::sync::Arc;
use std::time::Duration;

use bitfox_domain::billing::{MaxMinutes, PricePerMinute};
use bitfox_domain::chain::{ChainError, ChainPort, RentOrder, SettleOrder};
use bitfox_domain::{Address, GpuId, JobState, MicroAlgos, RentalId, RentalStatus};
use bitfox_store::diesel::SqliteConnection;
use bitfox_store::models::{JobRow, RentalRow};
use bitfox_store::repo::job;
use bitfox_store::{Store, now_seconds};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::JobSettings;
use crate::error::ApiError;
use crate::service;

/// Records a chain confirmation on a rental, inside the job's transaction.
type OnConfirmed<R> = fn(&mut SqliteConnection, &mut RentalRow, &R, i64) -> Result<(), ApiError>;
/// Records a chain refusal (with its reason) on a rental, inside the job's transaction.
type OnRefused = fn(&mut SqliteConnection, &mut RentalRow, &str, i64) -> Result<(), ApiError>;

/// What became of one job run, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The job finished.
    Succeeded,
    /// The job failed for good with this reason.
    Failed(String),
    /// The job went back to the queue for this reason.
    Requeued(String),
}

/// Claims and runs jobs.
#[derive(Clone)]
pub struct JobRunner {
    store: Store,
    chain: Arc<dyn ChainPort>,
    settings: JobSettings,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner").field("chain", &self.chain.name()).finish_non_exhaustive()
    }
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
        Self { store, chain, settings, wake }
    }

    /// Runs until `cancel` fires: requeues jobs interrupted by a previous crash, then
    /// claims due jobs one at a time, sleeping when none is due.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let requeued = self
            .store
            .write(|c| job::requeue_interrupted(c, now_seconds()).map_err(ApiError::from))
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
                    tracing::debug!(job = id, %reason, "job requeued");
                }
                Ok(Some((id, outcome))) => tracing::info!(job = id, ?outcome, "job ran"),
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
    ) -> Result<Option<(i64, Outcome)>, ApiError> {
        let claimed =
            self.store.write(|c| job::claim_next(c, now_seconds()).map_err(ApiError::from)).await?;
        let Some(job) = claimed else { return Ok(None) };
        let id = job.id;
        let outcome = self.execute(job, cancel).await?;
        Ok(Some((id, outcome)))
    }

    async fn execute(&self, job: JobRow, cancel: &CancellationToken) -> Result<Outcome, ApiError> {
        let rental_id = job
            .rental_id
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("job {} has no rental", job.id)))?;
        let rental = self.store.read(move |c| service::find_rental(c, rental_id)).await?;
        let status: RentalStatus = rental
            .status
            .parse()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("rental {rental_id}: {e}")))?;
        match (job.kind.as_str(), status) {
            ("rent", RentalStatus::Pending) => self.rent(job, rental, cancel).await,
            ("rent", other) => self.finish(&job, Err(format!("rental is already {other}"))).await,
            ("settle", RentalStatus::Pending) => {
                let reason = "waiting for the rental to be confirmed on chain before settling";
                let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                self.requeue(&job, reason, retry).await
            }
            ("settle", RentalStatus::Active | RentalStatus::Settling) => {
                self.settle(job, rental, cancel).await
            }
            ("settle", RentalStatus::Settled | RentalStatus::Expired) => {
                self.finish(&job, Ok(())).await
            }
            ("settle", other) => {
                self.finish(&job, Err(format!("rental is {other}: nothing to settle"))).await
            }
            (kind, _) => self.finish(&job, Err(format!("unknown job kind {kind:?}"))).await,
        }
    }

    async fn rent(
        &self,
        job: JobRow,
        rental: RentalRow,
        cancel: &CancellationToken,
    ) -> Result<Outcome, ApiError> {
        let order = rent_order(&rental)?;
        let result = tokio::select! {
            () = cancel.cancelled() => return self.abandon(&job).await,
            result = self.chain.rent(&order) => result,
        };
        self.conclude(&job, rental, result, service::rent_confirmed, service::rent_rejected).await
    }

    async fn settle(
        &self,
        job: JobRow,
        rental: RentalRow,
        cancel: &CancellationToken,
    ) -> Result<Outcome, ApiError> {
        let mut rental = rental;
        if rental.status == RentalStatus::Active.as_str() {
            // Stop requested while pending: now that the rental is live, mark it settling.
            rental = self
                .store
                .write(move |c| {
                    let mut rental = rental;
                    service::begin_settling(&mut rental, now_seconds())?;
                    bitfox_store::repo::rental::save(c, &rental)?;
                    Ok::<_, ApiError>(rental)
                })
                .await?;
        }
        let order = SettleOrder {
            rental: RentalId(rental.id),
            gpu: GpuId(rental.gpu_id),
            requested_by: None,
        };
        let result = tokio::select! {
            () = cancel.cancelled() => return self.abandon(&job).await,
            result = self.chain.settle(&order) => result,
        };
        self.conclude(&job, rental, result, service::settled, service::settle_rejected).await
    }

    /// Records what the chain answered: on success `confirmed` and the job's success in
    /// one transaction; on a refusal (or after too many transient errors) `refused` and
    /// the job's failure; otherwise the job goes back to the queue.
    async fn conclude<R: Send + 'static>(
        &self,
        job: &JobRow,
        rental: RentalRow,
        result: Result<R, ChainError>,
        confirmed: OnConfirmed<R>,
        refused: OnRefused,
    ) -> Result<Outcome, ApiError> {
        let id = job.id;
        let reason = match result {
            Ok(receipt) => {
                self.store
                    .write(move |c| {
                        let mut rental = rental;
                        confirmed(c, &mut rental, &receipt, now_seconds())?;
                        set_job(c, id, JobState::Succeeded, None)
                    })
                    .await?;
                return Ok(Outcome::Succeeded);
            }
            Err(ChainError::Rejected(reason)) => reason,
            Err(ChainError::Unavailable(reason)) => {
                return self.requeue(job, &reason, self.settings.unavailable_retry_secs).await;
            }
            Err(ChainError::Transient(reason)) => {
                let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
                if attempts < self.settings.max_attempts {
                    let delay = self
                        .settings
                        .retry_base_secs
                        .saturating_mul(1u64 << attempts.saturating_sub(1).min(16));
                    return self.backoff(job, &reason, delay).await;
                }
                format!("gave up after {attempts} attempts: {reason}")
            }
        };
        let message = reason.clone();
        self.store
            .write(move |c| {
                let mut rental = rental;
                refused(c, &mut rental, &message, now_seconds())?;
                set_job(c, id, JobState::Failed, Some(&message))
            })
            .await?;
        Ok(Outcome::Failed(reason))
    }

    /// Returns a job to the queue after a counted attempt, to run again in `delay_secs`.
    async fn backoff(
        &self,
        job: &JobRow,
        reason: &str,
        delay_secs: u64,
    ) -> Result<Outcome, ApiError> {
        self.reschedule(job, reason, delay_secs, true).await
    }

    /// Returns a job to the queue without counting the attempt, to run again in
    /// `after_secs`.
    async fn requeue(
        &self,
        job: &JobRow,
        reason: &str,
        after_secs: u64,
    ) -> Result<Outcome, ApiError> {
        self.reschedule(job, reason, after_secs, false).await
    }

    async fn reschedule(
        &self,
        job: &JobRow,
        reason: &str,
        after_secs: u64,
        count_attempt: bool,
    ) -> Result<Outcome, ApiError> {
        let id = job.id;
        let message = reason.to_owned();
        self.store
            .write(move |c| {
                let now = now_seconds();
                if !count_attempt {
                    job::unclaim(c, id, now)?;
                }
                let at = now.saturating_add(i64::try_from(after_secs).unwrap_or(i64::MAX));
                job::set_state(c, id, "queued", Some(&message), Some(at), now)
                    .map_err(ApiError::from)
            })
            .await?;
        Ok(Outcome::Requeued(reason.to_owned()))
    }

    /// Shutting down mid-call: give the job back to the queue for the next start.
    async fn abandon(&self, job: &JobRow) -> Result<Outcome, ApiError> {
        let id = job.id;
        self.store
            .write(move |c| job::unclaim(c, id, now_seconds()).map_err(ApiError::from))
            .await?;
        Ok(Outcome::Requeued("interrupted by shutdown".to_owned()))
    }

    async fn finish(&self, job: &JobRow, result: Result<(), String>) -> Result<Outcome, ApiError> {
        let id = job.id;
        let (state, error) = match &result {
            Ok(()) => (JobState::Succeeded, None),
            Err(reason) => (JobState::Failed, Some(reason.clone())),
        };
        self.store.write(move |c| set_job(c, id, state, error.as_deref())).await?;
        Ok(match result {
            Ok(()) => Outcome::Succeeded,
            Err(reason) => Outcome::Failed(reason),
        })
    }
}

fn set_job(
    c: &mut SqliteConnection,
    id: i64,
    state: JobState,
    error: Option<&str>,
) -> Result<(), ApiError> {
    JobState::Running.transition(state).map_err(|e| ApiError::Internal(e.into()))?;
    job::set_state(c, id, state.as_str(), error, None, now_seconds()).map_err(ApiError::from)
}

fn rent_order(rental: &RentalRow) -> Result<RentOrder, ApiError> {
    let bad =
        |what: &str| ApiError::Internal(anyhow::anyhow!("rental {} has a bad {what}", rental.id));
    Ok(RentOrder {
        rental: RentalId(rental.id),
        gpu: GpuId(rental.gpu_id),
        renter: rental.renter_address.parse::<Address>().map_err(|_| bad("renter"))?,
        provider: rental.provider_address.parse::<Address>().map_err(|_| bad("provider"))?,
        price: u64::try_from(rental.price_per_minute)
            .ok()
            .and_then(|p| PricePerMinute::new(p).ok())
            .ok_or_else(|| bad("price"))?,
        max_minutes: u64::try_from(rental.max_minutes)
            .ok()
            .and_then(|m| MaxMinutes::new(m).ok())
            .ok_or_else(|| bad("max_minutes"))?,
        deposit: MicroAlgos(u64::try_from(rental.deposit).map_err(|_| bad("deposit"))?),
    })
}
