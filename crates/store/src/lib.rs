//! BitFox persistence.
//!
//! SQLite through diesel, with the library bundled so no system SQLite is needed.
//! Every connection runs in WAL mode with a busy timeout and foreign keys on, so the API,
//! the job runner and the watcher can share one database file safely.
//! Migrations are embedded in the binary ([`Store::migrate`]).
//!
//! Writers use [`Store::write`], which runs a closure inside an `IMMEDIATE` transaction
//! on the process's single writer connection: in-process writers queue for it in order
//! (instead of SQLite's sleep-and-retry busy handler, which made write latency spiky),
//! and a read-check-write inside the closure (e.g. "is this GPU still available?")
//! cannot race another writer, in this process or another. Readers use a separate pool
//! and, in WAL mode, never wait for the writer.
//!
//! Every committed write that changed rows runs the store's commit hooks
//! ([`Store::on_commit`]) on the writer connection before the write returns (except the
//! watcher's mirror writes, see [`Store::write_unlisted`]): the API's listing read model
//! follows the listing change feed ([`repo::gpu::changed_since`]) there, so a write is in
//! the model before its request is answered.
//!
//! Row types ([`models`]) are this crate's own; the API maps them to its wire types.
//! The watcher's mirror of the chain is written and read through [`mirror`] only.

pub use diesel;
pub use diesel_migrations;

pub mod mirror;
pub mod models;
pub mod repo;
pub mod schema;

use std::path::Path;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The migrations compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection from the pool.
pub type Conn = PooledConnection<ConnectionManager<SqliteConnection>>;

/// Runs after a committed write that changed rows, on the writer connection, before the
/// write returns (see [`Store::on_commit`]).
pub type CommitHook = Arc<dyn Fn(&mut SqliteConnection) + Send + Sync>;

/// A persistence failure. Callers see "the database failed"; the cause is for logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had or opened.
    #[error("database connection failed: {0}")]
    Connection(String),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// Migrations could not be applied or reverted.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The blocking task running the query died.
    #[error("database task failed: {0}")]
    Task(String),
}

#[derive(Debug, Clone, Copy)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {};
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA wal_autocheckpoint = 0;",
            BUSY_TIMEOUT.as_millis()
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Connections to one SQLite database file: a pool of readers and one writer.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<SqliteConnection>>,
    writer: Pool<ConnectionManager<SqliteConnection>>,
    hooks: Arc<RwLock<Vec<CommitHook>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("state", &self.pool.state()).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` with up to `max_connections`
    /// pooled connections. Does not migrate: call [`Store::migrate`].
    pub fn open(path: &Path, max_connections: u32) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Connection(format!("{}: {e}", parent.display())))?;
        }
        let url = path.to_str().ok_or_else(|| {
            StoreError::Connection(format!("{}: path is not UTF-8", path.display()))
        })?;
        // Open once up front so that a bad path fails here with a clear error.
        SqliteConnection::establish(url)
            .map_err(|e| StoreError::Connection(format!("{url}: {e}")))?;
        let build = |size: u32| {
            Pool::builder()
                .max_size(size)
                .connection_timeout(Duration::from_secs(30))
                .connection_customizer(Box::new(Pragmas))
                .build(ConnectionManager::new(url))
                .map_err(|e| StoreError::Connection(e.to_string()))
        };
        let writer = build(1)?;
        let pool = build(max_connections.max(1))?;
        Ok(Self { pool, writer, hooks: Arc::default() })
    }

    /// Runs `hook` after every write through [`Store::write`] that changed rows, on the
    /// writer connection, after the commit and before the write returns. Hooks run one
    /// write at a time, in commit order; they must be quick and must not write.
    pub fn on_commit(&self, hook: CommitHook) {
        self.hooks.write().unwrap_or_else(std::sync::PoisonError::into_inner).push(hook);
    }

    /// A pooled reader connection, for synchronous callers (CLI, tests). Writes made
    /// through it run no commit hooks.
    pub fn conn(&self) -> Result<Conn, StoreError> {
        self.pool.get().map_err(|e| StoreError::Connection(e.to_string()))
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// Copies committed pages from the write-ahead log back into the database file
    /// (a passive checkpoint: it never waits for readers or the writer). Automatic
    /// checkpoints are off, so that no request pays for one: a long-running process calls
    /// this periodically ([`Store::checkpoint_every`]); short-lived ones rely on SQLite's
    /// checkpoint when the last connection closes.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);").map_err(StoreError::Query)
    }

    /// Runs [`Store::checkpoint`] every `period` until `stop` resolves.
    pub async fn checkpoint_every(
        &self,
        period: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let mut stop = std::pin::pin!(stop);
        let mut ticker = tokio::time::interval(period);
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = ticker.tick() => {
                    let store = self.clone();
                    let _ = tokio::task::spawn_blocking(move || store.checkpoint()).await;
                }
            }
        }
        let store = self.clone();
        let _ = tokio::task::spawn_blocking(move || store.checkpoint()).await;
    }

    /// Reverts every applied migration (used to prove that `down.sql` undoes `up.sql`).
    pub fn revert_all(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.revert_all_migrations(MIGRATIONS).map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(())
    }

    /// Runs `f` on a pooled connection in a blocking thread.
    pub async fn read<F, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| StoreError::Connection(e.to_string()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` inside an `IMMEDIATE` transaction in a blocking thread: committed if `f`
    /// returns `Ok`, rolled back otherwise. A commit that changed rows runs the commit
    /// hooks ([`Store::on_commit`]; a write that found nothing to do, like an idle job
    /// claim, does not).
    pub async fn write<F, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        self.write_with(f, true).await
    }

    /// [`Store::write`] for writes that change no listing (the watcher's mirror): it
    /// runs no commit hooks.
    pub async fn write_unlisted<F, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        self.write_with(f, false).await
    }

    async fn write_with<F, T, E>(&self, f: F, tracked: bool) -> Result<T, E>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let writer = self.writer.clone();
        let hooks = self.hooks.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.get().map_err(|e| StoreError::Connection(e.to_string()))?;
            let changes = |c: &mut SqliteConnection| {
                diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("total_changes()"))
                    .get_result::<i64>(c)
            };
            let before = changes(&mut conn)?;
            let result = conn.immediate_transaction(f);
            if tracked && result.is_ok() && changes(&mut conn)? != before {
                let hooks = hooks.read().unwrap_or_else(std::sync::PoisonError::into_inner);
                for hook in hooks.iter() {
                    hook(&mut conn);
                }
            }
            result
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// The current Unix time in seconds.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
