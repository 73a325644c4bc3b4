//! `/jobs`: the background work behind rent and stop.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get};
use bitfox_store::repo::job;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::parse_id;
use crate::types::Job;

/// One job: `queued`, `running`, `succeeded` or `failed`, with the reason it is
/// waiting or failed in `last_error`.
#[utoipa::path(
    tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/jobs/{id}")]
pub async fn get_job(state: Data<AppState>, id: Path<String>) -> Result<HttpResponse, ApiError> {
    let id: i64 = parse_id::<bitfox_domain::JobId>("job", &id)?.get();
    let row = state
        .store
        .read(move |c| job::find(c, id).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} does not exist")))?;
    Ok(HttpResponse::Ok().json(Job::from(row)))
}
