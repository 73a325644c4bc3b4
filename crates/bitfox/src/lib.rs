//! The `bitfox` command as a library: configuration, the wiring of each process and one
//! module per command, so that tests call commands without spawning a process. The
//! binary (`main.rs`) is only the clap tree and the dispatch.
//!
//! * [`config`]: the one typed configuration (file → environment).
//! * [`commands`]: `up`, `api`, `worker`, `devnet`, `deploy`, `watch`, `migrate`,
//!   `keys`, `keystore`, `clusters`, `portfolio`.
//! * [`stack`]: which parts a long-running process runs, started through the
//!   [`supervisor`]: a task that fails stops the process with its error.
//! * [`chain`]: endpoints, signing accounts and the chain port; [`devnet`]: the
//!   embedded devnet; [`telemetry`]: logging.

pub mod chain;
pub mod commands;
pub mod config;
pub mod devnet;
pub mod stack;
pub mod supervisor;
pub mod telemetry;

use anyhow::Context;
use bitfox_store::Store;

use crate::config::Settings;

/// Opens the configured database.
pub fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database_url()?;
    Store::connect(&url, settings.database.max_connections)
        .with_context(|| format!("opening the {} database {}", url.backend(), url.redacted()))
}
