//! Keys from a kmd (LocalNet's key management daemon): the accounts of one wallet —
//! by default LocalNet's `unencrypted-default-wallet`, whose accounts are funded at
//! genesis — exported once at start-up into the server's [`crate::signer::Keyring`].
//!
//! Written against kmd's v1 REST API (`GET /v1/wallets`, `POST /v1/wallet/init`,
//! `POST /v1/key/list`, `POST /v1/key/export`, `POST /v1/wallet/release`, token in
//! `X-KMD-API-Token`). NOT EXERCISED: no kmd can run on the project's build machines (it
//! ships inside LocalNet's algod image). On real networks there is no kmd: use the
//! encrypted keystore.

use algonaut::transaction::account::Account;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::json;

/// Why kmd's keys could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("kmd {url}: {reason}")]
pub struct KmdError {
    url: String,
    reason: String,
}

#[derive(Deserialize)]
struct Wallets {
    #[serde(default)]
    wallets: Vec<Wallet>,
}

#[derive(Deserialize)]
struct Wallet {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct Handle {
    wallet_handle_token: String,
}

#[derive(Deserialize)]
struct Addresses {
    #[serde(default)]
    addresses: Vec<String>,
}

#[derive(Deserialize)]
struct ExportedKey {
    private_key: String,
}

/// An answer body, parsed as the type the caller expects.
struct Parsed<'a> {
    text: String,
    url: &'a str,
}

impl Parsed<'_> {
    fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, KmdError> {
        serde_json::from_str(&self.text)
            .map_err(|e| KmdError { url: self.url.to_owned(), reason: e.to_string() })
    }
}

/// Exports every account of wallet `wallet` (password `password`) from the kmd at `url`.
pub async fn accounts(
    url: &str,
    token: &str,
    wallet: &str,
    password: &str,
) -> Result<Vec<Account>, KmdError> {
    let url = url.trim_end_matches('/');
    let fail = |reason: String| KmdError { url: url.to_owned(), reason };
    let http = reqwest::Client::new();
    let call = async |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
        let mut request =
            http.request(method, format!("{url}{path}")).header("X-KMD-API-Token", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| fail(e.to_string()))?;
        if !status.is_success() {
            return Err(fail(format!("{path}: {status} {text}")));
        }
        Ok(text)
    };
    let parse = |text: String| Parsed { text, url };

    let wallets: Wallets = parse(call(reqwest::Method::GET, "/v1/wallets", None).await?).json()?;
    let id = wallets
        .wallets
        .into_iter()
        .find(|w| w.name == wallet)
        .map(|w| w.id)
        .ok_or_else(|| fail(format!("no wallet named {wallet:?}")))?;
    let body = json!({"wallet_id": id, "wallet_password": password});
    let handle: Handle =
        parse(call(reqwest::Method::POST, "/v1/wallet/init", Some(body)).await?).json()?;
    let token_body = json!({"wallet_handle_token": handle.wallet_handle_token});
    let listed: Addresses =
        parse(call(reqwest::Method::POST, "/v1/key/list", Some(token_body.clone())).await?)
            .json()?;
    let mut out = Vec::with_capacity(listed.addresses.len());
    for address in listed.addresses {
        let body = json!({"address": address, "wallet_handle_token": handle.wallet_handle_token,
                          "wallet_password": password});
        let key: ExportedKey =
            parse(call(reqwest::Method::POST, "/v1/key/export", Some(body)).await?).json()?;
        let bytes = B64.decode(&key.private_key).map_err(|e| fail(e.to_string()))?;
        let seed: [u8; 32] = bytes
            .get(..32)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| fail(format!("the key of {address} is not an ed25519 key")))?;
        let account = Account::from_seed(seed);
        if account.address().to_string() != address {
            return Err(fail(format!("the key exported for {address} is another account's")));
        }
        out.push(account);
    }
    // Best effort: the handle expires by itself anyway.
    let _ = call(reqwest::Method::POST, "/v1/wallet/release", Some(token_body)).await;
    Ok(out)
}
