//! Rentals: rent, stop, expiry, and what the chain's answers mean for them.

use bitfox_domain::billing::{self, MaxMinutes};
use bitfox_domain::chain::{RentReceipt, SettleReceipt};
use bitfox_domain::{
    Address, ChainId, GpuId, GpuStatus, JobKind, JobState, RentalId, RentalStatus,
};
use bitfox_store::DbConnection;
use bitfox_store::models::{JobRow, NewRental, RentalRow};
use bitfox_store::repo::{gpu, job, rental};

use crate::caller::Caller;
use crate::error::{MarketError, Result};
use crate::listings::{find_gpu, move_gpu};
use crate::queue::new_job;

/// A rent.
#[derive(Debug, Clone)]
pub struct RentRequest {
    /// The renter (pays the deposit).
    pub renter_address: Address,
    /// Minutes the deposit pays for (default [`DEFAULT_MAX_MINUTES`]).
    pub max_minutes: Option<MaxMinutes>,
}

/// A stop.
#[derive(Debug, Clone, Default)]
pub struct StopRequest {
    /// If given, the stop applies only if this address is the rental's renter.
    pub renter_address: Option<Address>,
}

/// Minutes rented when the request names none.
pub const DEFAULT_MAX_MINUTES: u64 = 60;
/// Longest rental a deposit may pay for: one year.
pub const MAX_MAX_MINUTES: u64 = 525_600;

/// The rental `id`, or 404.
pub fn find_rental(conn: &mut DbConnection, id: RentalId) -> Result<RentalRow> {
    rental::find(conn, id)?
        .ok_or_else(|| MarketError::NotFound(format!("rental {id} does not exist")))
}

/// Accepts a rent: the GPU becomes `renting`, a `pending` rental and a `rent` job are
/// recorded. Exactly one of several racing renters wins; the others get 409.
pub fn rent(
    conn: &mut DbConnection,
    caller: &Caller,
    id: GpuId,
    req: RentRequest,
    now: i64,
) -> Result<(RentalRow, JobRow)> {
    let row = find_gpu(conn, id)?;
    let renter = req.renter_address.to_string();
    let minutes = req.max_minutes.map_or(DEFAULT_MAX_MINUTES, MaxMinutes::get);
    if minutes > MAX_MAX_MINUTES {
        return Err(MarketError::field(
            "max_minutes",
            format!("must be at most {MAX_MAX_MINUTES} (one year)"),
        ));
    }
    caller.ensure_is(&renter, "renter_address")?;
    // Refusals that come from the GPU, not from the request alone (the same request
    // would be taken for another GPU): conflicts with its state, not invalid input.
    if renter == row.owner_address {
        return Err(MarketError::Conflict(format!(
            "renter_address: a provider cannot rent its own GPU ({id})"
        )));
    }
    let status = row.status;
    if status.transition(GpuStatus::Renting).is_err() {
        return Err(MarketError::Conflict(format!(
            "GPU {id} is not available to rent (it is {status})"
        )));
    }
    let price = row.price_per_minute;
    let max_minutes = MaxMinutes::new(minutes).map_err(MarketError::corrupt)?;
    let deposit = billing::deposit(price, max_minutes)
        .ok()
        .filter(|d| d.within_supply())
        .ok_or_else(|| {
            MarketError::Conflict(format!(
                "max_minutes: the deposit price_per_minute ({}) * max_minutes ({minutes}) exceeds \
                 the total Algo supply",
                price.get()
            ))
        })?;
    if !gpu::set_status(conn, id, status, GpuStatus::Renting, now)? {
        return Err(MarketError::Conflict(format!("GPU {id} was just rented by someone else")));
    }
    let rental = rental::insert(
        conn,
        &NewRental {
            gpu_id: id,
            renter_address: renter,
            provider_address: row.owner_address,
            price_per_minute: row.price_per_minute,
            max_minutes,
            deposit,
            status: RentalStatus::Pending,
            created_at: now,
            updated_at: now,
        },
    )?;
    let job = new_job(conn, JobKind::Rent, id, Some(rental.id), now)?;
    Ok((rental, job))
}

/// Requests the stop of the GPU's live rental; the renter or the provider may stop.
///
/// * A pending rental whose deposit group was never sent (its rent job is queued or
///   awaits a wallet's signature, with nothing signed) is `cancelled` at once: the rent
///   job is cancelled and the GPU is available again, in this one transaction. The job
///   returned is that cancelled rent job.
/// * Otherwise a `settle` job is recorded; an active rental becomes `settling`, and a
///   pending one whose group may be on chain settles as soon as it is confirmed.
pub fn stop(
    conn: &mut DbConnection,
    caller: &Caller,
    id: GpuId,
    req: StopRequest,
    now: i64,
) -> Result<(RentalRow, JobRow)> {
    find_gpu(conn, id)?;
    let mut rental = rental::live_for_gpu(conn, id)?
        .ok_or_else(|| MarketError::Conflict(format!("GPU {id} has no rental to stop")))?;
    if let Some(address) = caller.require()? {
        let me = address.to_string();
        if me != rental.renter_address && me != rental.provider_address {
            return Err(MarketError::Forbidden(format!(
                "rental {} can be stopped only by its renter or its provider",
                rental.id
            )));
        }
    }
    if let Some(renter) = req.renter_address
        && renter.to_string() != rental.renter_address
    {
        return Err(MarketError::Forbidden(format!(
            "rental {} of GPU {id} is rented by {}, not {renter}",
            rental.id, rental.renter_address
        )));
    }
    if rental.stop_requested_at.is_some() {
        return Err(MarketError::Conflict(format!(
            "a stop of rental {} was already requested",
            rental.id
        )));
    }
    if rental.status == RentalStatus::Pending
        && let Some(rent) = unsent_rent(conn, &rental)?
    {
        let reason = "cancelled: the rental was stopped before its deposit was sent";
        return cancel(conn, rental, rent, reason, now);
    }
    if rental.status == RentalStatus::Active {
        begin_settling(&mut rental, now)?;
    }
    rental.stop_requested_at = Some(now);
    rental.updated_at = now;
    rental::save(conn, &rental)?;
    let job = new_job(conn, JobKind::Settle, id, Some(rental.id), now)?;
    Ok((rental, job))
}

/// The rent job of a pending `rental` if its deposit group was certainly never sent:
/// the job has not been claimed by a runner (queued, or awaiting a wallet's signature)
/// and no signed group is journalled. A running job may be sending right now.
pub fn unsent_rent(conn: &mut DbConnection, rental: &RentalRow) -> Result<Option<JobRow>> {
    let latest = job::latest_for_rental(conn, rental.id)?;
    Ok(latest.filter(|j| {
        j.kind == JobKind::Rent
            && matches!(j.state, JobState::Queued | JobState::AwaitingSignature)
            && j.signed_group.is_none()
    }))
}

/// Cancels a pending `rental` whose `rent` job never sent anything ([`unsent_rent`]):
/// rental and job `cancelled` (the job with `reason`), the GPU available again.
pub fn cancel(
    conn: &mut DbConnection,
    mut rental: RentalRow,
    rent: JobRow,
    reason: &str,
    now: i64,
) -> Result<(RentalRow, JobRow)> {
    rental.status =
        rental.status.transition(RentalStatus::Cancelled).map_err(MarketError::corrupt)?;
    rental.stop_requested_at = Some(now);
    rental.updated_at = now;
    rental::save(conn, &rental)?;
    rent.state.transition(JobState::Cancelled).map_err(MarketError::corrupt)?;
    job::set_state(conn, rent.id, JobState::Cancelled, Some(reason), None, now)?;
    move_gpu(conn, rental.gpu_id, GpuStatus::Renting, GpuStatus::Available, now)?;
    let rent = job::find(conn, rent.id)?
        .ok_or_else(|| MarketError::corrupt(format!("job {} vanished", rent.id)))?;
    Ok((rental, rent))
}

/// The keeper's stop of a rental whose deposit is used up: like a stop, without a
/// caller. Returns the settle job.
pub fn expire(conn: &mut DbConnection, rental: &mut RentalRow, now: i64) -> Result<JobRow> {
    begin_settling(rental, now)?;
    rental.stop_requested_at = Some(now);
    rental::save(conn, rental)?;
    new_job(conn, JobKind::Settle, rental.gpu_id, Some(rental.id), now)
}

/// Moves an active rental to `settling` (through the state machine).
pub fn begin_settling(rental: &mut RentalRow, now: i64) -> Result<()> {
    rental.status =
        rental.status.transition(RentalStatus::Settling).map_err(MarketError::corrupt)?;
    rental.updated_at = now;
    Ok(())
}

/// Records a confirmed rent: the rental becomes `active`, the GPU `rented`.
pub fn rent_confirmed(
    conn: &mut DbConnection,
    rental: &mut RentalRow,
    receipt: &RentReceipt,
    now: i64,
) -> Result<()> {
    rental.status = rental.status.transition(RentalStatus::Active).map_err(MarketError::corrupt)?;
    rental.started_at = Some(timestamp(receipt.started_at)?);
    rental.rent_txid = Some(receipt.txid.clone());
    rental.chain_rental_id = Some(ChainId(receipt.chain_rental_id));
    rental.updated_at = now;
    rental::save(conn, rental)?;
    move_gpu(conn, rental.gpu_id, GpuStatus::Renting, GpuStatus::Rented, now)
}

/// Records a refused rent: the rental fails with `reason`, the GPU is available again.
pub fn rent_rejected(
    conn: &mut DbConnection,
    rental: &mut RentalRow,
    reason: &str,
    now: i64,
) -> Result<()> {
    rental.status = rental.status.transition(RentalStatus::Failed).map_err(MarketError::corrupt)?;
    rental.failure_reason = Some(reason.to_owned());
    rental.updated_at = now;
    rental::save(conn, rental)?;
    gpu::record_outcome(conn, rental.gpu_id, false)?;
    move_gpu(conn, rental.gpu_id, GpuStatus::Renting, GpuStatus::Available, now)
}

/// Records a settlement: exact amounts, the rental `settled` — or `expired` when the
/// whole deposit was used —, the GPU available again.
pub fn settled(
    conn: &mut DbConnection,
    rental: &mut RentalRow,
    receipt: &SettleReceipt,
    now: i64,
) -> Result<()> {
    let used_up = receipt.settlement.cost == rental.deposit;
    let outcome = if used_up { RentalStatus::Expired } else { RentalStatus::Settled };
    rental.status = rental.status.transition(outcome).map_err(MarketError::corrupt)?;
    rental.ended_at = Some(timestamp(receipt.ended_at)?);
    rental.cost = Some(receipt.settlement.cost);
    rental.fee = Some(receipt.settlement.fee);
    rental.provider_amount = Some(receipt.settlement.provider);
    rental.refund = Some(receipt.settlement.refund);
    rental.settle_txid = Some(receipt.txid.clone());
    rental.updated_at = now;
    rental::save(conn, rental)?;
    gpu::record_outcome(conn, rental.gpu_id, true)?;
    let from = find_gpu(conn, rental.gpu_id)?.status;
    move_gpu(conn, rental.gpu_id, from, GpuStatus::Available, now)
}

/// Records a refused settlement: the rental stays live on chain (`active`) and may be
/// stopped again.
pub fn settle_rejected(
    conn: &mut DbConnection,
    rental: &mut RentalRow,
    reason: &str,
    now: i64,
) -> Result<()> {
    if rental.status == RentalStatus::Settling {
        rental.status =
            rental.status.transition(RentalStatus::Active).map_err(MarketError::corrupt)?;
    }
    rental.stop_requested_at = None;
    rental.failure_reason = Some(reason.to_owned());
    rental.updated_at = now;
    rental::save(conn, rental)?;
    Ok(())
}

/// A chain timestamp (Unix seconds) as stored; an error if it does not fit.
fn timestamp(seconds: u64) -> Result<i64> {
    i64::try_from(seconds)
        .map_err(|_| MarketError::corrupt(format!("timestamp {seconds} is out of range")))
}
