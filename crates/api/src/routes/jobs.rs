//! `/jobs`: the background work behind rent and stop.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse, get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bitfox_domain::chain::UnsignedGroup;
use bitfox_domain::{JobId, JobState};
use bitfox_store::models::JobRow;
use bitfox_store::repo::job;

use super::to_json;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{ValidJson, parse_id};
use crate::idempotency::{self, Saved};
use crate::spec::IdempotencyKey;
use crate::types::{Job, SignedGroupBody};

async fn find(state: &AppState, id: JobId) -> Result<JobRow, ApiError> {
    state
        .store
        .read(move |c| job::find(c, id).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} does not exist")))
}

/// One job: `queued`, `running`, `succeeded` or `failed`, with the reason it is
/// waiting or failed in `last_error`.
#[utoipa::path(
    tag = "jobs",
    params(("id" = i64, Path, minimum = 1, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/jobs/{id}")]
pub async fn get_job(state: Data<AppState>, id: Path<String>) -> Result<HttpResponse, ApiError> {
    let id = parse_id::<JobId>("job", &id)?;
    Ok(HttpResponse::Ok().json(Job::from(find(&state, id).await?)))
}

/// Hand back the signed group of a job `awaiting_signature`: one signed transaction per
/// transaction of its `unsigned_group`, in order. Each must be exactly the transaction
/// asked for, validly signed by its signer; then the job is queued and sends it.
#[utoipa::path(
    tag = "jobs",
    params(
        ("id" = i64, Path, minimum = 1, description = "Job id"),
        ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries"),
    ),
    request_body = SignedGroupBody,
    responses(
        (status = 202, description = "Accepted; the job sends the group", body = Job),
        (status = 401, description = "API key required (production)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is not one of the group's signers", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job is not awaiting a signature, or the group is not the one it awaits, validly signed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A transaction is not base64", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/jobs/{id}/signature")]
pub async fn sign_job(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: ValidJson<SignedGroupBody>,
) -> Result<HttpResponse, ApiError> {
    // The signatures authorise the transactions; the key must be one of the signers'.
    let me = caller.require()?;
    let id = parse_id::<JobId>("job", &id)?;
    let key = idempotency::Claim::from_request(&req, &body.raw, caller.principal())?;
    // A retry is answered from the saved response (the job has moved on since).
    if let Some(saved) = idempotency::replayed(&state, key.as_ref()).await? {
        return Ok(saved.respond());
    }
    let row = find(&state, id).await?;
    let not_awaiting = move || ApiError::Conflict(format!("job {id} is not awaiting a signature"));
    let unsigned: UnsignedGroup = match (&row.unsigned_group, row.state) {
        (Some(json), JobState::AwaitingSignature) => {
            serde_json::from_str(json).map_err(|e| ApiError::Internal(e.into()))?
        }
        _ => return Err(not_awaiting()),
    };
    if let Some(me) = me
        && !unsigned.transactions.iter().any(|t| t.signer == me)
    {
        return Err(ApiError::Forbidden(format!(
            "job {id} awaits the signature of {}; your API key is bound to {me}",
            unsigned.signers().join(", ")
        )));
    }
    let signed = body
        .value
        .signed_transactions
        .iter()
        .enumerate()
        .map(|(i, text)| {
            B64.decode(text)
                .map_err(|_| ApiError::field(format!("signed_transactions[{i}]"), "is not base64"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Whether the group is the one this job awaits depends on the job, not on the
    // request alone: a mismatch conflicts with the job's state (409), as a job that awaits
    // nothing does.
    let group = state.chain.accept_signed(&unsigned, &signed).map_err(|reason| {
        ApiError::Conflict(format!(
            "signed_transactions: {reason}; job {id} awaits its unsigned_group, each \
             transaction signed by its signer"
        ))
    })?;
    idempotency::write_once(&state, key, move |c, now| {
        if !job::accept_signature(c, id, &group.bytes, &group.txid, now)? {
            return Err(not_awaiting());
        }
        let job = job::find(c, id)?.ok_or_else(not_awaiting)?;
        Ok(Saved::new(StatusCode::ACCEPTED, to_json(&Job::from(job))?, None))
    })
    .await
}
