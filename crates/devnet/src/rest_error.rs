//! The error answer of the REST APIs, in algod's shape `{"message": ...}`, shared by the
//! algod routes ([`crate::server`]) and the indexer search ([`crate::indexer`]).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// An error answer in algod's shape: `{"message": ...}`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AlgodError {
    status: StatusCode,
    message: String,
}

impl ResponseError for AlgodError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(json!({ "message": self.message }))
    }
}

/// An [`AlgodError`] answering `status` with `message`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> AlgodError {
    AlgodError { status, message: message.into() }
}
