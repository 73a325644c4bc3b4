//! The field rules of listings, shared by registration and changes.

use bitfox_domain::amount::TOTAL_SUPPLY;
use bitfox_domain::billing::PricePerMinute;

use crate::error::{FieldError, MarketError, Result};

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

pub(crate) fn check_price(errors: &mut Vec<FieldError>, price: PricePerMinute) -> PricePerMinute {
    if price.get() > TOTAL_SUPPLY {
        errors.push(FieldError::new(
            "price_per_minute",
            format!("must be at most {TOTAL_SUPPLY} microAlgos (the total Algo supply)"),
        ));
    }
    price
}

pub(crate) fn finish(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() { Ok(()) } else { Err(MarketError::Invalid(errors)) }
}
