//! The two databases the store runs on, behind one connection type.
//!
//! [`DbConnection`] is diesel's `MultiConnection` over SQLite and PostgreSQL: the
//! repositories are written once, in diesel's query builder, and run on either. What the
//! two do differently is settled here and in [`crate::Store`]:
//!
//! - **Which one**: [`DatabaseUrl`] — `postgres://…` / `postgresql://…` is PostgreSQL;
//!   `sqlite://PATH` or a plain path is a SQLite file. A connection is opened for the
//!   backend the URL names and no other (never "try PostgreSQL, then fall back to a file").
//! - **Writes**: SQLite takes one writer at a time (`BEGIN IMMEDIATE` on the process's
//!   writer connection); PostgreSQL runs writes concurrently as `SERIALIZABLE`
//!   transactions and reruns one that the server aborted for a serialization failure or
//!   a deadlock — so every read-check-write behaves as if the writes ran one at a time,
//!   across every process on the database ([`crate::Store::write`]).
//! - **Upserts**: diesel's multi-backend has no `ON CONFLICT`; [`on_backend!`] runs such a
//!   statement on the concrete connection underneath.
//! - **Amounts**: the domain maps its `u64` newtypes for each backend; the impls below
//!   pass them through for the multi-backend.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::deserialize::{self, FromSql};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::result::{DatabaseErrorKind, Error};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::BigInt;
use diesel::sqlite::SqliteConnection;

use bitfox_domain::billing::{MaxMinutes, PricePerMinute};
use bitfox_domain::{ChainId, MicroAlgos, Shares};

/// A connection to either database.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// A SQLite file.
    Sqlite(SqliteConnection),
    /// A PostgreSQL server.
    Pg(PgConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection under `$conn` (for the few
/// statements diesel's multi-backend cannot express, such as `ON CONFLICT`). The body is
/// written once and compiled for each backend.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConnection::Sqlite($c) => $body,
            $crate::DbConnection::Pg($c) => $body,
        }
    };
}

macro_rules! multi_amount {
    ($($t:ty),*) => {$(
        impl ToSql<BigInt, MultiBackend> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((BigInt, self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<BigInt, MultiBackend> for $t {
            fn from_sql(
                bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, BigInt>()
            }
        }
    )*};
}

multi_amount!(MicroAlgos, PricePerMinute, MaxMinutes, ChainId, Shares);

/// Which database, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (`postgres://user@host:port/db?…`).
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads `url`: `postgres://` or `postgresql://` is PostgreSQL, `sqlite://PATH` or
    /// anything else a SQLite file path.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("the database URL is empty".to_owned());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path (sqlite://data/bitfox.db)".to_owned());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(format!(
                "unsupported database URL scheme {scheme:?}: use postgres://… or a SQLite file path"
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }

    /// A SQLite file.
    pub fn sqlite(path: &Path) -> Self {
        Self::Sqlite(path.to_owned())
    }

    /// The backend's name, for messages.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// The URL with any password replaced, for logs and errors.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => redact_password(url),
        }
    }

    /// Opens one connection to this database.
    pub fn connect(&self) -> Result<DbConnection, String> {
        match self {
            Self::Sqlite(path) => {
                let path = path
                    .to_str()
                    .ok_or_else(|| format!("{}: the SQLite path is not UTF-8", path.display()))?;
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|e| format!("{}: {e}", self.redacted()))?;
                // Automatic WAL checkpoints are off: the store runs them (`Store::checkpoint`).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA wal_autocheckpoint = 0;",
                    crate::BUSY_TIMEOUT.as_millis()
                ))
                .map_err(|e| format!("{}: {e}", self.redacted()))?;
                Ok(DbConnection::Sqlite(conn))
            }
            Self::Postgres(url) => {
                let mut conn = PgConnection::establish(url)
                    .map_err(|e| format!("{}: {e}", self.redacted()))?;
                conn.set_instrumentation(RetryWatch);
                Ok(DbConnection::Pg(conn))
            }
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

thread_local! {
    /// Whether the last failed statement on this thread was one PostgreSQL asks the
    /// client to retry (serialization failure, deadlock). A write runs on one blocking
    /// thread from start to end, so the flag belongs to that write.
    static RETRYABLE: Cell<bool> = const { Cell::new(false) };
}

/// Watches a PostgreSQL connection's statements for retryable failures.
struct RetryWatch;

impl diesel::connection::Instrumentation for RetryWatch {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::FinishQuery { error: Some(e), .. } = event
            && is_retryable(e)
        {
            RETRYABLE.with(|r| r.set(true));
        }
    }
}

/// Whether `error` is PostgreSQL asking for the transaction to be run again.
fn is_retryable(error: &Error) -> bool {
    match error {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// Clears this thread's retry flag (before a write's attempt).
pub(crate) fn clear_retryable() {
    RETRYABLE.with(|r| r.set(false));
}

/// Whether a statement run on this thread since [`clear_retryable`] failed retryably.
pub(crate) fn take_retryable() -> bool {
    RETRYABLE.with(|r| r.replace(false))
}

/// Opens pooled connections to one [`DatabaseUrl`] (and only to that backend).
#[derive(Debug, Clone)]
pub struct Manager {
    pub(crate) url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.url
            .connect()
            .map_err(|e| r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(e)))
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        use diesel::r2d2::R2D2Connection;
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend_and_nothing_else() {
        assert_eq!(
            DatabaseUrl::parse("postgres://bitfox@127.0.0.1:5432/market").unwrap(),
            DatabaseUrl::Postgres("postgres://bitfox@127.0.0.1:5432/market".into())
        );
        assert_eq!(DatabaseUrl::parse("postgresql://h/db").unwrap().backend(), "postgres");
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/bitfox.db").unwrap(),
            DatabaseUrl::Sqlite("data/bitfox.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse(".bitfox/bitfox.db").unwrap(),
            DatabaseUrl::Sqlite(".bitfox/bitfox.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://h/db").unwrap_err().contains("unsupported"));
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
    }

    #[test]
    fn passwords_never_reach_messages() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.internal:5432/market").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db.internal:5432/market");
        assert!(!url.redacted().contains("s3cret"));
        let no_password = DatabaseUrl::parse("postgres://app@db/market").unwrap();
        assert_eq!(no_password.redacted(), "postgres://app@db/market");
    }

    #[test]
    fn a_postgres_url_that_cannot_connect_is_an_error_not_a_file() {
        // Nothing listens on port 1.
        let url = DatabaseUrl::parse("postgres://nobody:pw@127.0.0.1:1/none").unwrap();
        let err = url.connect().err().expect("no server");
        assert!(err.starts_with("postgres://nobody:***@127.0.0.1:1/none: "), "{err}");
        assert!(!std::path::Path::new("postgres:").exists());
    }
}
