//! Request extraction with errors that name the field and the rule.
//!
//! * [`ValidJson`]: a JSON body, size-limited, parsed with the path of any failing field
//!   (`price_per_minute: must be greater than zero`), unknown fields refused by the body
//!   types themselves (`deny_unknown_fields`).
//!   A number with a zero fraction or an exponent (`3824.0`, `1e3`) is an integer, as JSON
//!   Schema says (its `integer` type is any number with a zero fractional part), so a
//!   client that writes integers as floats (JavaScript, Python's `float`) is understood.
//! * [`OptionalJson`]: the same, for a body that may be left out (or sent as `null`).
//! * [`parse_id`]: a positive integer id from the path.
//! * [`parse_query`]: query parameters into a struct, unknown parameters refused.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Default request body limit, in bytes.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The request body limit, as app data (actix's `PayloadConfig` enforces it; this copy
/// names it in the error).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body of type `T`, with the raw bytes kept for request fingerprints.
#[derive(Debug)]
pub struct ValidJson<T> {
    /// The parsed body.
    pub value: T,
    /// The body as received.
    pub raw: Bytes,
}

/// A possibly empty JSON body: `None` when the request has no body at all, or its body is
/// the JSON `null`.
#[derive(Debug)]
pub struct OptionalJson<T> {
    /// The parsed body, if one was sent.
    pub value: Option<T>,
    /// The body as received (empty when none was sent).
    pub raw: Bytes,
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        // Lenient like most JSON APIs: a body without a content type is read as JSON.
        return Ok(());
    };
    let text = value.to_str().unwrap_or("").trim();
    let essence = text.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be application/json, got {text:?}"
        )))
    }
}

async fn body_bytes(req: HttpRequest, mut payload: Payload) -> Result<Bytes, ApiError> {
    let limit = req.app_data::<BodyLimit>().map_or(DEFAULT_BODY_LIMIT, |l| l.0);
    let bytes = Bytes::from_request(&req, &mut payload).await.map_err(|e| {
        match e.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => ApiError::PayloadTooLarge(limit),
            _ if e.to_string().contains("overflow") || e.to_string().contains("larger") => {
                ApiError::PayloadTooLarge(limit)
            }
            _ => ApiError::BadRequest(format!("could not read the request body: {e}")),
        }
    })?;
    Ok(bytes)
}

/// Parses `bytes` as JSON into `T`, naming the failing field. Integers written as floats
/// (`3824.0`, `1e3`) are read as integers; see [`integral_numbers`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match parse_exact(bytes) {
        Err(ApiError::Validation(errors)) => match integral_numbers(bytes) {
            Some(rewritten) => parse_exact(&rewritten),
            None => Err(ApiError::Validation(errors)),
        },
        other => other,
    }
}

fn parse_exact<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

/// `json` with every number that is an integer written with a fraction or an exponent
/// (`3824.0`, `-2.50e1`, `1e+16`) rewritten as a plain integer (`3824`, `-25`,
/// `10000000000000000`), digit by digit, so no precision is lost; `None` if there is none.
/// Strings are copied untouched. Numbers that are not integers (`1.5`), or whose integer
/// would have more than 40 digits (far beyond any field's range), stay as they are and
/// are refused by the field as before.
pub fn integral_numbers(json: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(json.len());
    let mut changed = false;
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < json.len() && json[i] != b'"' {
                    i += if json[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(json.len());
                out.extend_from_slice(&json[start..i]);
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < json.len()
                    && matches!(json[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                let token = &json[start..i];
                match integer_text(token) {
                    Some(integer) => {
                        out.extend_from_slice(integer.as_bytes());
                        changed = true;
                    }
                    None => out.extend_from_slice(token),
                }
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

/// The plain integer a JSON number token with a fraction or exponent stands for, if it
/// is one; `None` for plain integers, non-integers and malformed tokens.
fn integer_text(token: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(token).ok()?;
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
        return None;
    }
    if fraction.is_empty() && exponent == 0 && !text.contains(['.', 'e', 'E']) {
        return None;
    }
    // value = digits * 10^shift
    let digits = format!("{whole}{fraction}");
    let shift = i64::from(exponent) - i64::try_from(fraction.len()).ok()?;
    let digits = digits.trim_start_matches('0');
    let integer = if shift >= 0 {
        if digits.is_empty() {
            String::new()
        } else {
            let zeros = usize::try_from(shift).ok().filter(|z| digits.len() + z <= 40)?;
            format!("{digits}{}", "0".repeat(zeros))
        }
    } else {
        let cut = usize::try_from(-shift).ok()?;
        if cut >= digits.len() {
            digits.bytes().all(|b| b == b'0').then(String::new)?
        } else {
            let (kept, dropped) = digits.split_at(digits.len() - cut);
            if !dropped.bytes().all(|b| b == b'0') {
                return None;
            }
            kept.to_owned()
        }
    };
    Some(match (integer.is_empty(), negative) {
        (true, _) => "0".to_owned(),
        (false, true) => format!("-{integer}"),
        (false, false) => integer,
    })
}

fn json_error(path: &str, error: &serde_json::Error) -> ApiError {
    let full = error.to_string();
    // serde_json appends " at line L column C"; the position helps only for syntax.
    let message = match full.rfind(" at line ") {
        Some(at) if !error.is_syntax() && !error.is_eof() => full[..at].to_owned(),
        _ => full.clone(),
    };
    if error.is_syntax() || error.is_eof() {
        return ApiError::BadRequest(format!("request body is not valid JSON: {message}"));
    }
    let field = field_from(path, &message);
    ApiError::Validation(vec![FieldError::new(field, message)])
}

/// The field a serde error is about: its path, or for "missing field `x`" errors (raised
/// at the enclosing object) the path of the quoted name. serde_path_to_error already
/// puts an unknown field's name at the end of the path.
fn field_from(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_owned(),
    }
}

/// Reads the body as JSON: `None` for an empty body unless `required`.
async fn read_json<T: DeserializeOwned>(
    req: HttpRequest,
    payload: Payload,
    required: bool,
) -> Result<(Option<T>, Bytes), ApiError> {
    let raw = body_bytes(req.clone(), payload).await?;
    if raw.iter().all(u8::is_ascii_whitespace) {
        if required {
            check_content_type(&req)?;
            return Err(ApiError::BadRequest("a JSON request body is required".to_owned()));
        }
        return Ok((None, raw));
    }
    check_content_type(&req)?;
    if !required && raw.trim_ascii() == b"null" {
        return Ok((None, raw));
    }
    Ok((Some(parse_json(&raw)?), raw))
}

impl<T: DeserializeOwned + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let (value, raw) = read_json(req, payload, true).await?;
            let value = value
                .ok_or_else(|| ApiError::BadRequest("a JSON request body is required".into()))?;
            Ok(Self { value, raw })
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let (value, raw) = read_json(req, payload, false).await?;
            Ok(Self { value, raw })
        })
    }
}

/// Parses a path segment as a positive integer id.
pub fn parse_id<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| {
        ApiError::NotFound(format!("{name} {text:?} does not exist (ids are positive integers)"))
    })
}

/// Parses a query string into `T` (whose fields should all be optional strings),
/// refusing unknown and repeated parameters.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let mut seen = std::collections::HashSet::new();
    let mut map = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key)
            .ok_or_else(|| ApiError::BadRequest("query string is not valid UTF-8".into()))?;
        let value = decode(value)
            .ok_or_else(|| ApiError::BadRequest("query string is not valid UTF-8".into()))?;
        if !seen.insert(key.clone()) {
            return Err(ApiError::field(key, "must be given at most once"));
        }
        map.insert(key, serde_json::Value::String(value));
    }
    serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let message = message.replace("unknown field", "unknown parameter");
        ApiError::field(
            field_from(&path, &message.replace("unknown parameter", "unknown field")),
            message,
        )
    })
}

/// Percent-decodes a query component (`+` is a space).
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                if i + 2 >= bytes.len() {
                    return None;
                }
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        price: bitfox_domain::PricePerMinute,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Q {
        model: Option<String>,
    }

    #[test]
    fn json_errors_name_the_field() {
        let err = parse_json::<Body>(br#"{"price": 0}"#).unwrap_err();
        assert_eq!(err.to_string(), "price: must be greater than zero");
        let err = parse_json::<Body>(br#"{"price": 1, "extra": 2}"#).unwrap_err();
        assert!(err.to_string().starts_with("extra: unknown field `extra`"), "{err}");
        let err = parse_json::<Body>(br#"{}"#).unwrap_err();
        assert_eq!(err.to_string(), "price: missing field `price`");
        let err = parse_json::<Body>(br#"{"price": "#).unwrap_err();
        assert!(matches!(err, ApiError::BadRequest(_)), "{err}");
        let err = parse_json::<Body>(br#"{"price": 1} x"#).unwrap_err();
        assert!(matches!(err, ApiError::BadRequest(_)), "{err}");
    }

    #[test]
    fn integers_written_as_floats_are_integers() {
        let rewrite =
            |s: &str| integral_numbers(s.as_bytes()).map(|b| String::from_utf8(b).unwrap());
        assert_eq!(rewrite(r#"{"price": 3824.0}"#).as_deref(), Some(r#"{"price": 3824}"#));
        assert_eq!(
            rewrite("[1e3, -2.50e1, 1E+16, 0.0, -0e5, 120e-1]").as_deref(),
            Some("[1000, -25, 10000000000000000, 0, 0, 12]")
        );
        assert_eq!(
            rewrite("[12345678901234567.0]").as_deref(),
            Some("[12345678901234567]"),
            "exact past 2^53"
        );
        assert_eq!(rewrite(r#"{"a": 1, "b": 1.5, "c": "3.0", "d\\\"": 2e-1}"#), None);
        assert_eq!(rewrite("[1e41]"), None, "too long to be any field's value");
        let body: Body = parse_json(br#"{"price": 3824.0}"#).unwrap();
        assert_eq!(body.price.get(), 3824);
        let err = parse_json::<Body>(br#"{"price": 1.5}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type: floating point"), "{err}");
    }

    #[test]
    fn query_parsing() {
        let q: Q = parse_query("model=RTX%204090+Ti").unwrap();
        assert_eq!(q.model.as_deref(), Some("RTX 4090 Ti"));
        let err = parse_query::<Q>("modle=x").unwrap_err();
        assert!(err.to_string().starts_with("modle: unknown parameter"), "{err}");
        let err = parse_query::<Q>("model=a&model=b").unwrap_err();
        assert_eq!(err.to_string(), "model: must be given at most once");
        assert!(parse_query::<Q>("model=%zz").is_err());
        assert!(parse_query::<Q>("model=%4").is_err());
    }
}
