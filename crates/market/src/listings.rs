//! Listings: register, change, delist, heartbeats and going offline.

use bitfox_domain::billing::PricePerMinute;
use bitfox_domain::{Address, GpuId, GpuStatus, JobKind};
use bitfox_store::DbConnection;
use bitfox_store::models::{GpuChanges, GpuRow, JobRow, NewGpu};
use bitfox_store::repo::{gpu, job};

use crate::caller::Caller;
use crate::check::{check_model, check_price, check_range, check_region, finish};
use crate::error::{FieldError, MarketError, Result};
use crate::queue::{new_job, new_job_after};

/// A GPU to list.
#[derive(Debug, Clone)]
pub struct NewListing {
    /// The provider.
    pub owner_address: Address,
    /// Model name, 1–100 characters.
    pub gpu_model: String,
    /// Price in microAlgos per minute.
    pub price_per_minute: PricePerMinute,
    /// Video memory per GPU, in GB (1 ..= 4096).
    pub vram_gb: Option<u32>,
    /// Number of GPUs in the machine (1 ..= 1024; default 1).
    pub gpu_count: Option<u32>,
    /// Region label (1–64 characters).
    pub region: Option<String>,
}

/// Changes to a listing; `Some(None)` clears `vram_gb` or `region`.
#[derive(Debug, Clone, Default)]
pub struct ListingChanges {
    /// New model name.
    pub gpu_model: Option<String>,
    /// New price.
    pub price_per_minute: Option<PricePerMinute>,
    /// New VRAM in GB, or `None` for unknown.
    pub vram_gb: Option<Option<u32>>,
    /// New GPU count.
    pub gpu_count: Option<u32>,
    /// New region, or `None` for none.
    pub region: Option<Option<String>>,
}

/// The listing `id`, or 404.
pub fn find_gpu(conn: &mut DbConnection, id: GpuId) -> Result<GpuRow> {
    gpu::find(conn, id)?.ok_or_else(|| MarketError::NotFound(format!("GPU {id} does not exist")))
}

/// Lists a new GPU for `req.owner_address`.
pub fn register(
    conn: &mut DbConnection,
    caller: &Caller,
    req: NewListing,
    now: i64,
) -> Result<GpuRow> {
    let owner = req.owner_address.to_string();
    let mut errors = Vec::new();
    let gpu_model = check_model(&mut errors, &req.gpu_model);
    let price_per_minute = check_price(&mut errors, req.price_per_minute);
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
            status: GpuStatus::Available,
            created_at: now,
            updated_at: now,
        },
    )?;
    new_job(conn, JobKind::Register, row.id, None, now)?;
    Ok(row)
}

/// Changes a listing's price or specs; owner only, not while rented.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: GpuId,
    req: ListingChanges,
    now: i64,
) -> Result<GpuRow> {
    let row = find_gpu(conn, id)?;
    let mut errors = Vec::new();
    let changes = GpuChanges {
        gpu_model: req.gpu_model.as_deref().map(|m| check_model(&mut errors, m)),
        vram_gb: req.vram_gb.map(|v| v.map(|v| check_range(&mut errors, "vram_gb", v, 4096))),
        gpu_count: req.gpu_count.map(|c| check_range(&mut errors, "gpu_count", c, 1024)),
        region: req.region.map(|r| r.as_deref().map(|r| check_region(&mut errors, r))),
        price_per_minute: req.price_per_minute.map(|p| check_price(&mut errors, p)),
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
    match row.status {
        GpuStatus::Available | GpuStatus::Offline => {
            let price_changed = changes.price_per_minute.is_some_and(|p| p != row.price_per_minute);
            let updated = gpu::update(conn, id, &changes)?;
            if price_changed {
                new_job(conn, JobKind::UpdatePrice, id, None, now)?;
            }
            Ok(updated)
        }
        status => {
            Err(MarketError::Conflict(format!("GPU {id} cannot be changed while it is {status}")))
        }
    }
}

/// Delists a GPU; owner only, not while rented. Delisting twice is harmless.
pub fn delist(conn: &mut DbConnection, caller: &Caller, id: GpuId, now: i64) -> Result<GpuRow> {
    let row = find_gpu(conn, id)?;
    caller.ensure_is(&row.owner_address, &format!("GPU {id}"))?;
    let status = row.status;
    if status == GpuStatus::Delisted {
        // Delisting again retries a delisting that failed while the listing is still live.
        if row.listing_id.is_some()
            && job::unfinished_for_gpu(conn, id, JobKind::Delist)?.is_empty()
        {
            new_job(conn, JobKind::Delist, id, None, now)?;
        }
        return Ok(row);
    }
    status.transition(GpuStatus::Delisted).map_err(|_| {
        MarketError::Conflict(format!("GPU {id} cannot be delisted while it is {status}"))
    })?;
    gpu::set_status(conn, id, status, GpuStatus::Delisted, now)?;
    // After any registration in flight, so that what it lists is delisted too.
    let after =
        job::unfinished_for_gpu(conn, id, JobKind::Register)?.into_iter().map(|j| j.id).collect();
    new_job_after(conn, JobKind::Delist, id, None, after, now)?;
    find_gpu(conn, id)
}

/// Announces the retirement of cluster GPU `id` (its provider only): a job calls the
/// contract's `announce_retirement`, after which the listing may be delisted once the
/// notice period (30 days of chain time, contract v2) has passed, for 7 days. Until then
/// it stays listed and its revenue keeps going to the cluster's holders. Whether an
/// earlier notice is still pending or in force is the chain clock's to say: the caller
/// checks it (the contract refuses a second notice meanwhile).
pub fn announce_retirement(
    conn: &mut DbConnection,
    caller: &Caller,
    id: GpuId,
    now: i64,
) -> Result<(GpuRow, JobRow)> {
    let row = find_gpu(conn, id)?;
    caller.ensure_is(&row.owner_address, &format!("GPU {id}"))?;
    if row.status == GpuStatus::Delisted {
        return Err(MarketError::Conflict(format!("GPU {id} is delisted")));
    }
    if row.cluster_id.is_none() {
        return Err(MarketError::Conflict(format!(
            "GPU {id} is in no cluster: delist it directly, no notice is needed"
        )));
    }
    if let Some(pending) =
        job::unfinished_for_gpu(conn, id, JobKind::AnnounceRetirement)?.into_iter().next()
    {
        return Ok((row, pending));
    }
    // After any registration in flight: the notice names the listing it creates.
    let after =
        job::unfinished_for_gpu(conn, id, JobKind::Register)?.into_iter().map(|j| j.id).collect();
    let job = new_job_after(conn, JobKind::AnnounceRetirement, id, None, after, now)?;
    Ok((find_gpu(conn, id)?, job))
}

/// Records a heartbeat from the GPU's provider; an `offline` GPU is available again.
pub fn heartbeat(conn: &mut DbConnection, caller: &Caller, id: GpuId, now: i64) -> Result<GpuRow> {
    let row = find_gpu(conn, id)?;
    caller.ensure_is(&row.owner_address, &format!("GPU {id}"))?;
    let status = row.status;
    if status == GpuStatus::Delisted {
        return Err(MarketError::Conflict(format!("GPU {id} is delisted")));
    }
    gpu::heartbeat(conn, id, now)?;
    if status == GpuStatus::Offline {
        move_gpu(conn, id, GpuStatus::Offline, GpuStatus::Available, now)?;
    }
    find_gpu(conn, id)
}

/// Marks a silent GPU `offline` (it no longer shows in the default listing).
pub fn go_offline(conn: &mut DbConnection, id: GpuId, now: i64) -> Result<()> {
    move_gpu(conn, id, GpuStatus::Available, GpuStatus::Offline, now)
}

/// Moves GPU `id` from `from` to `to` through the state machine, with a
/// compare-and-set on the stored status.
pub(crate) fn move_gpu(
    conn: &mut DbConnection,
    id: GpuId,
    from: GpuStatus,
    to: GpuStatus,
    now: i64,
) -> Result<()> {
    from.transition(to).map_err(MarketError::corrupt)?;
    if gpu::set_status(conn, id, from, to, now)? {
        Ok(())
    } else {
        Err(MarketError::corrupt(format!("GPU {id} was not {from} when moving it to {to}")))
    }
}
