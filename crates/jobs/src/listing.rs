//! The listing jobs: `register`, `update_price`, `delist` and `announce_retirement`.

use bitfox_domain::chain::{
    DelistOrder, RegisterOrder, RegisterReceipt, RetireOrder, RetireReceipt, UpdatePriceOrder,
};
use bitfox_domain::{ChainId, GpuStatus, JobKind, JobState};
use bitfox_market::MarketError;
use bitfox_market::listings::find_gpu;
use bitfox_store::models::{GpuRow, JobRow};
use bitfox_store::now_seconds;
use bitfox_store::repo::{gpu, job};
use tokio_util::sync::CancellationToken;

use crate::journal::StoreJournal;
use crate::queue::{address, chain_id};
use crate::runner::JobRunner;
use crate::{Outcome, Result};

impl JobRunner {
    /// The GPU of a job, with its on-chain listing: the app it lives on and its id there;
    /// `Err` carries the outcome when the listing is not (yet) on chain.
    pub(crate) async fn listing(
        &self,
        job: &JobRow,
    ) -> Result<Result<(GpuRow, u64, u64), Outcome>, MarketError> {
        let gpu_id =
            job.gpu_id.ok_or_else(|| MarketError::Corrupt(format!("job {} has no GPU", job.id)))?;
        let (gpu, register) = self
            .store
            .read(move |c| {
                let gpu = find_gpu(c, gpu_id)?;
                Ok::<_, MarketError>((gpu, job::latest_for_gpu(c, gpu_id, JobKind::Register)?))
            })
            .await?;
        if let Some(listing) = gpu.listing_id {
            let app = gpu.app_id.ok_or_else(|| {
                MarketError::Corrupt(format!("GPU {gpu_id} has a listing but no app"))
            })?;
            return Ok(Ok((gpu, app.get(), listing.get())));
        }
        match register {
            Some(r) if r.state == JobState::Failed => {
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

    pub(crate) async fn listing_job(
        &self,
        job: JobRow,
        cancel: &CancellationToken,
    ) -> Result<Outcome> {
        let journal = StoreJournal::new(self, &job);
        let gpu_id =
            job.gpu_id.ok_or_else(|| MarketError::Corrupt(format!("job {} has no GPU", job.id)))?;
        if job.kind == JobKind::Register {
            let gpu = self.store.read(move |c| find_gpu(c, gpu_id)).await?;
            let delisted = gpu.status == GpuStatus::Delisted && job.signed_group.is_none();
            if gpu.listing_id.is_some() || delisted {
                // Listed already, or delisted before its listing was signed: nothing to do.
                return self.finish(&job, Ok(())).await;
            }
            let (cluster_id, cluster_app) = match gpu.cluster_id {
                None => (0, None),
                Some(cluster) => match self.active_cluster(&job, cluster).await? {
                    Ok(row) => (chain_id(row.chain_cluster_id)?, row.app_id),
                    Err(Outcome::Failed(reason)) => return self.finish(&job, Err(reason)).await,
                    Err(outcome) => return Ok(outcome),
                },
            };
            // A cluster GPU lists on its cluster's app; any other on the newest. The
            // choice is recorded before the group is built, so a retry or a restart
            // after a new deployment still sends to the same app.
            let app_id = match gpu.app_id.or(cluster_app) {
                Some(app) => app.get(),
                None => match self.chain.newest_app() {
                    Some(app) => app,
                    None => return self.wait_for_chain(&job).await,
                },
            };
            if gpu.app_id.is_none() {
                self.write_held(&job, move |c| Ok(gpu::set_app(c, gpu_id, ChainId(app_id))?))
                    .await?;
            }
            let order = RegisterOrder {
                app_id,
                gpu: gpu.id,
                provider: address(&gpu.owner_address, "owner")?,
                price: gpu.price_per_minute,
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
                        gpu::set_listing(
                            c,
                            gpu_id,
                            ChainId(app_id),
                            ChainId(receipt.listing_id),
                            &receipt.txid,
                            ChainId(cluster_id),
                            now_seconds(),
                        )?;
                        Ok(())
                    },
                    |_, _| Ok(()),
                )
                .await;
        }
        if job.kind == JobKind::Delist {
            // The registrations it had to wait for are done: without a listing now, there
            // is nothing to delist.
            let (gpu, live) = self
                .store
                .read(move |c| {
                    let gpu = find_gpu(c, gpu_id)?;
                    Ok::<_, MarketError>((
                        gpu,
                        bitfox_store::repo::rental::live_for_gpu(c, gpu_id)?,
                    ))
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
        let (gpu, app_id, listing_id) = match self.listing(&job).await? {
            Ok(found) => found,
            Err(Outcome::Failed(reason)) => return self.finish(&job, Err(reason)).await,
            Err(outcome) => return Ok(outcome),
        };
        let provider = address(&gpu.owner_address, "owner")?;
        let result = if job.kind == JobKind::UpdatePrice {
            let price = gpu.price_per_minute;
            let order = UpdatePriceOrder { app_id, gpu: gpu.id, listing_id, provider, price };
            tokio::select! {
                () = cancel.cancelled() => return self.abandon(&job).await,
                result = self.chain.update_price(&order, &journal) => result,
            }
        } else if job.kind == JobKind::AnnounceRetirement {
            let order = RetireOrder { app_id, gpu: gpu.id, listing_id, provider };
            let result = tokio::select! {
                () = cancel.cancelled() => return self.abandon(&job).await,
                result = self.chain.announce_retirement(&order, &journal) => result,
            };
            let gpu_id = gpu.id;
            return self
                .conclude(
                    &job,
                    result,
                    move |c, receipt: RetireReceipt| {
                        let effective = i64::try_from(receipt.effective).map_err(|_| {
                            MarketError::Corrupt(format!(
                                "retirement time {} out of range",
                                receipt.effective
                            ))
                        })?;
                        Ok(gpu::set_retirement(c, gpu_id, effective, now_seconds())?)
                    },
                    |_, _| Ok(()),
                )
                .await;
        } else {
            let cluster_id = gpu.listing_cluster_id.map_or(0, ChainId::get);
            let order = DelistOrder { app_id, gpu: gpu.id, listing_id, provider, cluster_id };
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
}
