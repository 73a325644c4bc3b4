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

use bitfox_domain::billing::{MaxMinutes, PricePerMinute, Settlement};
use bitfox_domain::chain::{
    ChainError, ChainPort, ClusterCall, ClusterReceipt, DelistOrder, Journal, PortFuture,
    RegisterOrder, RegisterReceipt, RentOrder, SettleOrder, SettleReceipt, SignedGroup,
    UpdatePriceOrder,
};
use bitfox_domain::{Address, GpuId, GpuStatus, JobState, MicroAlgos, RentalId, RentalStatus};
use bitfox_store::diesel::SqliteConnection;
use bitfox_store::models::{ClusterRow, GpuRow, JobRow, RentalRow};
use bitfox_store::repo::{cluster, gpu, job, mirror};
use bitfox_store::{Store, now_seconds};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::ChainHandle;
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
    /// The job waits for a wallet to sign its group.
    AwaitingSignature,
}

/// Claims and runs jobs.
#[derive(Clone, Debug)]
pub struct JobRunner {
    store: Store,
    chain: ChainHandle,
    settings: JobSettings,
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
        let outcome = match self.execute(job.clone(), cancel).await {
            Ok(outcome) => outcome,
            // Never leave a claimed job `running`: retry later, then give up.
            Err(e) => {
                tracing::error!(job = id, error = %e, "job step failed");
                let reason = match &e {
                    ApiError::Internal(cause) => format!("internal error: {cause:#}"),
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

    async fn execute(&self, job: JobRow, cancel: &CancellationToken) -> Result<Outcome, ApiError> {
        if let Some(outcome) = self.prerequisites(&job).await? {
            return Ok(outcome);
        }
        match job.kind.as_str() {
            "register" | "update_price" | "delist" => self.listing_job(job, cancel).await,
            "rent" | "settle" => self.rental_job(job, cancel).await,
            "create_cluster" | "join_cluster" | "opt_in" | "buy_shares" | "transfer_shares"
            | "claim" | "claim_unsold" => self.cluster_job(job, cancel).await,
            kind => self.finish(&job, Err(format!("unknown job kind {kind:?}"))).await,
        }
    }

    /// Holds `job` back until the jobs it runs after have succeeded; fails it (and, for a
    /// rent, its rental) when one of them failed. `None`: it may run.
    async fn prerequisites(&self, job: &JobRow) -> Result<Option<Outcome>, ApiError> {
        let params: service::JobParams = match &job.payload {
            Some(json) => serde_json::from_str(json).map_err(|e| ApiError::Internal(e.into()))?,
            None => return Ok(None),
        };
        for before in params.after {
            let row = self
                .store
                .read(move |c| job::find(c, before).map_err(ApiError::from))
                .await?
                .ok_or_else(|| internal(&format!("job {} runs after a missing job", job.id)))?;
            match row.state.as_str() {
                "succeeded" => {}
                // A delisting only waits for registrations to end, however they end.
                "failed" if job.kind == "delist" => {}
                "failed" => {
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

    /// The GPU of a job, with its on-chain listing id; `Err` carries the outcome when the
    /// listing is not (yet) on chain.
    async fn listing(&self, job: &JobRow) -> Result<Result<(GpuRow, u64), Outcome>, ApiError> {
        let gpu_id = job
            .gpu_id
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("job {} has no GPU", job.id)))?;
        let (gpu, register) = self
            .store
            .read(move |c| {
                let gpu = service::find_gpu(c, gpu_id)?;
                Ok::<_, ApiError>((gpu, job::latest_for_gpu(c, gpu_id, "register")?))
            })
            .await?;
        if let Some(listing) = gpu.listing_id {
            return Ok(Ok((gpu, u64::try_from(listing).map_err(|e| internal(&e))?)));
        }
        match register {
            Some(r) if r.state == JobState::Failed.as_str() => {
                let reason = format!(
                    "GPU {gpu_id} could not be listed on chain: {}",
                    r.last_error.unwrap_or_default()
                );
                Ok(Err(Outcome::Failed(reason)))
            }
            _ => {
                let reason = format!("waiting for GPU {gpu_id} to be listed on chain");
                let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                Ok(Err(self.requeue(job, &reason, retry).await?))
            }
        }
    }

    async fn listing_job(
        &self,
        job: JobRow,
        cancel: &CancellationToken,
    ) -> Result<Outcome, ApiError> {
        let journal = StoreJournal::new(self.store.clone(), &job);
        let gpu_id = job.gpu_id.unwrap_or_default();
        if job.kind == "register" {
            let gpu = self.store.read(move |c| service::find_gpu(c, gpu_id)).await?;
            let delisted = gpu.status == GpuStatus::Delisted.as_str() && job.signed_group.is_none();
            if gpu.listing_id.is_some() || delisted {
                // Listed already, or delisted before its listing was signed: nothing to do.
                return self.finish(&job, Ok(())).await;
            }
            let cluster_id = match gpu.cluster_id {
                None => 0,
                Some(cluster) => match self.active_cluster(&job, cluster).await? {
                    Ok(row) => chain_id(row.chain_cluster_id)?,
                    Err(Outcome::Failed(reason)) => return self.finish(&job, Err(reason)).await,
                    Err(outcome) => return Ok(outcome),
                },
            };
            let order = RegisterOrder {
                gpu: GpuId(gpu.id),
                provider: address(&gpu.owner_address, "owner")?,
                price: price(gpu.price_per_minute)?,
                cluster_id,
            };
            let result = tokio::select! {
                () = cancel.cancelled() => return self.abandon(&job).await,
                result = self.chain.register(&order, &journal) => result,
            };
            return self
                .conclude(
                    &job,
                    result,
                    move |c, receipt: RegisterReceipt| {
                        let listing =
                            i64::try_from(receipt.listing_id).map_err(|e| internal(&e))?;
                        let cluster = i64::try_from(cluster_id).map_err(|e| internal(&e))?;
                        gpu::set_listing(
                            c,
                            gpu_id,
                            listing,
                            &receipt.txid,
                            cluster,
                            now_seconds(),
                        )?;
                        Ok(())
                    },
                    |_, _| Ok(()),
                )
                .await;
        }
        if job.kind == "delist" {
            // The registrations it had to wait for are done: without a listing now, there
            // is nothing to delist.
            let (gpu, live) = self
                .store
                .read(move |c| {
                    let gpu = service::find_gpu(c, gpu_id)?;
                    Ok::<_, ApiError>((gpu, bitfox_store::repo::rental::live_for_gpu(c, gpu_id)?))
                })
                .await?;
            if gpu.listing_id.is_none() {
                return self.finish(&job, Ok(())).await;
            }
            if let Some(rental) = live {
                let reason = format!("waiting for rental {} to end before delisting", rental.id);
                let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                return self.requeue(&job, &reason, retry).await;
            }
        }
        let (gpu, listing_id) = match self.listing(&job).await? {
            Ok(found) => found,
            Err(Outcome::Failed(reason)) => return self.finish(&job, Err(reason)).await,
            Err(outcome) => return Ok(outcome),
        };
        let provider = address(&gpu.owner_address, "owner")?;
        let result = if job.kind == "update_price" {
            let order = UpdatePriceOrder {
                gpu: GpuId(gpu.id),
                listing_id,
                provider,
                price: price(gpu.price_per_minute)?,
            };
            tokio::select! {
                () = cancel.cancelled() => return self.abandon(&job).await,
                result = self.chain.update_price(&order, &journal) => result,
            }
        } else {
            let order = DelistOrder { gpu: GpuId(gpu.id), listing_id, provider };
            let result = tokio::select! {
                () = cancel.cancelled() => return self.abandon(&job).await,
                result = self.chain.delist(&order, &journal) => result,
            };
            let gpu_id = gpu.id;
            // The listing is gone on chain (a GPU moving into a cluster lists again).
            return self
                .conclude(
                    &job,
                    result,
                    move |c, _| Ok(gpu::clear_listing(c, gpu_id, now_seconds())?),
                    |_, _| Ok(()),
                )
                .await;
        };
        self.conclude(&job, result, |_, _| Ok(()), |_, _| Ok(())).await
    }

    async fn rental_job(
        &self,
        job: JobRow,
        cancel: &CancellationToken,
    ) -> Result<Outcome, ApiError> {
        let rental_id = job
            .rental_id
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("job {} has no rental", job.id)))?;
        let rental = self.store.read(move |c| service::find_rental(c, rental_id)).await?;
        let status: RentalStatus = rental
            .status
            .parse()
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("rental {rental_id}: {e}")))?;
        match (job.kind.as_str(), status) {
            ("rent", RentalStatus::Pending) => {
                let gpu_id = rental.gpu_id;
                let moving = self
                    .store
                    .read(move |c| Ok::<_, ApiError>(job::unfinished_for_gpu(c, gpu_id, "delist")?))
                    .await?;
                if !moving.is_empty() {
                    let reason = format!("waiting for GPU {gpu_id}'s listing to move");
                    let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                    return self.requeue(&job, &reason, retry).await;
                }
                let listing_id = match self.listing(&job).await? {
                    Ok((_, listing_id)) => listing_id,
                    // The rental fails with the job (see `service::job_failed`).
                    Err(Outcome::Failed(reason)) => return self.finish(&job, Err(reason)).await,
                    Err(outcome) => return Ok(outcome),
                };
                self.rent(job, rental, listing_id, cancel).await
            }
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
        listing_id: u64,
        cancel: &CancellationToken,
    ) -> Result<Outcome, ApiError> {
        let order = rent_order(&rental, listing_id)?;
        let journal = StoreJournal::new(self.store.clone(), &job);
        let result = tokio::select! {
            () = cancel.cancelled() => return self.abandon(&job).await,
            result = self.chain.rent(&order, &journal) => result,
        };
        self.conclude_rental(&job, rental, result, service::rent_confirmed, service::rent_rejected)
            .await
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
        let gpu_id = rental.gpu_id;
        let gpu = self.store.read(move |c| service::find_gpu(c, gpu_id)).await?;
        let bad = |what: &str| internal(&format!("rental {} has no {what}", rental.id));
        let order = SettleOrder {
            rental: RentalId(rental.id),
            gpu: GpuId(rental.gpu_id),
            listing_id: gpu
                .listing_id
                .and_then(|l| u64::try_from(l).ok())
                .ok_or_else(|| bad("listing id"))?,
            chain_rental_id: rental
                .chain_rental_id
                .and_then(|r| u64::try_from(r).ok())
                .ok_or_else(|| bad("chain rental id"))?,
            renter: address(&rental.renter_address, "renter")?,
            provider: address(&rental.provider_address, "provider")?,
            // The cluster of the listing that was rented, as the contract has it.
            cluster_id: gpu.listing_cluster_id.and_then(|c| u64::try_from(c).ok()).unwrap_or(0),
        };
        // Settled on chain already (by the renter, or by anyone once the deposit ran
        // out): take the chain's figures from the watcher's mirror.
        let chain_rental = i64::try_from(order.chain_rental_id).unwrap_or(i64::MAX);
        let app = self.chain.app_id().and_then(|a| i64::try_from(a).ok()).unwrap_or(-1);
        if let Some((txid, end, cost, fee, provider, refund)) = self
            .store
            .read(move |c| Ok::<_, ApiError>(mirror::settlement_of(c, app, chain_rental)?))
            .await?
        {
            let amount = |v: i64| MicroAlgos(u64::try_from(v).unwrap_or(0));
            let receipt = SettleReceipt {
                txid,
                ended_at: u64::try_from(end).unwrap_or(0),
                settlement: Settlement {
                    cost: amount(cost),
                    fee: amount(fee),
                    provider: amount(provider),
                    refund: amount(refund),
                },
            };
            return self
                .conclude_rental(
                    &job,
                    rental,
                    Ok(receipt),
                    service::settled,
                    service::settle_rejected,
                )
                .await;
        }
        let journal = StoreJournal::new(self.store.clone(), &job);
        let result = tokio::select! {
            () = cancel.cancelled() => return self.abandon(&job).await,
            result = self.chain.settle(&order, &journal) => result,
        };
        if let Err(ChainError::Rejected(refusal)) = &result {
            let open = self.chain.rental_open(order.listing_id, order.chain_rental_id).await;
            let reason = match open {
                Ok(true) => None,
                Ok(false) => Some(format!(
                    "the rental was settled on chain by another party ({refusal}); waiting for \
                     the watcher to mirror the settlement"
                )),
                Err(e) => {
                    Some(format!("{refusal}; cannot tell whether the rental is still open: {e}"))
                }
            };
            if let Some(reason) = reason {
                // The watcher mirrors within its interval.
                let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                return self.requeue(&job, &reason, retry).await;
            }
        }
        self.conclude_rental(&job, rental, result, service::settled, service::settle_rejected).await
    }

    /// [`Self::conclude`] for a rental job: `confirmed` or `refused` updates the rental.
    async fn conclude_rental<R: Send + 'static>(
        &self,
        job: &JobRow,
        rental: RentalRow,
        result: Result<R, ChainError>,
        confirmed: OnConfirmed<R>,
        refused: OnRefused,
    ) -> Result<Outcome, ApiError> {
        // Re-read inside the write: a stop may have been requested meanwhile.
        let id = rental.id;
        self.conclude(
            job,
            result,
            move |c, receipt| {
                let mut rental = service::find_rental(c, id)?;
                confirmed(c, &mut rental, &receipt, now_seconds())
            },
            move |c, reason| {
                let mut rental = service::find_rental(c, id)?;
                refused(c, &mut rental, reason, now_seconds())
            },
        )
        .await
    }

    /// The cluster `cluster` once it is on chain; `Err` carries the outcome otherwise
    /// (waiting while it is being created, failed if its creation failed).
    async fn active_cluster(
        &self,
        job: &JobRow,
        cluster: i64,
    ) -> Result<Result<ClusterRow, Outcome>, ApiError> {
        let row = self.store.read(move |c| service::find_cluster(c, cluster)).await?;
        match row.status.as_str() {
            "active" => Ok(Ok(row)),
            "failed" => Ok(Err(Outcome::Failed(format!(
                "cluster {cluster} could not be created on chain: {}",
                row.failure_reason.unwrap_or_default()
            )))),
            _ => {
                let reason = format!("waiting for cluster {cluster} to be created on chain");
                let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                Ok(Err(self.requeue(job, &reason, retry).await?))
            }
        }
    }

    async fn cluster_job(
        &self,
        job: JobRow,
        cancel: &CancellationToken,
    ) -> Result<Outcome, ApiError> {
        let cluster = job
            .cluster_id
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("job {} has no cluster", job.id)))?;
        let payload: service::JobParams =
            serde_json::from_str(job.payload.as_deref().unwrap_or("{}"))
                .map_err(|e| ApiError::Internal(e.into()))?;
        let party =
            |text: &Option<String>, what: &str| address(text.as_deref().unwrap_or_default(), what);
        let journal = StoreJournal::new(self.store.clone(), &job);
        let call = if job.kind == "create_cluster" {
            let row = self.store.read(move |c| service::find_cluster(c, cluster)).await?;
            ClusterCall::Create {
                operator: address(&row.operator_address, "operator")?,
                total_shares: u64::try_from(row.total_shares).map_err(|e| internal(&e))?,
                price_per_share: u64::try_from(row.price_per_share).map_err(|e| internal(&e))?,
                url: service::cluster_url(row.id),
            }
        } else {
            let row = match self.active_cluster(&job, cluster).await? {
                Ok(row) => row,
                Err(Outcome::Failed(reason)) => return self.finish(&job, Err(reason)).await,
                Err(outcome) => return Ok(outcome),
            };
            let cluster_id = chain_id(row.chain_cluster_id)?;
            let asset_id = chain_id(row.asset_id)?;
            let count = payload.count.unwrap_or_default();
            match job.kind.as_str() {
                "join_cluster" => {
                    ClusterCall::Join { holder: party(&payload.holder, "holder")?, cluster_id }
                }
                "opt_in" => {
                    ClusterCall::OptIn { holder: party(&payload.holder, "holder")?, asset_id }
                }
                "buy_shares" => ClusterCall::Buy {
                    buyer: party(&payload.holder, "buyer")?,
                    cluster_id,
                    asset_id,
                    operator: address(&row.operator_address, "operator")?,
                    count,
                    price_per_share: u64::try_from(row.price_per_share)
                        .map_err(|e| internal(&e))?,
                },
                "transfer_shares" => ClusterCall::Transfer {
                    from: party(&payload.holder, "sender")?,
                    to: party(&payload.to, "recipient")?,
                    cluster_id,
                    asset_id,
                    count,
                },
                kind => ClusterCall::Claim {
                    holder: party(&payload.holder, "holder")?,
                    cluster_id,
                    unsold: kind == "claim_unsold",
                },
            }
        };
        let result = tokio::select! {
            () = cancel.cancelled() => return self.abandon(&job).await,
            result = self.chain.cluster(&call, &journal) => result,
        };
        if job.kind == "create_cluster" {
            return self
                .conclude(
                    &job,
                    result,
                    move |c, receipt: ClusterReceipt| {
                        let (chain_cluster, asset) = receipt
                            .created
                            .ok_or_else(|| internal(&"a cluster creation without its ids"))?;
                        let (chain_cluster, asset) = (
                            i64::try_from(chain_cluster).map_err(|e| internal(&e))?,
                            i64::try_from(asset).map_err(|e| internal(&e))?,
                        );
                        Ok(cluster::activate(
                            c,
                            cluster,
                            chain_cluster,
                            asset,
                            &receipt.txid,
                            now_seconds(),
                        )?)
                    },
                    move |c, reason| service::release_cluster(c, cluster, reason, now_seconds()),
                )
                .await;
        }
        self.conclude(&job, result, |_, _| Ok(()), |_, _| Ok(())).await
    }

    /// Records what the chain answered: on success `confirmed` and the job's success in
    /// one transaction; on a refusal (or after too many transient errors) `refused` and
    /// the job's failure; otherwise the job goes back to the queue.
    async fn conclude<R: Send + 'static>(
        &self,
        job: &JobRow,
        result: Result<R, ChainError>,
        confirmed: impl FnOnce(&mut SqliteConnection, R) -> Result<(), ApiError> + Send + 'static,
        refused: impl FnOnce(&mut SqliteConnection, &str) -> Result<(), ApiError> + Send + 'static,
    ) -> Result<Outcome, ApiError> {
        let id = job.id;
        let reason = match result {
            Ok(receipt) => {
                crash_point("before-record-outcome");
                self.store
                    .write(move |c| {
                        confirmed(c, receipt)?;
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
                let unsigned =
                    serde_json::to_string(&group).map_err(|e| ApiError::Internal(e.into()))?;
                self.store
                    .write(move |c| {
                        JobState::Running
                            .transition(JobState::AwaitingSignature)
                            .map_err(|e| ApiError::Internal(e.into()))?;
                        job::await_signature(c, id, &unsigned, &reason, now_seconds())
                            .map_err(ApiError::from)
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
        self.store
            .write(move |c| {
                refused(c, &message)?;
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
        let (row, outcome) = (job.clone(), result.clone());
        self.store
            .write(move |c| match &outcome {
                Ok(()) => set_job(c, id, JobState::Succeeded, None),
                Err(reason) => service::job_failed(c, &row, reason, now_seconds()),
            })
            .await?;
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

fn chain_id(id: Option<i64>) -> Result<u64, ApiError> {
    id.and_then(|i| u64::try_from(i).ok())
        .ok_or_else(|| internal(&"an active cluster without its chain ids"))
}

fn internal(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("{e}"))
}

fn address(text: &str, what: &str) -> Result<Address, ApiError> {
    text.parse::<Address>().map_err(|e| internal(&format!("stored {what} address {text:?}: {e}")))
}

fn price(stored: i64) -> Result<PricePerMinute, ApiError> {
    u64::try_from(stored)
        .ok()
        .and_then(|p| PricePerMinute::new(p).ok())
        .ok_or_else(|| internal(&format!("stored price {stored} is not a price")))
}

/// Fault injection for the crash-safety tests: when `BITFOX_CRASH_AT` names this
/// point, the process aborts here (as a power cut would), with no clean-up at all.
fn crash_point(point: &str) {
    if std::env::var("BITFOX_CRASH_AT").is_ok_and(|at| at == point) {
        eprintln!("BITFOX_CRASH_AT={point}: aborting");
        std::process::abort();
    }
}

/// The jobs table as the chain port's [`Journal`]: the signed group is committed to
/// the job's row before it is sent.
struct StoreJournal {
    store: Store,
    job_id: i64,
    recorded: Option<SignedGroup>,
}

impl StoreJournal {
    fn new(store: Store, job: &JobRow) -> Self {
        let recorded = match (&job.signed_group, &job.signed_txid) {
            (Some(bytes), Some(txid)) => {
                Some(SignedGroup { bytes: bytes.clone(), txid: txid.clone() })
            }
            _ => None,
        };
        Self { store, job_id: job.id, recorded }
    }

    fn write(&self, group: Option<SignedGroup>) -> PortFuture<'_, ()> {
        let id = self.job_id;
        Box::pin(async move {
            self.store
                .write(move |c| {
                    let signed = group.as_ref().map(|g| (g.bytes.as_slice(), g.txid.as_str()));
                    job::set_journal(c, id, signed, now_seconds()).map_err(ApiError::from)
                })
                .await
                .map_err(|e| ChainError::Unavailable(format!("recording the signed group: {e}")))
        })
    }
}

impl Journal for StoreJournal {
    fn recorded(&self) -> Option<SignedGroup> {
        self.recorded.clone()
    }

    fn record(&self, group: SignedGroup) -> PortFuture<'_, ()> {
        Box::pin(async move {
            self.write(Some(group)).await?;
            crash_point("before-send");
            Ok(())
        })
    }

    fn forget(&self) -> PortFuture<'_, ()> {
        self.write(None)
    }
}

fn rent_order(rental: &RentalRow, listing_id: u64) -> Result<RentOrder, ApiError> {
    let bad =
        |what: &str| ApiError::Internal(anyhow::anyhow!("rental {} has a bad {what}", rental.id));
    Ok(RentOrder {
        rental: RentalId(rental.id),
        gpu: GpuId(rental.gpu_id),
        listing_id,
        renter: address(&rental.renter_address, "renter")?,
        provider: address(&rental.provider_address, "provider")?,
        price: price(rental.price_per_minute)?,
        max_minutes: u64::try_from(rental.max_minutes)
            .ok()
            .and_then(|m| MaxMinutes::new(m).ok())
            .ok_or_else(|| bad("max_minutes"))?,
        deposit: MicroAlgos(u64::try_from(rental.deposit).map_err(|_| bad("deposit"))?),
    })
}
