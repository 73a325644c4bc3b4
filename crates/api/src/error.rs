//! The API's one error type and its RFC 9457 `application/problem+json` rendering.
//!
//! Every error response, including those produced by actix itself (unknown route,
//! wrong method), has the same shape:
//! `{"type", "title", "status", "detail", "errors"?}` where `errors` lists
//! `{"field", "message"}` for validation failures. A 500 says nothing internal; its cause
//! goes to the log.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use bitfox_market::MarketError;
use bitfox_store::StoreError;

/// The media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field (JSON path for bodies, parameter name for queries).
    pub field: String,
    /// What rule it broke.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// Invalid fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request's fields break the rules.
    #[error("{}", join(.0))]
    Validation(Vec<FieldError>),
    /// The request is malformed (e.g. not JSON).
    #[error("{0}")]
    BadRequest(String),
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// The path exists, but not with this method; `allow` lists those it has.
    #[error("{method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// The methods the path answers, as the `Allow` header lists them.
        allow: String,
    },
    /// The resource is in a state that forbids the request.
    #[error("{0}")]
    Conflict(String),
    /// No valid API key.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The body is larger than the limit.
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// An `Idempotency-Key` was reused for a different request.
    #[error("{0}")]
    IdempotencyKeyReused(String),
    /// The chain could not be read now (node unreachable); try again.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else; details are logged, never returned.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

fn join(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
}

impl From<bitfox_domain::chain::ChainError> for ApiError {
    fn from(e: bitfox_domain::chain::ChainError) -> Self {
        Self::Unavailable(format!("reading the chain: {e}"))
    }
}

impl ApiError {
    /// A validation error on one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::Validation(_) => ("/problems/validation", "Invalid request"),
            Self::BadRequest(_) => ("/problems/bad-request", "Malformed request"),
            Self::NotFound(_) => ("/problems/not-found", "Not found"),
            Self::MethodNotAllowed { .. } => ("/problems/method-not-allowed", "Method not allowed"),
            Self::Conflict(_) => ("/problems/conflict", "Conflict with current state"),
            Self::Unauthorized(_) => ("/problems/unauthorized", "Authentication required"),
            Self::Forbidden(_) => ("/problems/forbidden", "Forbidden"),
            Self::PayloadTooLarge(_) => ("/problems/payload-too-large", "Request body too large"),
            Self::UnsupportedMediaType(_) => {
                ("/problems/unsupported-media-type", "Unsupported media type")
            }
            Self::IdempotencyKeyReused(_) => {
                ("/problems/idempotency-key-reused", "Idempotency key reused")
            }
            Self::Unavailable(_) => ("/problems/unavailable", "Chain unavailable"),
            Self::Internal(_) => ("/problems/internal", "Internal server error"),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        Problem {
            kind: kind.to_owned(),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.to_string(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            // The key is taken by another request: a conflict with what the server holds,
            // as with a resource's state; the same request with a fresh key is accepted.
            // (draft-ietf-httpapi-idempotency-key-header suggests 422, which would say
            // the request itself is invalid.)
            Self::Conflict(_) | Self::IdempotencyKeyReused(_) => StatusCode::CONFLICT,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        if matches!(self, Self::Unauthorized(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let Self::MethodNotAllowed { allow, .. } = self
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            response.insert_header((header::ALLOW, value));
        }
        response.json(self.problem())
    }
}

impl From<bitfox_market::FieldError> for FieldError {
    fn from(e: bitfox_market::FieldError) -> Self {
        Self { field: e.field, message: e.message }
    }
}

/// A marketplace refusal, as HTTP: each kind has its status; a store failure or a broken
/// invariant is a 500 whose cause is logged, not returned.
impl From<MarketError> for ApiError {
    fn from(e: MarketError) -> Self {
        match e {
            MarketError::Invalid(errors) => {
                Self::Validation(errors.into_iter().map(FieldError::from).collect())
            }
            MarketError::NotFound(m) => Self::NotFound(m),
            MarketError::Conflict(m) => Self::Conflict(m),
            MarketError::Unauthenticated(m) => Self::Unauthorized(m),
            MarketError::Forbidden(m) => Self::Forbidden(m),
            MarketError::Store(e) => Self::Internal(e.into()),
            MarketError::Corrupt(m) | MarketError::LeaseLost(m) => {
                Self::Internal(anyhow::anyhow!(m))
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

impl From<bitfox_store::diesel::result::Error> for ApiError {
    fn from(e: bitfox_store::diesel::result::Error) -> Self {
        Self::Internal(e.into())
    }
}
