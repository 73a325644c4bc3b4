//! The rental jobs: `rent` (lock the deposit) and `settle` (stop and pay out).

use bitfox_domain::billing::Settlement;
use bitfox_domain::chain::{ChainError, RentOrder, SettleOrder, SettleReceipt};
use bitfox_domain::{ChainId, JobKind, MicroAlgos, RentalStatus};
use bitfox_market::MarketError;
use bitfox_market::listings::find_gpu;
use bitfox_market::rentals::{self, find_rental};
use bitfox_store::DbConnection;
use bitfox_store::mirror;
use bitfox_store::models::{JobRow, RentalRow};
use bitfox_store::now_seconds;
use bitfox_store::repo::{self, job};
use tokio_util::sync::CancellationToken;

use crate::journal::StoreJournal;
use crate::queue::address;
use crate::runner::JobRunner;
use crate::{Outcome, Result};

/// Records a chain confirmation on a rental, inside the job's transaction.
type OnConfirmed<R> = fn(&mut DbConnection, &mut RentalRow, &R, i64) -> Result<()>;
/// Records a chain refusal (with its reason) on a rental, inside the job's transaction.
type OnRefused = fn(&mut DbConnection, &mut RentalRow, &str, i64) -> Result<()>;

impl JobRunner {
    pub(crate) async fn rental_job(
        &self,
        job: JobRow,
        cancel: &CancellationToken,
    ) -> Result<Outcome> {
        let rental_id = job
            .rental_id
            .ok_or_else(|| MarketError::Corrupt(format!("job {} has no rental", job.id)))?;
        let rental = self.store.read(move |c| find_rental(c, rental_id)).await?;
        match (job.kind, rental.status) {
            (JobKind::Rent, RentalStatus::Pending) => {
                let gpu_id = rental.gpu_id;
                let moving = self
                    .store
                    .read(move |c| {
                        Ok::<_, MarketError>(job::unfinished_for_gpu(c, gpu_id, JobKind::Delist)?)
                    })
                    .await?;
                if !moving.is_empty() {
                    let reason = format!("waiting for GPU {gpu_id}'s listing to move");
                    let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                    return self.requeue(&job, &reason, retry).await;
                }
                let (app_id, listing_id) = match self.listing(&job).await? {
                    Ok((_, app_id, listing_id)) => (app_id, listing_id),
                    // The rental fails with the job (see `job_failed`).
                    Err(Outcome::Failed(reason)) => return self.finish(&job, Err(reason)).await,
                    Err(outcome) => return Ok(outcome),
                };
                self.rent(job, rental, app_id, listing_id, cancel).await
            }
            (JobKind::Rent, other) => {
                self.finish(&job, Err(format!("rental is already {other}"))).await
            }
            (JobKind::Settle, RentalStatus::Pending) => {
                let reason = "waiting for the rental to be confirmed on chain before settling";
                let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                self.requeue(&job, reason, retry).await
            }
            (JobKind::Settle, RentalStatus::Active | RentalStatus::Settling) => {
                self.settle(job, rental, cancel).await
            }
            (JobKind::Settle, RentalStatus::Settled | RentalStatus::Expired) => {
                self.finish(&job, Ok(())).await
            }
            (JobKind::Settle, other) => {
                self.finish(&job, Err(format!("rental is {other}: nothing to settle"))).await
            }
            (kind, _) => self.finish(&job, Err(format!("{kind} is not a rental job"))).await,
        }
    }

    async fn rent(
        &self,
        job: JobRow,
        rental: RentalRow,
        app_id: u64,
        listing_id: u64,
        cancel: &CancellationToken,
    ) -> Result<Outcome> {
        // The rental lives on its listing's app; recorded before the group is built.
        if rental.app_id != Some(ChainId(app_id)) {
            let id = rental.id;
            self.write_held(&job, move |c| Ok(repo::rental::set_app(c, id, ChainId(app_id))?))
                .await?;
        }
        let order = rent_order(&rental, app_id, listing_id)?;
        let journal = StoreJournal::new(self, &job);
        let result = tokio::select! {
            () = cancel.cancelled() => return self.abandon(&job).await,
            result = self.chain.rent(&order, &journal) => result,
        };
        self.conclude_rental(&job, rental, result, rentals::rent_confirmed, rentals::rent_rejected)
            .await
    }

    async fn settle(
        &self,
        job: JobRow,
        rental: RentalRow,
        cancel: &CancellationToken,
    ) -> Result<Outcome> {
        let mut rental = rental;
        if rental.status == RentalStatus::Active {
            // Stop requested while pending: now that the rental is live, mark it settling.
            let id = rental.id;
            rental = self
                .write_held(&job, move |c| {
                    // Read again under the fence: the row read before may be stale.
                    let mut rental = find_rental(c, id)?;
                    if rental.status == RentalStatus::Active {
                        rentals::begin_settling(&mut rental, now_seconds())?;
                        bitfox_store::repo::rental::save(c, &rental)?;
                    }
                    Ok(rental)
                })
                .await?;
        }
        let gpu_id = rental.gpu_id;
        let gpu = self.store.read(move |c| find_gpu(c, gpu_id)).await?;
        let bad = |what: &str| MarketError::corrupt(format!("rental {} has no {what}", rental.id));
        let app_id = rental.app_id.or(gpu.app_id).ok_or_else(|| bad("app"))?.get();
        let order = SettleOrder {
            app_id,
            rental: rental.id,
            gpu: rental.gpu_id,
            listing_id: gpu.listing_id.ok_or_else(|| bad("listing id"))?.get(),
            chain_rental_id: rental.chain_rental_id.ok_or_else(|| bad("chain rental id"))?.get(),
            renter: address(&rental.renter_address, "renter")?,
            provider: address(&rental.provider_address, "provider")?,
            // The cluster of the listing that was rented, as the contract has it. A
            // listing registered before clusters existed has none recorded: it was
            // registered under no cluster (0), which is what the contract holds.
            cluster_id: gpu.listing_cluster_id.map_or(0, ChainId::get),
        };
        // Settled on chain already (by the renter, or by anyone once the deposit ran
        // out): take the chain's figures from the watcher's mirror.
        let chain_rental = order.chain_rental_id;
        let recorded = self
            .store
            .read(move |c| Ok::<_, MarketError>(mirror::settlement_of(c, app_id, chain_rental)?))
            .await?;
        if let Some(s) = recorded {
            let receipt = SettleReceipt {
                txid: s.txid,
                ended_at: s.ended_at,
                settlement: Settlement {
                    cost: MicroAlgos(s.cost),
                    fee: MicroAlgos(s.fee),
                    provider: MicroAlgos(s.provider_amount),
                    refund: MicroAlgos(s.refund),
                },
            };
            return self
                .conclude_rental(
                    &job,
                    rental,
                    Ok(receipt),
                    rentals::settled,
                    rentals::settle_rejected,
                )
                .await;
        }
        let journal = StoreJournal::new(self, &job);
        let result = tokio::select! {
            () = cancel.cancelled() => return self.abandon(&job).await,
            result = self.chain.settle(&order, &journal) => result,
        };
        if let Err(ChainError::Rejected(refusal)) = &result {
            let open =
                self.chain.rental_open(app_id, order.listing_id, order.chain_rental_id).await;
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
        self.conclude_rental(&job, rental, result, rentals::settled, rentals::settle_rejected).await
    }

    /// [`Self::conclude`] for a rental job: `confirmed` or `refused` updates the rental.
    async fn conclude_rental<R: Clone + Send + 'static>(
        &self,
        job: &JobRow,
        rental: RentalRow,
        result: Result<R, ChainError>,
        confirmed: OnConfirmed<R>,
        refused: OnRefused,
    ) -> Result<Outcome> {
        // Re-read inside the write: a stop may have been requested meanwhile.
        let id = rental.id;
        self.conclude(
            job,
            result,
            move |c, receipt| {
                let mut rental = find_rental(c, id)?;
                confirmed(c, &mut rental, &receipt, now_seconds())
            },
            move |c, reason| {
                let mut rental = find_rental(c, id)?;
                refused(c, &mut rental, reason, now_seconds())
            },
        )
        .await
    }
}

fn rent_order(rental: &RentalRow, app_id: u64, listing_id: u64) -> Result<RentOrder, MarketError> {
    Ok(RentOrder {
        app_id,
        rental: rental.id,
        gpu: rental.gpu_id,
        listing_id,
        renter: address(&rental.renter_address, "renter")?,
        provider: address(&rental.provider_address, "provider")?,
        price: rental.price_per_minute,
        max_minutes: rental.max_minutes,
        deposit: rental.deposit,
    })
}
