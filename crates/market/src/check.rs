//! Checks shared by the rules: stored statuses read back through the state machines,
//! and the field rules of listings.

use bitfox_domain::amount::TOTAL_SUPPLY;
use bitfox_domain::{GpuStatus, RentalStatus};
use bitfox_store::models::{GpuRow, RentalRow};

use crate::error::{FieldError, MarketError, Result};

pub(crate) fn parse_status<S: std::str::FromStr>(text: &str, what: &str) -> Result<S> {
    text.parse()
        .map_err(|_| MarketError::Corrupt(format!("stored {what} status {text:?} is unknown")))
}

pub(crate) fn gpu_status(row: &GpuRow) -> Result<GpuStatus> {
    parse_status(&row.status, "GPU")
}

pub(crate) fn rental_status(row: &RentalRow) -> Result<RentalStatus> {
    parse_status(&row.status, "rental")
}

pub(crate) fn internal(e: impl std::fmt::Display) -> MarketError {
    MarketError::corrupt(e)
}

/// Checks a model name: 1–100 characters, no control characters.
pub(crate) fn check_model(errors: &mut Vec<FieldError>, model: &str) -> String {
    let model = model.trim();
    if model.is_empty() || model.chars().count() > 100 {
        errors.push(FieldError::new("gpu_model", "must be 1 to 100 characters"));
    } else if model.chars().any(char::is_control) {
        errors.push(FieldError::new("gpu_model", "must not contain control characters"));
    }
    model.to_owned()
}

pub(crate) fn check_region(errors: &mut Vec<FieldError>, region: &str) -> String {
    let region = region.trim();
    let ok = !region.is_empty()
        && region.len() <= 64
        && region.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' '));
    if !ok {
        errors.push(FieldError::new(
            "region",
            "must be 1 to 64 characters of letters, digits, '-', '_' or spaces",
        ));
    }
    region.to_owned()
}

pub(crate) fn check_range(errors: &mut Vec<FieldError>, field: &str, value: u32, max: u32) -> i32 {
    if value == 0 || value > max {
        errors.push(FieldError::new(field, format!("must be between 1 and {max}")));
    }
    i32::try_from(value).unwrap_or(i32::MAX)
}

pub(crate) fn check_price(errors: &mut Vec<FieldError>, price: u64) -> i64 {
    if price > TOTAL_SUPPLY {
        errors.push(FieldError::new(
            "price_per_minute",
            format!("must be at most {TOTAL_SUPPLY} microAlgos (the total Algo supply)"),
        ));
    }
    i64::try_from(price).unwrap_or(i64::MAX)
}

pub(crate) fn finish(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() { Ok(()) } else { Err(MarketError::Invalid(errors)) }
}
