//! Queueing chain work: a job row written in the caller's transaction, so the intent and
//! the work to carry it out commit together.

use bitfox_domain::{ClusterId, GpuId, JobId, JobKind, JobState, RentalId};
use bitfox_store::DbConnection;
use bitfox_store::models::{JobRow, NewJob};
use bitfox_store::repo::job;

use crate::error::{MarketError, Result};

/// Parameters of a job (the `payload` column).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct JobParams {
    /// Jobs that must succeed before this one runs (it fails if one of them fails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<JobId>,
    /// The buyer, sender, joining holder or claimant (cluster jobs).
    pub holder: Option<String>,
    /// A transfer's recipient.
    pub to: Option<String>,
    /// Shares bought or transferred.
    pub count: Option<u64>,
}

/// Queues a cluster job.
pub fn cluster_job(
    conn: &mut DbConnection,
    kind: JobKind,
    cluster_id: ClusterId,
    payload: &JobParams,
    now: i64,
) -> Result<JobRow> {
    Ok(job::insert(
        conn,
        &NewJob {
            kind,
            rental_id: None,
            gpu_id: None,
            cluster_id: Some(cluster_id),
            payload: Some(serde_json::to_string(payload).map_err(MarketError::corrupt)?),
            state: JobState::Queued,
            run_after: now,
            created_at: now,
            updated_at: now,
        },
    )?)
}

/// Queues a job of `kind` for GPU `gpu_id` (and its rental, for rental jobs).
pub fn new_job(
    conn: &mut DbConnection,
    kind: JobKind,
    gpu_id: GpuId,
    rental_id: Option<RentalId>,
    now: i64,
) -> Result<JobRow> {
    new_job_after(conn, kind, gpu_id, rental_id, Vec::new(), now)
}

/// [`new_job`] that runs only once the jobs `after` have succeeded.
pub fn new_job_after(
    conn: &mut DbConnection,
    kind: JobKind,
    gpu_id: GpuId,
    rental_id: Option<RentalId>,
    after: Vec<JobId>,
    now: i64,
) -> Result<JobRow> {
    let payload = (!after.is_empty())
        .then(|| serde_json::to_string(&JobParams { after, ..JobParams::default() }))
        .transpose()
        .map_err(MarketError::corrupt)?;
    Ok(job::insert(
        conn,
        &NewJob {
            kind,
            rental_id,
            gpu_id: Some(gpu_id),
            cluster_id: None,
            payload,
            state: JobState::Queued,
            run_after: now,
            created_at: now,
            updated_at: now,
        },
    )?)
}
