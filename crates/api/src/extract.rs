//! Request extraction with errors that name the field and the rule.
//!
//! * [`ValidJson`]: a JSON body, size-limited, parsed with the path of any failing field
//!   (`price_per_minute: must be greater than zero`), unknown fields refused by the body
//!   types themselves (`deny_unknown_fields`).
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

/// A possibly empty JSON body: `None` when the request has no body at all.
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

/// Parses `bytes` as JSON into `T`, naming the failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
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
        #[allow(dead_code)]
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
