//! `Idempotency-Key` support for POST requests.
//!
//! The key is claimed inside the same database transaction as the change it guards: the
//! first request with a key runs and its response is saved in that transaction; a retry
//! with the same key and the same request gets the saved response back (with
//! `Idempotent-Replayed: true`) and changes nothing; the same key with a different
//! request is refused (409). Keys are scoped per caller. Only successful responses are
//! saved, since a refused request changed nothing and may be retried as is.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use bitfox_store::DbConnection;
use bitfox_store::models::IdempotencyRow;
use bitfox_store::repo::idempotency;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// Header carrying the client's key.
pub const HEADER: &str = "Idempotency-Key";
/// Header set on replayed responses.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// A response as produced by a mutating operation.
#[derive(Debug, Clone)]
pub struct Saved {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: serde_json::Value,
    /// `Location` header, if any.
    pub location: Option<String>,
    /// Whether this is a replay of an earlier response.
    pub replayed: bool,
}

impl Saved {
    /// A fresh response.
    pub fn new(status: StatusCode, body: serde_json::Value, location: Option<String>) -> Self {
        Self { status: status.as_u16(), body, location, replayed: false }
    }

    /// The HTTP response.
    pub fn respond(self) -> HttpResponse {
        let mut response =
            HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK));
        if let Some(location) = &self.location {
            response.insert_header(("Location", location.as_str()));
        }
        if self.replayed {
            response.insert_header((REPLAYED, "true"));
        }
        response.json(self.body)
    }
}

/// The idempotency key of a request and the fingerprint of what it asks.
#[derive(Debug, Clone)]
pub struct Claim {
    principal: String,
    key: String,
    fingerprint: String,
}

impl Claim {
    /// The claim for `req` (with body `body`) by `principal`, if it carries a key.
    pub fn from_request(
        req: &HttpRequest,
        body: &[u8],
        principal: String,
    ) -> Result<Option<Self>, ApiError> {
        let Some(value) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic()))
            .ok_or_else(|| ApiError::field(HEADER, "must be 1-255 visible ASCII characters"))?
            .to_owned();
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str().as_bytes());
        hasher.update(b" ");
        hasher.update(req.path().as_bytes());
        hasher.update(b"\n");
        hasher.update(body);
        let fingerprint = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Some(Self { principal, key, fingerprint }))
    }
}

/// The saved response for `claim`, if a request with its key was served before; the
/// same key for a different request is refused.
pub fn replay(conn: &mut DbConnection, claim: &Claim) -> Result<Option<Saved>, ApiError> {
    let Some(row) = idempotency::find(conn, &claim.principal, &claim.key)? else {
        return Ok(None);
    };
    if row.request_fingerprint != claim.fingerprint {
        return Err(ApiError::IdempotencyKeyReused(format!(
            "Idempotency-Key {:?} was already used for a different request",
            claim.key
        )));
    }
    let body = serde_json::from_str(&row.response_body)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("saved response is not JSON: {e}")))?;
    Ok(Some(Saved {
        status: u16::try_from(row.response_status).unwrap_or(200),
        body,
        location: row.response_location,
        replayed: true,
    }))
}

/// [`replay`] before anything else is done: a handler that reads the chain before it
/// writes answers a retry from the saved response, instead of reading and checking
/// again (a purchase retried after it went through would otherwise find fewer shares
/// left and be refused).
pub async fn replayed(state: &AppState, claim: Option<&Claim>) -> Result<Option<Saved>, ApiError> {
    let Some(claim) = claim.cloned() else { return Ok(None) };
    state.store.read(move |c| replay(c, &claim)).await
}

/// Runs `op` unless `claim` was already served, in which case the saved response is
/// returned. Call inside the write transaction that `op` changes things in.
pub fn run<F>(
    conn: &mut DbConnection,
    claim: Option<&Claim>,
    now: i64,
    op: F,
) -> Result<Saved, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<Saved, ApiError>,
{
    let Some(claim) = claim else {
        return op(conn);
    };
    if let Some(saved) = replay(conn, claim)? {
        return Ok(saved);
    }
    let saved = op(conn)?;
    idempotency::insert(
        conn,
        &IdempotencyRow {
            principal: claim.principal.clone(),
            idempotency_key: claim.key.clone(),
            request_fingerprint: claim.fingerprint.clone(),
            response_status: i32::from(saved.status),
            response_body: saved.body.to_string(),
            response_location: saved.location.clone(),
            created_at: now,
        },
    )?;
    Ok(saved)
}

/// Runs `op` (at `now`) once per `claim` in one write transaction (which the store may
/// run again, see [`bitfox_store::Store::write`]), wakes the job runner
/// unless the answer is a replay, and answers with the (saved) response.
pub async fn write_once<F>(
    state: &AppState,
    claim: Option<Claim>,
    mut op: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnMut(&mut DbConnection, i64) -> Result<Saved, ApiError> + Send + 'static,
{
    let now = bitfox_store::now_seconds();
    let saved = state.store.write(move |c| run(c, claim.as_ref(), now, |c| op(c, now))).await?;
    if !saved.replayed {
        state.wake.notify_one();
    }
    Ok(saved.respond())
}
