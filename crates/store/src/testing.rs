//! Fresh databases for tests, on either backend.
//!
//! [`TestDatabase::new`] gives a SQLite file in a temporary directory — or, when the
//! environment variable [`POSTGRES_ENV`] holds a PostgreSQL URL (`scripts/test` sets it for
//! its PostgreSQL run), a new database on that server, dropped again when the value is
//! dropped. So one test suite runs unchanged on both backends. A URL that is set but
//! cannot be reached fails the test; it never falls back to SQLite.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;

use crate::{DatabaseUrl, Store};

/// The variable naming the PostgreSQL server for tests: a URL whose user may create
/// databases (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
pub const POSTGRES_ENV: &str = "BITFOX_TEST_POSTGRES";

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    /// The server and the name to drop, for PostgreSQL.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// On PostgreSQL when [`POSTGRES_ENV`] is set, else on SQLite.
    pub fn new() -> Self {
        match std::env::var(POSTGRES_ENV) {
            Ok(server) if !server.trim().is_empty() => Self::postgres(server.trim()),
            _ => Self::sqlite(),
        }
    }

    /// A SQLite file in a new temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = DatabaseUrl::Sqlite(dir.path().join("db/test.db"));
        Self { url, _dir: Some(dir), postgres: None }
    }

    /// A new, empty database on the PostgreSQL server at `server`.
    pub fn postgres(server: &str) -> Self {
        let name = format!(
            "bitfox_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            crate::now_seconds()
        );
        let mut admin = PgConnection::establish(server).unwrap_or_else(|e| {
            panic!("{POSTGRES_ENV}={server}: no PostgreSQL server answered: {e}")
        });
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
        let url = DatabaseUrl::Postgres(with_database(server, &name));
        Self { url, _dir: None, postgres: Some((server.to_owned(), name)) }
    }

    /// Where the database is.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Whether this is the PostgreSQL backend.
    pub fn is_postgres(&self) -> bool {
        matches!(self.url, DatabaseUrl::Postgres(_))
    }

    /// A store on the database with `max_connections` readers, not migrated.
    pub fn store(&self, max_connections: u32) -> Store {
        Store::connect(&self.url, max_connections).expect("the test database opens")
    }

    /// A store on the database, migrated.
    pub fn migrated(&self, max_connections: u32) -> Store {
        let store = self.store(max_connections);
        store.migrate().expect("migrations apply");
        store
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(server)
        {
            // FORCE: the store's pooled connections may still be open.
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_and_path = &base[scheme_end..];
    let authority = host_and_path.split_once('/').map_or(host_and_path, |(a, _)| a);
    let mut out = format!("{}{authority}/{name}", &base[..scheme_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgres://h", "t2"), "postgres://h/t2");
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "t3"),
            "postgresql://u:p@h/t3?sslmode=disable"
        );
    }
}
