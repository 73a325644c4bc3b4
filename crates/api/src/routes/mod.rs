//! HTTP handlers, grouped by resource.

pub mod clusters;
pub mod gpus;
pub mod jobs;
pub mod rentals;
pub mod system;

use serde::Serialize;

use crate::error::ApiError;

/// Default page size of list endpoints.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size of list endpoints.
pub const MAX_LIMIT: i64 = 200;

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(e.into()))
}

/// A non-negative integer written in decimal digits only (no sign, no spaces), as the
/// schema's `integer` parameters are sent; `None` otherwise or beyond `i64`.
pub(crate) fn parse_digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

pub(crate) fn parse_limit(limit: Option<&str>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => parse_digits(text).filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
            ApiError::field("limit", format!("must be an integer between 1 and {MAX_LIMIT}"))
        }),
    }
}

pub(crate) fn parse_address(field: &str, text: Option<&str>) -> Result<Option<String>, ApiError> {
    text.map(|t| {
        t.parse::<bitfox_domain::Address>()
            .map(|a| a.to_string())
            .map_err(|e| ApiError::field(field, format!("not an Algorand address: {e}")))
    })
    .transpose()
}

/// The `Link` header value pointing at the next page: the request's query with
/// `cursor` replaced.
pub(crate) fn next_link(path: &str, query: &str, cursor: &str) -> String {
    let mut parts: Vec<&str> =
        query.split('&').filter(|p| !p.is_empty() && !p.starts_with("cursor=")).collect();
    let cursor_param = format!("cursor={cursor}");
    parts.push(&cursor_param);
    format!("<{path}?{}>; rel=\"next\"", parts.join("&"))
}
