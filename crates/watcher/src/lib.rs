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
//!
//! Anyone can call the contract, so nothing on chain may stop the watcher: a log that
//! names an event but does not decode, or whose values break the mirror's arithmetic,
//! is recorded as an anomaly (app, round, transaction, log index, reason, bytes) and
//! skipped, and the rest of its transaction and page is mirrored as usual. Only the
//! indexer or the database being unavailable holds the cursor back, and those are
//! retried: [`Watcher::run`] returns only when cancelled.

pub mod indexer;
pub mod mirror;

use std::time::Duration;

use bitfox_contract as abi;
use bitfox_store::DbConnection;
use bitfox_store::diesel::Connection;
use bitfox_store::diesel::result::Error as DieselError;
use bitfox_store::{Store, StoreError, now_seconds};
use tokio_util::sync::CancellationToken;

use crate::indexer::{Blocks, Indexer, IndexerError};
use crate::mirror::Origin;

/// Transactions asked for per indexer page (the indexer's default page; the devnet's
/// largest).
const PAGE: u32 = 1_000;
/// Longest wait for the next block before syncing anyway.
const BLOCK_WAIT: Duration = Duration::from_secs(10);
/// Least time between two syncs that found nothing new while following blocks.
const MIN_GAP: Duration = Duration::from_millis(20);

/// Why a sync step failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Indexer(#[from] IndexerError),
    #[error("database: {0}")]
    Store(String),
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
    /// Logs recorded as anomalies and skipped.
    pub anomalies: usize,
}

/// Follows one app.
#[derive(Debug, Clone)]
pub struct Watcher {
    store: Store,
    indexer: Indexer,
    blocks: Option<Blocks>,
    app_id: u64,
    app_address: String,
}

impl Watcher {
    /// Watches `app_id` through `indexer`, mirroring into `store`.
    pub fn new(store: Store, indexer: Indexer, app_id: u64) -> Self {
        let app_address = bitfox_contract::app_address(app_id).to_string();
        Self { store, indexer, blocks: None, app_id, app_address }
    }

    /// Follows the chain block by block: once caught up, waits for algod's next block
    /// (`wait-for-block-after`) instead of sleeping a poll interval, so the mirror trails
    /// the chain by about one indexer request.
    pub fn with_blocks(mut self, blocks: Blocks) -> Self {
        self.blocks = Some(blocks);
        self
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
            let (applied, skipped, anomalies) =
                self.store
                    .write_unlisted(move |c| {
                        let mut counts = (0, 0, 0);
                        let now = now_seconds();
                        for txn in &transactions {
                            // Events are numbered among the logs that name one of the
                            // contract's events (its return value is not one).
                            let logs = txn.logs.iter().filter_map(|log| {
                                abi::decode_event(log).map(|decoded| (log, decoded))
                            });
                            for (log_index, (log, decoded)) in logs.enumerate() {
                                let origin =
                                    Origin { app_id, round: txn.round, txid: &txn.txid, log_index };
                                match apply_one(c, origin, &address, log, decoded, now)? {
                                    Applied::New => counts.0 += 1,
                                    Applied::Seen => counts.1 += 1,
                                    Applied::Anomaly => counts.2 += 1,
                                }
                            }
                        }
                        mirror::set_cursor(c, app_id, round, now)?;
                        Ok::<_, WatchError>(counts)
                    })
                    .await?;
            if anomalies > 0 {
                tracing::warn!(anomalies, round, "chain logs recorded as anomalies and skipped");
            }
            progress.round = round;
            progress.chain_round = page.current_round;
            progress.applied += applied;
            progress.skipped += skipped;
            progress.anomalies += anomalies;
            on_page(&progress);
            match page.next {
                Some(token) => next = Some(token),
                None => return Ok(progress),
            }
        }
    }

    /// Syncs until `cancel` fires: after each sync it waits for the next block when it
    /// follows blocks ([`Watcher::with_blocks`]), and otherwise (or when algod cannot be
    /// asked) for `interval`. Indexer and database errors are logged and retried, so it
    /// returns only when cancelled.
    pub async fn run(
        self,
        interval: Duration,
        cancel: CancellationToken,
    ) -> Result<(), WatchError> {
        tracing::info!(app_id = self.app_id, blocks = self.blocks.is_some(), "watcher started");
        loop {
            let synced = self
                .sync(|p| {
                    if p.chain_round > p.round {
                        tracing::info!(round = p.round, chain_round = p.chain_round, "catching up");
                    }
                })
                .await;
            let waited = match (&synced, &self.blocks) {
                // An indexer trailing algod answers with its own round: waiting after
                // it returns at once, so syncs that find nothing new are spaced a little.
                (Ok(p), Some(blocks)) => {
                    let gap =
                        tokio::time::sleep(if p.applied > 0 { Duration::ZERO } else { MIN_GAP });
                    let wait = blocks.wait_after(p.chain_round.max(p.round), BLOCK_WAIT);
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        (waited, ()) = async { tokio::join!(wait, gap) } => waited.is_ok(),
                    }
                }
                _ => false,
            };
            match synced {
                Ok(p) if p.applied > 0 => {
                    tracing::info!(round = p.round, applied = p.applied, "mirrored");
                }
                Ok(_) => {}
                Err(WatchError::Indexer(e)) => tracing::warn!(error = %e, "indexer unavailable"),
                // A busy or briefly failing database: the page is applied again next time.
                Err(WatchError::Store(e)) => tracing::warn!(error = %e, "mirror write failed"),
            }
            if !waited {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(interval) => {}
                }
            }
        }
        tracing::info!("watcher stopped");
        Ok(())
    }
}

/// What became of one event log.
enum Applied {
    New,
    Seen,
    Anomaly,
}

/// Applies one decoded log inside its own savepoint. A log that does not decode, or
/// whose values the mirror refuses (an error that would recur on every replay), is
/// recorded as an anomaly instead; an error that may pass (a busy database) is returned
/// so the page is tried again.
fn apply_one(
    conn: &mut DbConnection,
    origin: Origin<'_>,
    app_address: &str,
    log: &[u8],
    decoded: Result<abi::Event, abi::EventError>,
    now: i64,
) -> Result<Applied, WatchError> {
    let event = match decoded {
        Ok(event) => event,
        Err(e) => return anomaly(conn, origin, &e.to_string(), log, now),
    };
    let applied = conn.transaction(|c| mirror::apply(c, origin, app_address, &event));
    match applied {
        Ok(true) => Ok(Applied::New),
        Ok(false) => Ok(Applied::Seen),
        Err(e) if lasting(&e) => anomaly(
            conn,
            origin,
            &format!("{} event refused by the mirror: {e}", event.name()),
            log,
            now,
        ),
        Err(e) => Err(e.into()),
    }
}

fn anomaly(
    conn: &mut DbConnection,
    origin: Origin<'_>,
    reason: &str,
    log: &[u8],
    now: i64,
) -> Result<Applied, WatchError> {
    if mirror::record_anomaly(conn, origin, reason, log, now)? {
        tracing::warn!(txid = origin.txid, round = origin.round, reason, "anomaly recorded");
        Ok(Applied::Anomaly)
    } else {
        Ok(Applied::Seen)
    }
}

/// Whether a mirror error would recur on every replay of the same event.
fn lasting(e: &DieselError) -> bool {
    use bitfox_store::diesel::result::DatabaseErrorKind as Kind;
    match e {
        DieselError::SerializationError(_) | DieselError::DeserializationError(_) => true,
        DieselError::DatabaseError(kind, _) => matches!(
            kind,
            Kind::UniqueViolation
                | Kind::ForeignKeyViolation
                | Kind::NotNullViolation
                | Kind::CheckViolation
        ),
        _ => false,
    }
}
