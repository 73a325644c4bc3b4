//! Queue mechanics: prerequisites, conclusions, backoff, requeueing and finishing a
//! claimed job — every way a run ends goes through here.

use bitfox_domain::chain::{ChainError, Unconfigured};
use bitfox_domain::{Address, ChainId, JobId, JobKind, JobState};
use bitfox_market::MarketError;
use bitfox_market::failure::job_failed;
use bitfox_market::queue::JobParams;
use bitfox_store::DbConnection;
use bitfox_store::models::JobRow;
use bitfox_store::now_seconds;
use bitfox_store::repo::job;

use crate::journal::crash_point;
use crate::runner::JobRunner;
use crate::{Outcome, Result};

impl JobRunner {
    /// Holds `job` back until the jobs it runs after have succeeded; fails it (and, for a
    /// rent, its rental) when one of them failed. `None`: it may run.
    pub(crate) async fn prerequisites(&self, job: &JobRow) -> Result<Option<Outcome>, MarketError> {
        let params: JobParams = match &job.payload {
            Some(json) => serde_json::from_str(json).map_err(MarketError::corrupt)?,
            None => return Ok(None),
        };
        for before in params.after {
            let row = self
                .store
                .read(move |c| job::find(c, before).map_err(MarketError::from))
                .await?
                .ok_or_else(|| {
                    MarketError::corrupt(format!("job {} runs after a missing job", job.id))
                })?;
            match row.state {
                JobState::Succeeded => {}
                // A delisting only waits for registrations to end, however they end.
                JobState::Failed | JobState::Cancelled if job.kind == JobKind::Delist => {}
                JobState::Failed | JobState::Cancelled => {
                    let reason = format!(
                        "job {before} ({}) it depends on failed: {}",
                        row.kind,
                        row.last_error.unwrap_or_default()
                    );
                    return Ok(Some(self.finish(job, Err(reason)).await?));
                }
                _ => {
                    let reason = format!("waiting for job {before} ({})", row.kind);
                    let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                    return Ok(Some(self.requeue(job, &reason, retry).await?));
                }
            }
        }
        Ok(None)
    }

    /// Records what the chain answered: on success `confirmed` and the job's success in
    /// one transaction; on a refusal (or after too many transient errors) `refused` and
    /// the job's failure; otherwise the job goes back to the queue.
    /// (Both run inside [`bitfox_store::Store::write`], which may run them again.)
    pub(crate) async fn conclude<R: Clone + Send + 'static>(
        &self,
        job: &JobRow,
        result: Result<R, ChainError>,
        mut confirmed: impl FnMut(&mut DbConnection, R) -> Result<()> + Send + 'static,
        mut refused: impl FnMut(&mut DbConnection, &str) -> Result<()> + Send + 'static,
    ) -> Result<Outcome> {
        let id = job.id;
        let reason = match result {
            Ok(receipt) => {
                crash_point("before-record-outcome");
                self.write_held(job, move |c| {
                    confirmed(c, receipt.clone())?;
                    set_job(c, id, JobState::Succeeded, None)
                })
                .await?;
                return Ok(Outcome::Succeeded);
            }
            Err(ChainError::Rejected(reason)) => reason,
            Err(ChainError::Unavailable(reason)) => {
                return self.requeue(job, &reason, self.settings.unavailable_retry_secs).await;
            }
            Err(ChainError::NeedsSignature(group)) => {
                let reason = format!(
                    "waiting for a signature from {}: sign the group shown here and POST it to \
                     /jobs/{id}/signature",
                    group.signers().join(", ")
                );
                let unsigned = serde_json::to_string(&group).map_err(MarketError::corrupt)?;
                self.write_held(job, move |c| {
                    JobState::Running
                        .transition(JobState::AwaitingSignature)
                        .map_err(MarketError::corrupt)?;
                    job::await_signature(c, id, &unsigned, &reason, now_seconds())
                        .map_err(MarketError::from)
                })
                .await?;
                return Ok(Outcome::AwaitingSignature);
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
        self.write_held(job, move |c| {
            refused(c, &message)?;
            set_job(c, id, JobState::Failed, Some(&message))
        })
        .await?;
        Ok(Outcome::Failed(reason))
    }

    /// Returns a job to the queue after a counted attempt, to run again in `delay_secs`.
    pub(crate) async fn backoff(
        &self,
        job: &JobRow,
        reason: &str,
        delay_secs: u64,
    ) -> Result<Outcome> {
        self.reschedule(job, reason, delay_secs, true).await
    }

    /// No contract is deployed to take the job (no chain is configured): it stays
    /// queued, saying so.
    pub(crate) async fn wait_for_chain(&self, job: &JobRow) -> Result<Outcome> {
        self.requeue(job, Unconfigured::REASON, self.settings.unavailable_retry_secs).await
    }

    /// Returns a job to the queue without counting the attempt, to run again in
    /// `after_secs`.
    pub(crate) async fn requeue(
        &self,
        job: &JobRow,
        reason: &str,
        after_secs: u64,
    ) -> Result<Outcome> {
        self.reschedule(job, reason, after_secs, false).await
    }

    async fn reschedule(
        &self,
        job: &JobRow,
        reason: &str,
        after_secs: u64,
        count_attempt: bool,
    ) -> Result<Outcome> {
        let id = job.id;
        let message = reason.to_owned();
        self.write_held(job, move |c| {
            let now = now_seconds();
            if !count_attempt {
                job::unclaim(c, id, now)?;
            }
            let at = now.saturating_add(i64::try_from(after_secs).unwrap_or(i64::MAX));
            job::set_state(c, id, JobState::Queued, Some(&message), Some(at), now)
                .map_err(MarketError::from)
        })
        .await?;
        Ok(Outcome::Requeued(reason.to_owned()))
    }

    /// Shutting down mid-call: give the job back to the queue for the next start.
    pub(crate) async fn abandon(&self, job: &JobRow) -> Result<Outcome> {
        let id = job.id;
        self.write_held(job, move |c| {
            job::unclaim(c, id, now_seconds()).map_err(MarketError::from)
        })
        .await?;
        Ok(Outcome::Requeued("interrupted by shutdown".to_owned()))
    }

    pub(crate) async fn finish(&self, job: &JobRow, result: Result<(), String>) -> Result<Outcome> {
        let id = job.id;
        let (row, outcome) = (job.clone(), result.clone());
        self.write_held(job, move |c| match &outcome {
            Ok(()) => set_job(c, id, JobState::Succeeded, None),
            Err(reason) => job_failed(c, &row, reason, now_seconds()),
        })
        .await?;
        Ok(match result {
            Ok(()) => Outcome::Succeeded,
            Err(reason) => Outcome::Failed(reason),
        })
    }
}

pub(crate) fn set_job(
    c: &mut DbConnection,
    id: JobId,
    state: JobState,
    error: Option<&str>,
) -> Result<()> {
    JobState::Running.transition(state).map_err(MarketError::corrupt)?;
    job::set_state(c, id, state, error, None, now_seconds()).map_err(MarketError::from)
}

/// The chain id of an active cluster (its cluster id or its asset id).
pub(crate) fn chain_id(id: Option<ChainId>) -> Result<u64, MarketError> {
    id.map(ChainId::get)
        .ok_or_else(|| MarketError::corrupt("an active cluster without its chain ids"))
}

pub(crate) fn address(text: &str, what: &str) -> Result<Address, MarketError> {
    text.parse::<Address>()
        .map_err(|e| MarketError::corrupt(format!("stored {what} address {text:?}: {e}")))
}
