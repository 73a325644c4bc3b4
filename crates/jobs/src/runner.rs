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
//! Every claim is a lease held by this runner's identity ([`JobRunner::holder`]) and
//! renewed while the runner lives. Jobs left `running` by a crash: on SQLite (one worker
//! per database) they are requeued at start-up
//! ([`bitfox_store::repo::job::requeue_interrupted`]); on PostgreSQL, where several
//! workers share the queue, a restart must not take a live worker's jobs, so they are
//! claimed again once their lease has expired ([`bitfox_store::repo::job::claim_due`]).
//! A runner writes for a claimed job only while it still holds the lease
//! ([`JobRunner::write_held`]): one that stalled past its lease writes nothing more.
//!
//! This module holds the runner and its dispatch; [`crate::queue`] the queue mechanics
//! (prerequisites, backoff, requeue, conclusions); one module per job family
//! ([`crate::listing`], [`crate::rental`], [`crate::cluster`]) the jobs themselves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bitfox_domain::JobId;
use bitfox_domain::chain::{ChainHandle, ChainPort};
use bitfox_market::MarketError;
use bitfox_store::models::JobRow;
use bitfox_store::repo::job;
use bitfox_store::{DbConnection, Store, now_seconds};
use tokio::sync::Notify;
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{JobSettings, Outcome, Result};

/// The lock claims take ([`Store::write_exclusive`]): one claim at a time, across
/// processes.
pub const CLAIM_LOCK: &str = "jobs/claim";

/// Claims and runs jobs.
#[derive(Clone, Debug)]
pub struct JobRunner {
    pub(crate) store: Store,
    pub(crate) chain: ChainHandle,
    pub(crate) settings: JobSettings,
    wake: Arc<Notify>,
    holder: Arc<str>,
    /// Claims made so far: each claim's lease token is `holder#n`.
    claims: Arc<AtomicU64>,
    /// The jobs this runner is running, with the token each was claimed under (what
    /// the renewals extend).
    running: Arc<Mutex<HashMap<JobId, String>>>,
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
        Self {
            store,
            chain: ChainHandle(chain),
            settings,
            wake,
            holder: worker_identity().into(),
            claims: Arc::default(),
            running: Arc::default(),
        }
    }

    /// This runner's identity in the leases it takes: host, process id and a random
    /// part (a restarted process is a new holder). Each claim's lease token is this
    /// followed by `#` and the claim's number, so that two runs of one job in one process
    /// (the first stalled past its lease, the second claimed it again) are told apart.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Runs `f` in a write transaction for claimed job `job`, only while the claim `job`
    /// came from still holds the job's lease ([`fence`]): a run whose lease ran out (a
    /// stall longer than `jobs.lease_secs`, after which another claim — in another worker
    /// or this one — took the job over) writes nothing more for it and gets
    /// [`MarketError::LeaseLost`].
    pub(crate) async fn write_held<F, T>(&self, job: &JobRow, f: F) -> Result<T, MarketError>
    where
        F: FnMut(&mut DbConnection) -> Result<T, MarketError> + Send + 'static,
        T: Send + 'static,
    {
        self.write_fenced(job.id, job.claimed_by.clone(), f).await
    }

    /// [`JobRunner::write_held`] for job `id` claimed under lease token `token`.
    pub(crate) async fn write_fenced<F, T>(
        &self,
        id: JobId,
        token: Option<String>,
        mut f: F,
    ) -> Result<T, MarketError>
    where
        F: FnMut(&mut DbConnection) -> Result<T, MarketError> + Send + 'static,
        T: Send + 'static,
    {
        let token = token.ok_or_else(|| MarketError::corrupt(format!("job {id} has no claim")))?;
        self.store
            .write(move |c| {
                fence(c, id, &token)?;
                f(c)
            })
            .await
    }

    /// Claims up to `max` due jobs under a lease of this runner's ([`job::claim_due`]).
    async fn claim(&self, max: usize) -> Result<Vec<JobRow>, MarketError> {
        let token = format!("{}#{}", self.holder, self.claims.fetch_add(1, Ordering::Relaxed));
        let (holder, lease_secs) = (token.clone(), self.settings.lease_secs);
        let claimed = self
            .store
            .write_exclusive(CLAIM_LOCK, move |c| {
                let now = now_seconds();
                let lease = job::Lease { holder: &holder, expires_at: lease_end(now, lease_secs) };
                job::claim_due(c, now, max, lease).map_err(MarketError::from)
            })
            .await?;
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        for job in &claimed {
            running.insert(job.id, token.clone());
        }
        Ok(claimed)
    }

    /// Runs until `cancel` fires: requeues jobs interrupted by a previous crash, then
    /// claims due jobs and runs up to `jobs.concurrency` of them at once (one at a time
    /// per GPU and per cluster, in queue order: [`job::claim_due`]), sleeping when none
    /// is due. On shutdown it waits for the jobs in flight to stop.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        if !self.store.shared() {
            let requeued = self
                .store
                .write(|c| job::requeue_interrupted(c, now_seconds()).map_err(MarketError::from))
                .await?;
            if requeued > 0 {
                tracing::warn!(requeued, "requeued jobs interrupted by the previous shutdown");
            }
        }
        let limit = self.settings.concurrency.max(1);
        tracing::info!(
            chain = self.chain.name(),
            concurrency = limit,
            holder = %self.holder,
            "job runner started"
        );
        let renewals = tokio::spawn(self.clone().renew_leases(cancel.child_token()));
        let idle = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        let mut running = JoinSet::new();
        loop {
            if cancel.is_cancelled() {
                break;
            }
            let free = limit.saturating_sub(running.len());
            let claimed = if free == 0 { Ok(Vec::new()) } else { self.claim(free).await };
            match claimed {
                Ok(jobs) if !jobs.is_empty() => {
                    for job in jobs {
                        let (runner, cancel) = (self.clone(), cancel.clone());
                        running.spawn(async move { runner.run_claimed(job, &cancel).await });
                    }
                    // Reap what finished meanwhile, without waiting.
                    while let Some(done) = running.try_join_next() {
                        log_run(done);
                    }
                }
                Ok(_) => {
                    // Nothing to claim now: wait for a job to finish (it may free a GPU
                    // another job waits for), a new job, or the poll interval.
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        Some(done) = running.join_next(), if !running.is_empty() => log_run(done),
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
        while let Some(done) = running.join_next().await {
            log_run(done);
        }
        renewals.abort();
        tracing::info!("job runner stopped");
        Ok(())
    }

    /// Renews this runner's leases every third of `jobs.lease_secs` until `cancel`.
    async fn renew_leases(self, cancel: CancellationToken) {
        let period = Duration::from_millis(self.settings.lease_secs.max(1) * 1000 / 3);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            let mut tokens: Vec<String> = {
                let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
                running.values().cloned().collect()
            };
            tokens.sort_unstable();
            tokens.dedup();
            let expires_at = lease_end(now_seconds(), self.settings.lease_secs);
            let renewed = self
                .store
                .write_unlisted(move |c| {
                    job::renew_leases(c, &tokens, expires_at).map_err(MarketError::from)
                })
                .await;
            if let Err(e) = renewed {
                tracing::error!(error = %e, "renewing job leases failed");
            }
        }
    }

    /// Claims the next due job and runs it; `None` when no job is due.
    pub async fn run_once(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Option<(JobId, Outcome)>, MarketError> {
        let Some(job) = self.claim(1).await?.pop() else { return Ok(None) };
        self.run_claimed(job, cancel).await.map(Some)
    }

    /// Runs a claimed job to an outcome; a step that fails is retried later, then failed
    /// for good — a claimed job is never left `running`.
    async fn run_claimed(
        &self,
        job: JobRow,
        cancel: &CancellationToken,
    ) -> Result<(JobId, Outcome), MarketError> {
        let id = job.id;
        let ran = self.run_to_outcome(job, cancel).await;
        self.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        ran
    }

    async fn run_to_outcome(
        &self,
        job: JobRow,
        cancel: &CancellationToken,
    ) -> Result<(JobId, Outcome), MarketError> {
        let id = job.id;
        let outcome = match self.execute(job.clone(), cancel).await {
            Ok(outcome) => outcome,
            Err(MarketError::LeaseLost(reason)) => {
                tracing::warn!(job = id.get(), %reason, "job run stopped");
                Outcome::LeaseLost
            }
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
        Ok((id, outcome))
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

/// Logs how a job run ended.
fn log_run(done: std::result::Result<Result<(JobId, Outcome), MarketError>, JoinError>) {
    match done {
        Ok(Ok((id, Outcome::Requeued(reason)))) => {
            tracing::debug!(job = id.get(), %reason, "job requeued");
        }
        Ok(Ok((id, outcome))) => tracing::info!(job = id.get(), ?outcome, "job ran"),
        Ok(Err(e)) => tracing::error!(error = %e, "job runner step failed"),
        Err(e) => tracing::error!(error = %e, "job task failed"),
    }
}

/// Refuses, inside a write transaction, a write for job `id` whose claim `holder` (a
/// lease token) no longer holds it ([`job::hold`]).
fn fence(c: &mut DbConnection, id: JobId, holder: &str) -> Result<(), MarketError> {
    if job::hold(c, id, holder)? {
        Ok(())
    } else {
        Err(MarketError::LeaseLost(format!(
            "job {id}'s lease passed to another worker: this run writes nothing more"
        )))
    }
}

/// When a lease taken or renewed at `now` ends.
fn lease_end(now: i64, lease_secs: u64) -> i64 {
    now.saturating_add_unsigned(lease_secs.max(1))
}

/// `host:pid:random`, unique per process start.
fn worker_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{host}:{}:{nanos:08x}", std::process::id())
}
