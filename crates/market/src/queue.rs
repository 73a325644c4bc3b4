//! Queueing chain work: a job row written in the caller's transaction, so the intent and
//! the work to carry it out commit together.

use bitfox_domain::JobState;
use bitfox_store::diesel::SqliteConnection;
use bitfox_store::models::{JobRow, NewJob};
use bitfox_store::repo::job;

use crate::check::internal;
use crate::error::Result;

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
