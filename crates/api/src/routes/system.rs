//! `/health` and `/metrics`.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use bitfox_store::mirror;
use bitfox_store::repo::{gpu, job, rental};

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::types::Health;

/// Liveness and readiness: `ok` when the database answers.
#[utoipa::path(
    tag = "system",
    responses(
        (status = 200, description = "Healthy", body = Health),
        (status = 500, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health")]
pub async fn health(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .store
        .read(|c| {
            use bitfox_store::diesel::RunQueryDsl;
            bitfox_store::diesel::sql_query("SELECT 1").execute(c).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
        mode: state.mode.as_str().to_owned(),
        chain: state.chain_name.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(
    tag = "system",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4"))
)]
#[get("/metrics")]
pub async fn metrics(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (gpus, rentals, jobs, anomalies) = state
        .store
        .read(|c| {
            Ok::<_, ApiError>((
                gpu::count_by_status(c)?.into_iter().map(|(s, n)| (s.to_string(), n)).collect(),
                rental::count_by_status(c)?.into_iter().map(|(s, n)| (s.to_string(), n)).collect(),
                job::count_by_state(c)?.into_iter().map(|(s, n)| (s.to_string(), n)).collect(),
                mirror::anomaly_counts(c)?.into_iter().map(|(a, n)| (a.to_string(), n)).collect(),
            ))
        })
        .await?;
    let text = state.metrics.render(&[
        ("bitfox_gpus", "GPU listings by status.", "status", gpus),
        ("bitfox_rentals", "Rentals by status.", "status", rentals),
        ("bitfox_jobs", "Background jobs by state.", "state", jobs),
        (
            "bitfox_chain_anomalies",
            "Contract logs the watcher recorded as anomalies and skipped, by app.",
            "app",
            anomalies,
        ),
    ]);
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}
