//! Marketplace operations. Each runs on one connection inside the caller's write
//! transaction, so a check ("is this GPU available?") and the change it guards commit
//! together or not at all; status changes go through the domain state machines.

use bitfox_domain::amount::TOTAL_SUPPLY;
use bitfox_domain::billing::{self, MaxMinutes};
use bitfox_domain::chain::{RentReceipt, SettleReceipt};
use bitfox_domain::{GpuStatus, JobState, RentalStatus};
use bitfox_store::diesel::SqliteConnection;
use bitfox_store::models::{
    ClusterRow, GpuChanges, GpuRow, JobRow, NewGpu, NewJob, NewRental, RentalRow,
};
use bitfox_store::repo::{cluster, gpu, job, rental};

use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::types::{CreateGpu, RentGpu, StopGpu, UpdateGpu};

/// Minutes rented when the request names none.
pub const DEFAULT_MAX_MINUTES: u64 = 60;
/// Longest rental a deposit may pay for: one year.
pub const MAX_MAX_MINUTES: u64 = 525_600;

type Result<T, E = ApiError> = std::result::Result<T, E>;

fn parse_status<S: std::str::FromStr>(text: &str, what: &str) -> Result<S> {
    text.parse().map_err(|_| {
        ApiError::Internal(anyhow::anyhow!("stored {what} status {text:?} is unknown"))
    })
}

fn gpu_status(row: &GpuRow) -> Result<GpuStatus> {
    parse_status(&row.status, "GPU")
}

fn rental_status(row: &RentalRow) -> Result<RentalStatus> {
    parse_status(&row.status, "rental")
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("{e}"))
}

/// Checks a model name: 1–100 characters, no control characters.
fn check_model(errors: &mut Vec<FieldError>, model: &str) -> String {
    let model = model.trim();
    if model.is_empty() || model.chars().count() > 100 {
        errors.push(FieldError::new("gpu_model", "must be 1 to 100 characters"));
    } else if model.chars().any(char::is_control) {
        errors.push(FieldError::new("gpu_model", "must not contain control characters"));
    }
    model.to_owned()
}

fn check_region(errors: &mut Vec<FieldError>, region: &str) -> String {
    let region = region.trim();
    let ok = !region.is_empty()
        && region.len() <= 64
        && region.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' '));
    if !ok {
        errors.push(FieldError::new(
            "region",
            "must be 1 to 64 characters of letters, digits, '-', '_' or spaces",
        ));
    }
    region.to_owned()
}

fn check_range(errors: &mut Vec<FieldError>, field: &str, value: u32, max: u32) -> i32 {
    if value == 0 || value > max {
        errors.push(FieldError::new(field, format!("must be between 1 and {max}")));
    }
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn check_price(errors: &mut Vec<FieldError>, price: u64) -> i64 {
    if price > TOTAL_SUPPLY {
        errors.push(FieldError::new(
            "price_per_minute",
            format!("must be at most {TOTAL_SUPPLY} microAlgos (the total Algo supply)"),
        ));
    }
    i64::try_from(price).unwrap_or(i64::MAX)
}

fn finish(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

/// The listing `id`, or 404.
pub fn find_gpu(conn: &mut SqliteConnection, id: i64) -> Result<GpuRow> {
    gpu::find(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("GPU {id} does not exist")))
}

/// The cluster `id`, or 404.
pub fn find_cluster(conn: &mut SqliteConnection, id: i64) -> Result<ClusterRow> {
    cluster::find(conn, id)?
        .ok_or_else(|| ApiError::NotFound(format!("cluster {id} does not exist")))
}

/// The URL given to a cluster's share ASA.
pub fn cluster_url(id: i64) -> String {
    format!("bitfox://clusters/{id}")
}

/// Parameters of a job (the `payload` column).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct JobParams {
    /// Jobs that must succeed before this one runs (it fails if one of them fails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<i64>,
    /// The buyer, sender, joining holder or claimant (cluster jobs).
    pub holder: Option<String>,
    /// A transfer's recipient.
    pub to: Option<String>,
    /// Shares bought or transferred.
    pub count: Option<u64>,
}

/// Queues a cluster job.
pub fn cluster_job(
    conn: &mut SqliteConnection,
    kind: &str,
    cluster_id: i64,
    payload: &JobParams,
    now: i64,
) -> Result<JobRow> {
    Ok(job::insert(
        conn,
        &NewJob {
            kind: kind.to_owned(),
            rental_id: None,
            gpu_id: None,
            cluster_id: Some(cluster_id),
            payload: Some(serde_json::to_string(payload).map_err(internal)?),
            state: JobState::Queued.as_str().to_owned(),
            run_after: now,
            created_at: now,
            updated_at: now,
        },
    )?)
}

/// Puts GPU `gpu_id` of `operator` in cluster `cluster_id`: its rentals' provider share
/// then goes to the cluster's holders. A listing already on chain is delisted and listed
/// again under the cluster (two jobs); a GPU not yet listed is listed under it directly.
pub fn attach(
    conn: &mut SqliteConnection,
    operator: &str,
    cluster_id: i64,
    gpu_id: i64,
    now: i64,
) -> Result<GpuRow> {
    if find_cluster(conn, cluster_id)?.status == "failed" {
        return Err(ApiError::Conflict(format!("cluster {cluster_id} failed to be created")));
    }
    let row = find_gpu(conn, gpu_id)?;
    if row.owner_address != operator {
        return Err(ApiError::Forbidden(format!(
            "GPU {gpu_id} belongs to {}, not to the cluster's operator",
            row.owner_address
        )));
    }
    match row.cluster_id {
        Some(current) if current == cluster_id => return Ok(row),
        Some(other) => {
            return Err(ApiError::Conflict(format!("GPU {gpu_id} is in cluster {other} already")));
        }
        None => {}
    }
    let status = gpu_status(&row)?;
    if !matches!(status, GpuStatus::Available | GpuStatus::Offline) {
        return Err(ApiError::Conflict(format!(
            "GPU {gpu_id} cannot join a cluster while it is {status}"
        )));
    }
    gpu::set_cluster(conn, gpu_id, cluster_id, now)?;
    // A registration already signed or on its way was built outside the cluster: after
    // it, delist and list again under the cluster, in that order. One still to be built
    // reads the cluster when it runs.
    let in_flight: Vec<i64> = job::unfinished_for_gpu(conn, gpu_id, "register")?
        .into_iter()
        .filter(|j| j.state != JobState::Queued.as_str() || j.signed_group.is_some())
        .map(|j| j.id)
        .collect();
    if row.listing_id.is_some() || !in_flight.is_empty() {
        let delist = new_job_after(conn, "delist", gpu_id, None, in_flight, now)?;
        new_job_after(conn, "register", gpu_id, None, vec![delist.id], now)?;
    }
    find_gpu(conn, gpu_id)
}

/// A cluster whose creation failed: marked failed, and its GPUs leave it and are listed
/// on their own (a registration still unfinished reads the GPU again when it runs).
pub fn release_cluster(
    conn: &mut SqliteConnection,
    cluster_id: i64,
    reason: &str,
    now: i64,
) -> Result<()> {
    cluster::fail(conn, cluster_id, reason, now)?;
    for gpu_id in gpu::in_cluster(conn, cluster_id)? {
        gpu::clear_cluster(conn, gpu_id, now)?;
        let row = find_gpu(conn, gpu_id)?;
        let registering = !job::unfinished_for_gpu(conn, gpu_id, "register")?.is_empty();
        if row.listing_id.is_none() && !registering && gpu_status(&row)? != GpuStatus::Delisted {
            new_job(conn, "register", gpu_id, None, now)?;
        }
    }
    Ok(())
}

/// Records that `job` failed for good with `reason`, and what that means for what it
/// served: a rent's rental fails (its GPU is free), a settle leaves its rental live and
/// stoppable again, a cluster creation releases its GPUs.
pub fn job_failed(conn: &mut SqliteConnection, job: &JobRow, reason: &str, now: i64) -> Result<()> {
    let state: JobState = parse_status(&job.state, "job")?;
    state.transition(JobState::Failed).map_err(internal)?;
    match (job.kind.as_str(), job.rental_id, job.cluster_id) {
        ("rent", Some(rental_id), _) => {
            let mut row = find_rental(conn, rental_id)?;
            if rental_status(&row)? == RentalStatus::Pending {
                rent_rejected(conn, &mut row, reason, now)?;
            }
        }
        ("settle", Some(rental_id), _) => {
            let mut row = find_rental(conn, rental_id)?;
            if matches!(rental_status(&row)?, RentalStatus::Settling | RentalStatus::Active) {
                settle_rejected(conn, &mut row, reason, now)?;
            }
        }
        ("create_cluster", _, Some(cluster_id)) => release_cluster(conn, cluster_id, reason, now)?,
        _ => {}
    }
    job::set_state(conn, job.id, JobState::Failed.as_str(), Some(reason), None, now)?;
    Ok(())
}

/// The rental `id`, or 404.
pub fn find_rental(conn: &mut SqliteConnection, id: i64) -> Result<RentalRow> {
    rental::find(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("rental {id} does not exist")))
}

/// Lists a new GPU for `req.owner_address`.
pub fn register(
    conn: &mut SqliteConnection,
    caller: &Caller,
    req: CreateGpu,
    now: i64,
) -> Result<GpuRow> {
    let owner = req.owner_address.to_string();
    let mut errors = Vec::new();
    let gpu_model = check_model(&mut errors, &req.gpu_model);
    let price_per_minute = check_price(&mut errors, req.price_per_minute.get());
    let vram_gb = req.vram_gb.map(|v| check_range(&mut errors, "vram_gb", v, 4096));
    let gpu_count = check_range(&mut errors, "gpu_count", req.gpu_count.unwrap_or(1), 1024);
    let region = req.region.as_deref().map(|r| check_region(&mut errors, r));
    finish(errors)?;
    caller.ensure_is(&owner, "owner_address")?;
    let row = gpu::insert(
        conn,
        &NewGpu {
            owner_address: owner,
            gpu_model,
            vram_gb,
            gpu_count,
            region,
            price_per_minute,
            status: GpuStatus::Available.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        },
    )?;
    new_job(conn, "register", row.id, None, now)?;
    Ok(row)
}

/// Changes a listing's price or specs; owner only, not while rented.
pub fn update(
    conn: &mut SqliteConnection,
    caller: &Caller,
    id: i64,
    req: UpdateGpu,
    now: i64,
) -> Result<GpuRow> {
    let row = find_gpu(conn, id)?;
    let mut errors = Vec::new();
    let changes = GpuChanges {
        gpu_model: req.gpu_model.as_deref().map(|m| check_model(&mut errors, m)),
        vram_gb: req.vram_gb.map(|v| v.map(|v| check_range(&mut errors, "vram_gb", v, 4096))),
        gpu_count: req.gpu_count.map(|c| check_range(&mut errors, "gpu_count", c, 1024)),
        region: req.region.map(|r| r.as_deref().map(|r| check_region(&mut errors, r))),
        price_per_minute: req.price_per_minute.map(|p| check_price(&mut errors, p.get())),
        updated_at: now,
    };
    let nothing = changes.gpu_model.is_none()
        && changes.vram_gb.is_none()
        && changes.gpu_count.is_none()
        && changes.region.is_none()
        && changes.price_per_minute.is_none();
    if nothing {
        errors.push(FieldError::new("body", "name at least one field to change"));
    }
    finish(errors)?;
    caller.ensure_is(&row.owner_address, &format!("GPU {id}"))?;
    match gpu_status(&row)? {
        GpuStatus::Available | GpuStatus::Offline => {
            let price_changed = changes.price_per_minute.is_some_and(|p| p != row.price_per_minute);
            let updated = gpu::update(conn, id, &changes)?;
            if price_changed {
                new_job(conn, "update_price", id, None, now)?;
            }
            Ok(updated)
        }
        status => {
            Err(ApiError::Conflict(format!("GPU {id} cannot be changed while it is {status}")))
        }
    }
}

/// Delists a GPU; owner only, not while rented. Delisting twice is harmless.
pub fn delist(conn: &mut SqliteConnection, caller: &Caller, id: i64, now: i64) -> Result<GpuRow> {
    let row = find_gpu(conn, id)?;
    caller.ensure_is(&row.owner_address, &format!("GPU {id}"))?;
    let status = gpu_status(&row)?;
    if status == GpuStatus::Delisted {
        // Delisting again retries a delisting that failed while the listing is still live.
        if row.listing_id.is_some() && job::unfinished_for_gpu(conn, id, "delist")?.is_empty() {
            new_job(conn, "delist", id, None, now)?;
        }
        return Ok(row);
    }
    status.transition(GpuStatus::Delisted).map_err(|_| {
        ApiError::Conflict(format!("GPU {id} cannot be delisted while it is {status}"))
    })?;
    gpu::set_status(conn, id, status.as_str(), GpuStatus::Delisted.as_str(), now)?;
    // After any registration in flight, so that what it lists is delisted too.
    let after = job::unfinished_for_gpu(conn, id, "register")?.into_iter().map(|j| j.id).collect();
    new_job_after(conn, "delist", id, None, after, now)?;
    find_gpu(conn, id)
}

/// Queues a job of `kind` for GPU `gpu_id` (and its rental, for rental jobs).
pub fn new_job(
    conn: &mut SqliteConnection,
    kind: &str,
    gpu_id: i64,
    rental_id: Option<i64>,
    now: i64,
) -> Result<JobRow> {
    new_job_after(conn, kind, gpu_id, rental_id, Vec::new(), now)
}

/// [`new_job`] that runs only once the jobs `after` have succeeded.
pub fn new_job_after(
    conn: &mut SqliteConnection,
    kind: &str,
    gpu_id: i64,
    rental_id: Option<i64>,
    after: Vec<i64>,
    now: i64,
) -> Result<JobRow> {
    let payload = (!after.is_empty())
        .then(|| serde_json::to_string(&JobParams { after, ..JobParams::default() }))
        .transpose()
        .map_err(internal)?;
    Ok(job::insert(
        conn,
        &NewJob {
            kind: kind.to_owned(),
            rental_id,
            gpu_id: Some(gpu_id),
            cluster_id: None,
            payload,
            state: JobState::Queued.as_str().to_owned(),
            run_after: now,
            created_at: now,
            updated_at: now,
        },
    )?)
}

/// Accepts a rent: the GPU becomes `renting`, a `pending` rental and a `rent` job are
/// recorded. Exactly one of several racing renters wins; the others get 409.
pub fn rent(
    conn: &mut SqliteConnection,
    caller: &Caller,
    id: i64,
    req: RentGpu,
    now: i64,
) -> Result<(RentalRow, JobRow)> {
    let row = find_gpu(conn, id)?;
    let renter = req.renter_address.to_string();
    let minutes = req.max_minutes.map_or(DEFAULT_MAX_MINUTES, MaxMinutes::get);
    if minutes > MAX_MAX_MINUTES {
        return Err(ApiError::field(
            "max_minutes",
            format!("must be at most {MAX_MAX_MINUTES} (one year)"),
        ));
    }
    caller.ensure_is(&renter, "renter_address")?;
    if renter == row.owner_address {
        return Err(ApiError::field("renter_address", "a provider cannot rent its own GPU"));
    }
    let status = gpu_status(&row)?;
    if status.transition(GpuStatus::Renting).is_err() {
        return Err(ApiError::Conflict(format!(
            "GPU {id} is not available to rent (it is {status})"
        )));
    }
    let price =
        billing::PricePerMinute::new(u64::try_from(row.price_per_minute).map_err(internal)?)
            .map_err(internal)?;
    let max_minutes = MaxMinutes::new(minutes).map_err(internal)?;
    let deposit = billing::deposit(price, max_minutes)
        .ok()
        .filter(|d| d.within_supply())
        .ok_or_else(|| {
            ApiError::field(
                "max_minutes",
                format!(
                    "the deposit price_per_minute ({}) * max_minutes ({minutes}) exceeds the total Algo supply",
                    price.get()
                ),
            )
        })?;
    if !gpu::set_status(conn, id, status.as_str(), GpuStatus::Renting.as_str(), now)? {
        return Err(ApiError::Conflict(format!("GPU {id} was just rented by someone else")));
    }
    let rental = rental::insert(
        conn,
        &NewRental {
            gpu_id: id,
            renter_address: renter,
            provider_address: row.owner_address,
            price_per_minute: row.price_per_minute,
            max_minutes: i64::try_from(minutes).map_err(internal)?,
            deposit: i64::try_from(deposit.get()).map_err(internal)?,
            status: RentalStatus::Pending.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        },
    )?;
    let job = new_job(conn, "rent", id, Some(rental.id), now)?;
    Ok((rental, job))
}

/// Requests the stop of the GPU's live rental: a `settle` job is recorded; an active
/// rental becomes `settling` (a pending one settles as soon as it is confirmed). The
/// renter or the provider may stop.
pub fn stop(
    conn: &mut SqliteConnection,
    caller: &Caller,
    id: i64,
    req: StopGpu,
    now: i64,
) -> Result<(RentalRow, JobRow)> {
    find_gpu(conn, id)?;
    let mut rental = rental::live_for_gpu(conn, id)?
        .ok_or_else(|| ApiError::Conflict(format!("GPU {id} has no rental to stop")))?;
    if let Some(address) = caller.require()? {
        let me = address.to_string();
        if me != rental.renter_address && me != rental.provider_address {
            return Err(ApiError::Forbidden(format!(
                "rental {} can be stopped only by its renter or its provider",
                rental.id
            )));
        }
    }
    if let Some(renter) = req.renter_address
        && renter.to_string() != rental.renter_address
    {
        return Err(ApiError::Forbidden(format!(
            "rental {} of GPU {id} is rented by {}, not {renter}",
            rental.id, rental.renter_address
        )));
    }
    if rental.stop_requested_at.is_some() {
        return Err(ApiError::Conflict(format!(
            "a stop of rental {} was already requested",
            rental.id
        )));
    }
    if rental_status(&rental)? == RentalStatus::Active {
        begin_settling(&mut rental, now)?;
    }
    rental.stop_requested_at = Some(now);
    rental.updated_at = now;
    rental::save(conn, &rental)?;
    let job = new_job(conn, "settle", id, Some(rental.id), now)?;
    Ok((rental, job))
}

/// Records a heartbeat from the GPU's provider; an `offline` GPU is available again.
pub fn heartbeat(
    conn: &mut SqliteConnection,
    caller: &Caller,
    id: i64,
    now: i64,
) -> Result<GpuRow> {
    let row = find_gpu(conn, id)?;
    caller.ensure_is(&row.owner_address, &format!("GPU {id}"))?;
    let status = gpu_status(&row)?;
    if status == GpuStatus::Delisted {
        return Err(ApiError::Conflict(format!("GPU {id} is delisted")));
    }
    gpu::heartbeat(conn, id, now)?;
    if status == GpuStatus::Offline {
        move_gpu(conn, id, GpuStatus::Offline, GpuStatus::Available, now)?;
    }
    find_gpu(conn, id)
}

/// The keeper's stop of a rental whose deposit is used up: like a stop, without a
/// caller. Returns the settle job.
pub fn expire(conn: &mut SqliteConnection, rental: &mut RentalRow, now: i64) -> Result<JobRow> {
    begin_settling(rental, now)?;
    rental.stop_requested_at = Some(now);
    rental::save(conn, rental)?;
    new_job(conn, "settle", rental.gpu_id, Some(rental.id), now)
}

/// Marks a silent GPU `offline` (it no longer shows in the default listing).
pub fn go_offline(conn: &mut SqliteConnection, id: i64, now: i64) -> Result<()> {
    move_gpu(conn, id, GpuStatus::Available, GpuStatus::Offline, now)
}

/// Moves an active rental to `settling` (through the state machine).
pub fn begin_settling(rental: &mut RentalRow, now: i64) -> Result<()> {
    let next = rental_status(rental)?.transition(RentalStatus::Settling).map_err(internal)?;
    rental.status = next.as_str().to_owned();
    rental.updated_at = now;
    Ok(())
}

/// Records a confirmed rent: the rental becomes `active`, the GPU `rented`.
pub fn rent_confirmed(
    conn: &mut SqliteConnection,
    rental: &mut RentalRow,
    receipt: &RentReceipt,
    now: i64,
) -> Result<()> {
    let next = rental_status(rental)?.transition(RentalStatus::Active).map_err(internal)?;
    rental.status = next.as_str().to_owned();
    rental.started_at = Some(i64::try_from(receipt.started_at).map_err(internal)?);
    rental.rent_txid = Some(receipt.txid.clone());
    rental.chain_rental_id = Some(i64::try_from(receipt.chain_rental_id).map_err(internal)?);
    rental.updated_at = now;
    rental::save(conn, rental)?;
    move_gpu(conn, rental.gpu_id, GpuStatus::Renting, GpuStatus::Rented, now)
}

/// Records a refused rent: the rental fails with `reason`, the GPU is available again.
pub fn rent_rejected(
    conn: &mut SqliteConnection,
    rental: &mut RentalRow,
    reason: &str,
    now: i64,
) -> Result<()> {
    let next = rental_status(rental)?.transition(RentalStatus::Failed).map_err(internal)?;
    rental.status = next.as_str().to_owned();
    rental.failure_reason = Some(reason.to_owned());
    rental.updated_at = now;
    rental::save(conn, rental)?;
    gpu::record_outcome(conn, rental.gpu_id, false)?;
    move_gpu(conn, rental.gpu_id, GpuStatus::Renting, GpuStatus::Available, now)
}

/// Records a settlement: exact amounts, the rental `settled` — or `expired` when the
/// whole deposit was used —, the GPU available again.
pub fn settled(
    conn: &mut SqliteConnection,
    rental: &mut RentalRow,
    receipt: &SettleReceipt,
    now: i64,
) -> Result<()> {
    let used_up = i64::try_from(receipt.settlement.cost.get()).ok() == Some(rental.deposit);
    let outcome = if used_up { RentalStatus::Expired } else { RentalStatus::Settled };
    let next = rental_status(rental)?.transition(outcome).map_err(internal)?;
    let amount = |m: bitfox_domain::MicroAlgos| i64::try_from(m.get()).map_err(internal);
    rental.status = next.as_str().to_owned();
    rental.ended_at = Some(i64::try_from(receipt.ended_at).map_err(internal)?);
    rental.cost = Some(amount(receipt.settlement.cost)?);
    rental.fee = Some(amount(receipt.settlement.fee)?);
    rental.provider_amount = Some(amount(receipt.settlement.provider)?);
    rental.refund = Some(amount(receipt.settlement.refund)?);
    rental.settle_txid = Some(receipt.txid.clone());
    rental.updated_at = now;
    rental::save(conn, rental)?;
    gpu::record_outcome(conn, rental.gpu_id, true)?;
    let row = find_gpu(conn, rental.gpu_id)?;
    let from = gpu_status(&row)?;
    move_gpu(conn, rental.gpu_id, from, GpuStatus::Available, now)
}

/// Records a refused settlement: the rental stays live on chain (`active`) and may be
/// stopped again.
pub fn settle_rejected(
    conn: &mut SqliteConnection,
    rental: &mut RentalRow,
    reason: &str,
    now: i64,
) -> Result<()> {
    let status = rental_status(rental)?;
    if status == RentalStatus::Settling {
        rental.status =
            status.transition(RentalStatus::Active).map_err(internal)?.as_str().to_owned();
    }
    rental.stop_requested_at = None;
    rental.failure_reason = Some(reason.to_owned());
    rental.updated_at = now;
    rental::save(conn, rental)?;
    Ok(())
}

fn move_gpu(
    conn: &mut SqliteConnection,
    id: i64,
    from: GpuStatus,
    to: GpuStatus,
    now: i64,
) -> Result<()> {
    from.transition(to).map_err(internal)?;
    if gpu::set_status(conn, id, from.as_str(), to.as_str(), now)? {
        Ok(())
    } else {
        Err(internal(format!("GPU {id} was not {from} when moving it to {to}")))
    }
}
