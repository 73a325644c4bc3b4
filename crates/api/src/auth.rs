//! API keys and the caller's identity.
//!
//! A key is `bfx_` followed by 32 random bytes in hex. Only its SHA-256 digest is stored
//! (keys are high-entropy, so a plain digest is enough); the key is shown once, when
//! created. A request presents it as `Authorization: Bearer <key>`; the key is bound to
//! one Algorand address, which becomes the caller.
//!
//! In production mode every mutating route requires a key
//! ([`bitfox_market::Caller::require`]). In dev
//! mode a request without a key is let through as anonymous, but a key that is sent is
//! still verified and its address still bound, so ownership checks can be tried out.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, web};
use bitfox_domain::Address;
use bitfox_store::DbConnection;
use bitfox_store::models::NewApiKey;
use bitfox_store::repo::api_key;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// Prefix of every API key.
pub const KEY_PREFIX: &str = "bfx_";

/// The hex SHA-256 digest under which a key is stored.
pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a new key for `address`, stores its hash and returns the key (the only time
/// it is ever visible).
pub fn create_key(
    conn: &mut DbConnection,
    address: &Address,
    label: &str,
    now: i64,
) -> Result<(i64, String), bitfox_store::diesel::result::Error> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key =
        format!("{KEY_PREFIX}{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let row = api_key::insert(
        conn,
        &NewApiKey {
            address: address.to_string(),
            key_hash: hash_key(&key),
            label: label.to_owned(),
            created_at: now,
        },
    )?;
    Ok((row.id, key))
}

/// Who is calling, as the marketplace sees it ([`bitfox_market::Caller`]), taken from
/// the request's API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller(pub bitfox_market::Caller);

impl std::ops::Deref for Caller {
    type Target = bitfox_market::Caller;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req.headers().get(header::AUTHORIZATION).cloned();
        let mutating = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no app state")))?;
            let mode = state.mode;
            let Some(header) = header else {
                let caller = bitfox_market::Caller { address: None, mode };
                if mutating {
                    // Refuse before the body is even read.
                    caller.require()?;
                }
                return Ok(Self(caller));
            };
            let text = header.to_str().unwrap_or("");
            let key = text
                .strip_prefix("Bearer ")
                .map(str::trim)
                .filter(|k| k.starts_with(KEY_PREFIX))
                .ok_or_else(|| {
                    ApiError::Unauthorized(
                        "Authorization must be `Bearer bfx_...` with a BitFox API key".to_owned(),
                    )
                })?;
            let digest = hash_key(key);
            let row = state
                .store
                .read(move |conn| api_key::find_active(conn, &digest).map_err(ApiError::from))
                .await?;
            let row =
                row.ok_or_else(|| ApiError::Unauthorized("unknown or revoked API key".to_owned()))?;
            let address = row.address.parse::<Address>().map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("stored key {} has a bad address: {e}", row.id))
            })?;
            Ok(Self(bitfox_market::Caller { address: Some(address), mode }))
        })
    }
}
