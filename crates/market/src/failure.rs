//! What a job's final failure means for what it served.

use bitfox_domain::{JobState, RentalStatus};
use bitfox_store::diesel::SqliteConnection;
use bitfox_store::models::JobRow;
use bitfox_store::repo::job;

use crate::check::{internal, parse_status, rental_status};
use crate::clusters::release_cluster;
use crate::error::Result;
use crate::rentals::{find_rental, rent_rejected, settle_rejected};

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
