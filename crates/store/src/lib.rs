//! BitFox persistence.
//!
//! One store over two databases, chosen by the URL it is opened with ([`DatabaseUrl`]):
//! a **SQLite** file — the embedded default, with the library bundled so no system SQLite
//! is needed — or a **PostgreSQL** server, for several API processes and workers on one
//! database. The repositories ([`repo`], [`mirror`]) are written once in diesel's query
//! builder over [`DbConnection`] (diesel's `MultiConnection`); [`db`] says where the two
//! differ. Migrations are embedded in the binary, one set per backend, kept in step
//! ([`Store::migrate`]; a test checks both end at the same schema).
//!
//! Writers use [`Store::write`], which runs a closure inside a transaction that behaves
//! as if every write ran alone, so a read-check-write inside the closure (e.g. "is this
//! GPU still available?") cannot race another writer, in this process or another:
//! - on SQLite, an `IMMEDIATE` transaction on the process's single writer connection: in-
//!   process writers queue for it in order (instead of SQLite's sleep-and-retry busy
//!   handler, which made write latency spiky). Every connection runs in WAL mode with a
//!   busy timeout and foreign keys on; readers use a separate pool and never wait for the
//!   writer.
//! - on PostgreSQL, a `SERIALIZABLE` transaction on a pooled connection that first locks
//!   one table (`WRITE_LOCK`), so writers from every process run one at a time, as
//!   SQLite's do within one; one the server aborts anyway for a
//!   serialization failure or a deadlock is run again from the start (so a write
//!   closure must be safe to rerun: it is, since everything it did was rolled back). Job
//!   claims, which scan the whole queue, run under a lock of their own at `READ
//!   COMMITTED` instead ([`Store::write_exclusive`]).
//!
//! Every committed write that changed rows runs the store's commit hooks
//! ([`Store::on_commit`]) on the writing connection before the write returns (except the
//! watcher's mirror writes, see [`Store::write_unlisted`]): the API's listing read model
//! follows the listing change feed ([`repo::gpu::changed_since`]) there, so a write is in
//! the model before its request is answered.
//!
//! On PostgreSQL, processes wake each other through `LISTEN`/`NOTIFY`
//! ([`Store::notify_on`], [`JOBS_CHANNEL`]).
//!
//! Row types ([`models`]) are this crate's own; the API maps them to its wire types.
//! The watcher's mirror of the chain is written and read through [`mirror`] only.

pub use diesel;
pub use diesel_migrations;

pub mod db;
pub mod mirror;
pub mod models;
mod notify;
pub mod repo;
pub mod schema;
pub mod testing;

use std::path::Path;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use db::Manager;
pub use db::{DatabaseUrl, DbConnection};
pub use notify::JOBS_CHANNEL;

/// The SQLite migrations compiled into the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// The PostgreSQL migrations compiled into the binary.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a PostgreSQL write aborted for a serialization failure or a deadlock is run
/// before its error is returned (with [`retry_pause`] between runs: about 2 s in all).
const WRITE_ATTEMPTS: u32 = 50;

/// A connection from the pool.
pub type Conn = PooledConnection<Manager>;

/// Runs after a committed write that changed rows, on the writing connection, before the
/// write returns (see [`Store::on_commit`]).
pub type CommitHook = Arc<dyn Fn(&mut DbConnection) + Send + Sync>;

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

/// Connections to one database: a pool of readers and the writers' connections (one for
/// SQLite, a pool for PostgreSQL).
#[derive(Clone)]
pub struct Store {
    url: DatabaseUrl,
    pool: Pool<Manager>,
    writer: Pool<Manager>,
    hooks: Arc<RwLock<Vec<CommitHook>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("database", &self.url.redacted())
            .field("state", &self.pool.state())
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` with up to
    /// `max_connections` pooled readers. Does not migrate: call [`Store::migrate`].
    pub fn open(path: &Path, max_connections: u32) -> Result<Self, StoreError> {
        Self::connect(&DatabaseUrl::sqlite(path), max_connections)
    }

    /// Opens the database `url` names with up to `max_connections` pooled readers (and,
    /// on PostgreSQL, as many writers). Does not migrate: call [`Store::migrate`].
    pub fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Self, StoreError> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Connection(format!("{}: {e}", parent.display())))?;
        }
        // Open once up front so that a bad path or an unreachable server fails here with
        // a clear error.
        drop(url.connect().map_err(StoreError::Connection)?);
        // PostgreSQL connections are a server-wide budget (100 by default) shared by every
        // process: open them as they are needed, not all at start.
        let min_idle = match url {
            DatabaseUrl::Sqlite(_) => None,
            DatabaseUrl::Postgres(_) => Some(1),
        };
        let build = |size: u32| {
            Pool::builder()
                .max_size(size)
                .min_idle(min_idle)
                .connection_timeout(Duration::from_secs(30))
                .build(Manager { url: url.clone() })
                .map_err(|e| StoreError::Connection(e.to_string()))
        };
        let readers = max_connections.max(1);
        let writer = build(match url {
            DatabaseUrl::Sqlite(_) => 1,
            DatabaseUrl::Postgres(_) => readers,
        })?;
        let pool = build(readers)?;
        Ok(Self { url: url.clone(), pool, writer, hooks: Arc::default() })
    }

    /// The database this store is on.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Whether several processes may run workers on this database (PostgreSQL). On
    /// SQLite a database has one worker.
    pub fn shared(&self) -> bool {
        matches!(self.url, DatabaseUrl::Postgres(_))
    }

    /// Waits until this process alone holds `name` among the processes on this database,
    /// and holds it while the returned [`Leader`] lives (for a one-time step every
    /// process may take at start, such as deploying the contract to an empty devnet).
    /// On PostgreSQL a session-level advisory lock on a connection of its own, released
    /// when the value is dropped or the process dies; on SQLite granted at once.
    pub fn exclusive(&self, name: &str) -> Result<Leader, StoreError> {
        let Some(mut conn) = self.session()? else { return Ok(Leader(None)) };
        conn.batch_execute(&format!("SELECT pg_advisory_lock({})", role_key(name)))?;
        Ok(Leader(Some(conn)))
    }

    /// On PostgreSQL, a connection of its own, outside the pools (a session lock lives
    /// as long as it); `None` on SQLite.
    fn session(&self) -> Result<Option<diesel::pg::PgConnection>, StoreError> {
        let DatabaseUrl::Postgres(url) = &self.url else { return Ok(None) };
        use diesel::Connection;
        diesel::pg::PgConnection::establish(url)
            .map(Some)
            .map_err(|e| StoreError::Connection(format!("{}: {e}", self.url.redacted())))
    }

    /// Tries to become the one process that runs `role` (the keeper, a watcher) on this
    /// database. On PostgreSQL that is a session-level advisory lock taken on a
    /// connection of its own: held while the returned [`Leader`] lives and its connection
    /// is up, released by the server when the process dies or its connection drops, so
    /// another worker takes over. `None`: another process leads. On SQLite (one worker per
    /// database) the role is always granted.
    pub fn lead(&self, role: &str) -> Result<Option<Leader>, StoreError> {
        let Some(mut conn) = self.session()? else { return Ok(Some(Leader(None))) };
        let key = role_key(role);
        let won = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "pg_try_advisory_lock({key})"
        )))
        .get_result::<bool>(&mut conn)?;
        Ok(won.then(|| Leader(Some(conn))))
    }

    /// Runs `hook` after every write through [`Store::write`] that changed rows, on the
    /// writing connection, after the commit and before the write returns. On SQLite hooks
    /// run one write at a time, in commit order; on PostgreSQL writes commit concurrently
    /// and hooks may run concurrently too. They must be quick and must not write.
    pub fn on_commit(&self, hook: CommitHook) {
        self.hooks.write().unwrap_or_else(std::sync::PoisonError::into_inner).push(hook);
    }

    /// A pooled reader connection, for synchronous callers (CLI, tests). Writes made
    /// through it run no commit hooks.
    pub fn conn(&self) -> Result<Conn, StoreError> {
        self.pool.get().map_err(|e| StoreError::Connection(e.to_string()))
    }

    /// The migrations of this store's backend.
    pub fn migrations(&self) -> EmbeddedMigrations {
        match self.url {
            DatabaseUrl::Sqlite(_) => SQLITE_MIGRATIONS,
            DatabaseUrl::Postgres(_) => POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let applied = conn
            .run_pending_migrations(self.migrations())
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// On SQLite, copies committed pages from the write-ahead log back into the database
    /// file (a passive checkpoint: it never waits for readers or the writer). Automatic
    /// checkpoints are off, so that no request pays for one: a long-running process calls
    /// this periodically ([`Store::checkpoint_every`]); short-lived ones rely on SQLite's
    /// checkpoint when the last connection closes. PostgreSQL checkpoints by itself: this
    /// does nothing there.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        if let DatabaseUrl::Postgres(_) = self.url {
            return Ok(());
        }
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
        conn.revert_all_migrations(self.migrations())
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(())
    }

    /// Runs `f` on a pooled connection in a blocking thread.
    pub async fn read<F, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
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

    /// Runs `f` inside a write transaction in a blocking thread (see the crate docs):
    /// committed if `f` returns `Ok`, rolled back otherwise; on PostgreSQL, run again when
    /// the server aborted it for a serialization failure or a deadlock. A commit that
    /// changed rows runs the commit hooks ([`Store::on_commit`]; on SQLite a write that
    /// found nothing to do, like an idle job claim, does not).
    pub async fn write<F, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        self.write_with(f, true).await
    }

    /// [`Store::write`] for writes that change no listing (the watcher's mirror): it
    /// runs no commit hooks.
    pub async fn write_unlisted<F, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        self.write_with(f, false).await
    }

    /// [`Store::write`] for a write that scans a whole queue (a job claim): on
    /// PostgreSQL it runs at `READ COMMITTED` after taking a transaction-level advisory
    /// lock on `lock`, so writes under the same lock run one at a time while other
    /// writers are not aborted for having touched what it scanned. `f` must guard each
    /// update with the state it read (`UPDATE … WHERE state = 'queued'`), since rows
    /// outside the lock may change between its statements. On SQLite it is
    /// [`Store::write`].
    pub async fn write_exclusive<F, T, E>(&self, lock: &str, f: F) -> Result<T, E>
    where
        F: FnMut(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        self.write_as(f, true, Isolation::Exclusive(role_key(lock))).await
    }

    async fn write_with<F, T, E>(&self, f: F, tracked: bool) -> Result<T, E>
    where
        F: FnMut(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        self.write_as(f, tracked, Isolation::Serializable).await
    }

    async fn write_as<F, T, E>(&self, mut f: F, tracked: bool, isolation: Isolation) -> Result<T, E>
    where
        F: FnMut(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let writer = self.writer.clone();
        let hooks = self.hooks.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.get().map_err(|e| StoreError::Connection(e.to_string()))?;
            let (result, changed) = if matches!(&*conn, DbConnection::Sqlite(_)) {
                transaction(&mut conn, &mut f, isolation)
            } else {
                let mut attempt = 1;
                loop {
                    db::clear_retryable();
                    let outcome = transaction(&mut conn, &mut f, isolation);
                    let retryable = outcome.0.is_err() && db::take_retryable();
                    if !retryable {
                        break outcome;
                    }
                    if attempt == WRITE_ATTEMPTS {
                        tracing::warn!(
                            attempts = attempt,
                            "a write conflicted every time; giving up"
                        );
                        break outcome;
                    }
                    if attempt == 5 {
                        tracing::debug!("a write keeps conflicting; still retrying");
                    }
                    std::thread::sleep(retry_pause(attempt));
                    attempt += 1;
                }
            };
            if tracked && changed {
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

/// The pause before run `attempt + 1` of a write that conflicted: growing with the
/// attempt up to 50 ms, with random jitter, so that writers that conflicted do not run
/// again in lockstep and conflict again.
fn retry_pause(attempt: u32) -> Duration {
    let ceiling = 2u64.saturating_pow(attempt).min(50);
    // Jitter from the clock's nanoseconds: no generator needed for this.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    Duration::from_micros(ceiling * 1_000 / 2 + nanos % (ceiling * 1_000))
}

/// Proof that this process leads a role ([`Store::lead`]).
pub struct Leader(Option<diesel::pg::PgConnection>);

impl std::fmt::Debug for Leader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Leader(advisory lock)" } else { "Leader(local)" })
    }
}

impl Leader {
    /// Whether the lead still holds: on PostgreSQL, whether the lock's connection still
    /// answers (if it does not, the server has released the lock, or soon will).
    pub fn holds(&mut self) -> bool {
        match &mut self.0 {
            None => true,
            Some(conn) => conn.batch_execute("SELECT 1").is_ok(),
        }
    }
}

/// The advisory-lock key of `role` (a lead, or a [`Store::write_exclusive`] lock):
/// FNV-1a of `bitfox/<role>`.
fn role_key(role: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"bitfox/".iter().chain(role.as_bytes()) {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The statement every [`Store::write`] runs first on PostgreSQL (migration
/// `write_lock`): writes from every process apply one at a time, as on SQLite's single
/// writer. A `LOCK` is not a query, so the `SERIALIZABLE` snapshot is taken after the
/// lock is granted: no write reads a snapshot older than a commit it follows, and
/// `SERIALIZABLE`, kept as the guard, has almost nothing left to abort. Without the
/// lock, PostgreSQL's page-granular predicate locks on the small, hot tables aborted
/// writes that did not really conflict — about 3,400 reruns for 330 lifecycles
/// (`scripts/bench-scale-out`), request-to-settled p99 1.7 s instead of 0.7 s. What
/// scales out is everything else: HTTP and reads in every API process, job claims
/// (their own lock, [`Store::write_exclusive`]) and the chain calls between writes in
/// every worker.
const WRITE_LOCK: &str = "LOCK TABLE write_lock IN EXCLUSIVE MODE";

/// How a PostgreSQL write transaction keeps its reads and writes consistent.
#[derive(Debug, Clone, Copy)]
enum Isolation {
    /// `SERIALIZABLE`, after [`WRITE_LOCK`]: as if every write ran alone.
    Serializable,
    /// `READ COMMITTED` under a transaction-level advisory lock on this key.
    Exclusive(i64),
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (take the write lock
/// first, so a read-check-write never has to upgrade); on PostgreSQL `SERIALIZABLE` under
/// [`WRITE_LOCK`], or `READ COMMITTED` under another advisory lock ([`Isolation`]).
/// Returns the result and whether the committed transaction changed anything (SQLite:
/// its change counter moved; PostgreSQL: the transaction was given an id, which happens
/// at its first write).
fn transaction<T, E>(
    conn: &mut DbConnection,
    f: &mut impl FnMut(&mut DbConnection) -> Result<T, E>,
    isolation: Isolation,
) -> (Result<T, E>, bool)
where
    E: From<diesel::result::Error>,
{
    use diesel::sql_types::{BigInt, Bool};
    let total_changes = |c: &mut DbConnection| {
        diesel::select(diesel::dsl::sql::<BigInt>("total_changes()")).get_result::<i64>(c)
    };
    // SQLite counts changes per connection; PostgreSQL's check is below.
    let before = match conn {
        DbConnection::Sqlite(_) => match total_changes(conn) {
            Ok(n) => Some(n),
            Err(e) => return (Err(e.into()), false),
        },
        DbConnection::Pg(_) => None,
    };
    let begun = match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        DbConnection::Pg(c) => {
            let (begin, lock) = match isolation {
                Isolation::Serializable => {
                    ("BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE", WRITE_LOCK.to_owned())
                }
                Isolation::Exclusive(key) => {
                    ("BEGIN", format!("SELECT pg_advisory_xact_lock({key})"))
                }
            };
            AnsiTransactionManager::begin_transaction_sql(c, begin).and_then(|()| {
                let locked = c.batch_execute(&lock);
                if locked.is_err() {
                    let _ = AnsiTransactionManager::rollback_transaction(c);
                }
                locked
            })
        }
    };
    if let Err(e) = begun {
        return (Err(e.into()), false);
    }
    let done = f(conn).and_then(|value| {
        // PostgreSQL gives a transaction an id at its first write.
        let wrote = before.is_none()
            && diesel::select(diesel::dsl::sql::<Bool>(
                "pg_current_xact_id_if_assigned() IS NOT NULL",
            ))
            .get_result::<bool>(conn)?;
        <DbConnection as diesel::Connection>::TransactionManager::commit_transaction(conn)?;
        Ok((value, wrote))
    });
    match done {
        Ok((value, wrote)) => {
            // Committed: a counter that cannot be read counts as a change (the hooks run
            // once too often), never as a failure of the committed write.
            let changed = match before {
                Some(before) => !total_changes(conn).is_ok_and(|after| after == before),
                None => wrote,
            };
            (Ok(value), changed)
        }
        Err(e) => {
            // The closure's error is the one to report; a failed rollback leaves the
            // connection broken, and the pool discards it.
            let _ = <DbConnection as diesel::Connection>::TransactionManager::rollback_transaction(
                conn,
            );
            (Err(e), false)
        }
    }
}

/// The current Unix time in seconds.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
