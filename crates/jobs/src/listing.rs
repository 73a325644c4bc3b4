//! The listing jobs: `register`, `update_price` and `delist`.

use bitfox_domain::chain::{DelistOrder, RegisterOrder, RegisterReceipt, UpdatePriceOrder};
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
    /// The GPU of a job, with its on-chain listing id; `Err` carries the outcome when the
    /// listing is not (yet) on chain.
    pub(crate) async fn listing(
        &self,
        job: &JobRow,
    ) -> Result<Result<(GpuRow, u64), Outcome>, MarketError> {
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
            return Ok(Ok((gpu, listing.get())));
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
        let journal = StoreJournal::new(self.store.clone(), &job);
        let gpu_id =
            job.gpu_id.ok_or_else(|| MarketError::Corrupt(format!("job {} has no GPU", job.id)))?;
        if job.kind == JobKind::Register {
            let gpu = self.store.read(move |c| find_gpu(c, gpu_id)).await?;
            let delisted = gpu.status == GpuStatus::Delisted && job.signed_group.is_none();
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
        let (gpu, listing_id) = match self.listing(&job).await? {
            Ok(found) => found,
            Err(Outcome::Failed(reason)) => return self.finish(&job, Err(reason)).await,
            Err(outcome) => return Ok(outcome),
        };
        let provider = address(&gpu.owner_address, "owner")?;
        let result = if job.kind == JobKind::UpdatePrice {
            let order =
                UpdatePriceOrder { gpu: gpu.id, listing_id, provider, price: gpu.price_per_minute };
            tokio::select! {
                () = cancel.cancelled() => return self.abandon(&job).await,
                result = self.chain.update_price(&order, &journal) => result,
            }
        } else {
            let order = DelistOrder { gpu: gpu.id, listing_id, provider };
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
