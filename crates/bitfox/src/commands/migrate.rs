//! `bitfox migrate`: applies pending database migrations.

use bitfox_store::Store;

use crate::config::Settings;
use crate::open_store;

/// Applies pending migrations; returns the versions applied.
pub fn migrate(settings: &Settings) -> anyhow::Result<Vec<String>> {
    let store = open_store(settings)?;
    Ok(store.migrate()?)
}

/// How many migrations `store` has not applied yet.
pub fn pending_migrations(store: &Store) -> anyhow::Result<usize> {
    use bitfox_store::diesel_migrations::MigrationHarness;
    let mut conn = store.conn()?;
    let pending = conn
        .pending_migrations(store.migrations())
        .map_err(|e| anyhow::anyhow!("reading migrations: {e}"))?;
    Ok(pending.len())
}
