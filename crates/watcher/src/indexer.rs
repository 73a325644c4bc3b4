//! The few indexer v2 calls the watcher needs, written against the REST shape (the same
//! on the devnet, LocalNet and TestNet), with the `X-Indexer-API-Token` header.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

/// Why the indexer could not answer.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error("indexer unreachable: {0}")]
    Unreachable(String),
    #[error("indexer answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("indexer answer not understood: {0}")]
    Decode(String),
}

/// One page of an application's transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The indexer's latest round when it answered.
    pub current_round: u64,
    /// Transactions calling the app, oldest first.
    pub transactions: Vec<AppTxn>,
    /// Continuation token when there is more.
    pub next: Option<String>,
}

/// A confirmed top-level call of the app, with its logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppTxn {
    pub txid: String,
    pub round: u64,
    pub logs: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
struct RawPage {
    #[serde(rename = "current-round")]
    current_round: u64,
    #[serde(default)]
    transactions: Vec<RawTxn>,
    #[serde(rename = "next-token")]
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct RawTxn {
    id: Option<String>,
    #[serde(rename = "confirmed-round")]
    confirmed_round: u64,
    #[serde(default)]
    logs: Vec<String>,
    #[serde(rename = "application-transaction")]
    application: Option<RawApp>,
    #[serde(rename = "created-application-index")]
    created_application: Option<u64>,
}

#[derive(Deserialize)]
struct RawApp {
    #[serde(rename = "application-id")]
    application_id: u64,
}

/// An indexer endpoint.
#[derive(Debug, Clone)]
pub struct Indexer {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Indexer {
    /// The indexer at `url` (no trailing slash needed), sending `token`.
    pub fn new(url: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// Calls of `app_id` confirmed in `min_round` or later; `next` continues a search.
    pub async fn app_transactions(
        &self,
        app_id: u64,
        min_round: u64,
        next: Option<&str>,
        limit: u32,
    ) -> Result<Page, IndexerError> {
        let mut query = vec![
            ("application-id", app_id.to_string()),
            ("min-round", min_round.to_string()),
            ("limit", limit.to_string()),
        ];
        if let Some(next) = next {
            query.push(("next", next.to_owned()));
        }
        let response = self
            .http
            .get(format!("{}/v2/transactions", self.url))
            .query(&query)
            .header("X-Indexer-API-Token", &self.token)
            .send()
            .await
            .map_err(|e| IndexerError::Unreachable(e.to_string()))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| IndexerError::Unreachable(e.to_string()))?;
        if !status.is_success() {
            return Err(IndexerError::Status { status: status.as_u16(), body });
        }
        let raw: RawPage =
            serde_json::from_str(&body).map_err(|e| IndexerError::Decode(e.to_string()))?;
        let mut transactions = Vec::with_capacity(raw.transactions.len());
        for txn in raw.transactions {
            // Only the app's own top-level calls log its events.
            let called = txn.application.as_ref().map(|a| a.application_id);
            if called != Some(app_id) && txn.created_application != Some(app_id) {
                continue;
            }
            let logs = txn
                .logs
                .iter()
                .map(|l| B64.decode(l))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| IndexerError::Decode(format!("a log is not base64: {e}")))?;
            let txid =
                txn.id.ok_or_else(|| IndexerError::Decode("a transaction without id".into()))?;
            transactions.push(AppTxn { txid, round: txn.confirmed_round, logs });
        }
        Ok(Page { current_round: raw.current_round, transactions, next: raw.next_token })
    }
}

/// An algod endpoint, used only to wait for the next block
/// (`GET /v2/status/wait-for-block-after/{round}`), so the watcher follows the chain as
/// it grows instead of on a fixed poll.
#[derive(Debug, Clone)]
pub struct Blocks {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Blocks {
    /// The algod at `url` (no trailing slash needed), sending `token`.
    pub fn new(url: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// Returns once the node has a block after `round` (algod answers after at most a
    /// minute even if none came), or after `limit`; an error when the node cannot be
    /// asked.
    pub async fn wait_after(
        &self,
        round: u64,
        limit: std::time::Duration,
    ) -> Result<(), IndexerError> {
        let response = self
            .http
            .get(format!("{}/v2/status/wait-for-block-after/{round}", self.url))
            .header("X-Algo-API-Token", &self.token)
            .timeout(limit)
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(IndexerError::Status { status: r.status().as_u16(), body: String::new() }),
            Err(e) if e.is_timeout() => Ok(()),
            Err(e) => Err(IndexerError::Unreachable(e.to_string())),
        }
    }
}
