//! The indexer watcher: follows the contract's calls through the indexer v2 API,
//! decodes their ARC-28 events and mirrors listings, rentals, settlements, clusters and
//! holdings into SQLite.
//!
//! Each page of transactions is applied in one database transaction together with the
//! cursor (the last round fully mirrored): a crash loses nothing and duplicates nothing,
//! and an event seen twice (a replayed round, `--from-round`) is skipped by its unique
//! (app, round, txid, log index). Algorand has instant finality: no reorgs to undo.
//!
//! Only the app's top-level calls are followed (the contract is never called from other
//! apps by BitFox); events of inner calls into it would not be mirrored.

pub mod indexer;
pub mod mirror;

use std::time::Duration;

use bitfox_contract as abi;
use bitfox_store::{Store, StoreError, now_seconds};
use tokio_util::sync::CancellationToken;

use crate::indexer::{Indexer, IndexerError};
use crate::mirror::Origin;

/// Transactions asked for per indexer page.
const PAGE: u32 = 1_000;

/// Why a sync step failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Indexer(#[from] IndexerError),
    #[error("database: {0}")]
    Store(String),
    #[error("transaction {txid} in round {round}: {source}")]
    Event { txid: String, round: u64, source: abi::EventError },
}

impl From<StoreError> for WatchError {
    fn from(e: StoreError) -> Self {
        Self::Store(e.to_string())
    }
}

impl From<bitfox_store::diesel::result::Error> for WatchError {
    fn from(e: bitfox_store::diesel::result::Error) -> Self {
        Self::Store(e.to_string())
    }
}

/// What one sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// The mirrored round afterwards.
    pub round: u64,
    /// The indexer's round at the last answer.
    pub chain_round: u64,
    /// Events newly applied.
    pub applied: usize,
    /// Events seen again and skipped.
    pub skipped: usize,
}

/// Follows one app.
#[derive(Debug, Clone)]
pub struct Watcher {
    store: Store,
    indexer: Indexer,
    app_id: u64,
    app_address: String,
}

impl Watcher {
    /// Watches `app_id` through `indexer`, mirroring into `store`.
    pub fn new(store: Store, indexer: Indexer, app_id: u64) -> Self {
        let app_address = bitfox_contract::app_address(app_id).to_string();
        Self { store, indexer, app_id, app_address }
    }

    /// The mirrored round.
    pub async fn cursor(&self) -> Result<u64, WatchError> {
        let app_id = self.app_id;
        self.store.read(move |c| Ok(mirror::cursor(c, app_id)?)).await
    }

    /// Makes the next sync start at `round` (a resync; events already mirrored are
    /// skipped, so nothing is counted twice).
    pub async fn rewind_to(&self, round: u64) -> Result<(), WatchError> {
        let app_id = self.app_id;
        self.store
            .write_unlisted(move |c| {
                Ok(mirror::set_cursor(c, app_id, round.saturating_sub(1), now_seconds())?)
            })
            .await
    }

    /// Mirrors everything the indexer has after the cursor, page by page; `on_page` is
    /// told the progress after each page (for catching-up output).
    pub async fn sync(&self, on_page: impl Fn(&Progress)) -> Result<Progress, WatchError> {
        let mut progress = Progress { round: self.cursor().await?, ..Progress::default() };
        let min_round = progress.round + 1;
        let mut next: Option<String> = None;
        loop {
            let page = self
                .indexer
                .app_transactions(self.app_id, min_round, next.as_deref(), PAGE)
                .await?;
            // With more to come the last round may continue on the next page: the cursor
            // stops before it (its events are applied now; replaying them is harmless).
            let last = page.transactions.last().map(|t| t.round);
            let round = match (&page.next, last) {
                (Some(_), Some(last)) => last.saturating_sub(1).max(progress.round),
                // More to come but nothing of ours on this page: the cursor stays.
                (Some(_), None) => progress.round,
                (None, _) => page.current_round.max(progress.round),
            };
            let (app_id, address) = (self.app_id, self.app_address.clone());
            let transactions = page.transactions;
            let (applied, skipped) = self
                .store
                .write_unlisted(move |c| {
                    let (mut applied, mut skipped) = (0, 0);
                    for txn in &transactions {
                        let events = abi::events(&txn.logs).map_err(|source| {
                            WatchError::Event { txid: txn.txid.clone(), round: txn.round, source }
                        })?;
                        for (log_index, event) in events.iter().enumerate() {
                            let origin =
                                Origin { app_id, round: txn.round, txid: &txn.txid, log_index };
                            if mirror::apply(c, origin, &address, event)? {
                                applied += 1;
                            } else {
                                skipped += 1;
                            }
                        }
                    }
                    mirror::set_cursor(c, app_id, round, now_seconds())?;
                    Ok::<_, WatchError>((applied, skipped))
                })
                .await?;
            progress.round = round;
            progress.chain_round = page.current_round;
            progress.applied += applied;
            progress.skipped += skipped;
            on_page(&progress);
            match page.next {
                Some(token) => next = Some(token),
                None => return Ok(progress),
            }
        }
    }

    /// Syncs every `interval` until `cancel` fires; indexer errors are logged and retried.
    pub async fn run(
        self,
        interval: Duration,
        cancel: CancellationToken,
    ) -> Result<(), WatchError> {
        tracing::info!(app_id = self.app_id, "watcher started");
        loop {
            match self
                .sync(|p| {
                    if p.chain_round > p.round {
                        tracing::info!(round = p.round, chain_round = p.chain_round, "catching up");
                    }
                })
                .await
            {
                Ok(p) if p.applied > 0 => {
                    tracing::info!(round = p.round, applied = p.applied, "mirrored");
                }
                Ok(_) => {}
                Err(WatchError::Indexer(e)) => tracing::warn!(error = %e, "indexer unavailable"),
                // A busy or briefly failing database: the page is applied again next time.
                Err(WatchError::Store(e)) => tracing::warn!(error = %e, "mirror write failed"),
                Err(e) => return Err(e),
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(interval) => {}
            }
        }
        tracing::info!("watcher stopped");
        Ok(())
    }
}
