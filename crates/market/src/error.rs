//! What a marketplace rule can refuse, in the marketplace's own terms. The HTTP API maps
//! each kind to a status (`bitfox-api`'s `ApiError: From<MarketError>`); a background job
//! records it as the job's reason. Nothing here knows about HTTP.

use bitfox_store::StoreError;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Why a marketplace operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// The request's fields break the rules.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    /// No such listing, rental, cluster or job.
    #[error("{0}")]
    NotFound(String),
    /// The thing is in a state that forbids the operation.
    #[error("{0}")]
    Conflict(String),
    /// The operation needs an authenticated caller.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A job's lease passed to another worker while this one ran it (its run must stop
    /// and write nothing more).
    #[error("{0}")]
    LeaseLost(String),
    /// A stored value breaks an invariant (a bug or a corrupt row), with what it was.
    #[error("{0}")]
    Corrupt(String),
}

fn join(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
}

impl MarketError {
    /// A validation error on one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// A broken invariant, described.
    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

impl From<bitfox_store::diesel::result::Error> for MarketError {
    fn from(e: bitfox_store::diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// Results of marketplace operations.
pub type Result<T, E = MarketError> = std::result::Result<T, E>;
