//! What a job's final failure means for what it served.

use bitfox_domain::{JobKind, JobState, RentalStatus};
use bitfox_store::DbConnection;
use bitfox_store::models::JobRow;
use bitfox_store::repo::job;

use crate::clusters::release_cluster;
use crate::error::{MarketError, Result};
use crate::rentals::{find_rental, rent_rejected, settle_rejected};

/// Records that `job` failed for good with `reason`, and what that means for what it
/// served: a rent's rental fails (its GPU is free), a settle leaves its rental live and
/// stoppable again, a cluster creation releases its GPUs.
pub fn job_failed(conn: &mut DbConnection, job: &JobRow, reason: &str, now: i64) -> Result<()> {
    job.state.transition(JobState::Failed).map_err(MarketError::corrupt)?;
    match (job.kind, job.rental_id, job.cluster_id) {
        (JobKind::Rent, Some(rental_id), _) => {
            let mut row = find_rental(conn, rental_id)?;
            if row.status == RentalStatus::Pending {
                rent_rejected(conn, &mut row, reason, now)?;
            }
        }
        (JobKind::Settle, Some(rental_id), _) => {
            let mut row = find_rental(conn, rental_id)?;
            if matches!(row.status, RentalStatus::Settling | RentalStatus::Active) {
                settle_rejected(conn, &mut row, reason, now)?;
            }
        }
        (JobKind::CreateCluster, _, Some(cluster_id)) => {
            release_cluster(conn, cluster_id, reason, now)?;
        }
        _ => {}
    }
    job::set_state(conn, job.id, JobState::Failed, Some(reason), None, now)?;
    Ok(())
}
