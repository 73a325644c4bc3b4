//! One module per `bitfox` command. Each is a function over the loaded [`Settings`]
//! (and, for long-running ones, a shutdown token), so tests can call a command without
//! spawning a process.
//!
//! [`Settings`]: crate::config::Settings

pub mod clusters;
pub mod deploy;
pub mod keys;
pub mod keystore;
pub mod migrate;
pub mod serve;
pub mod watch;
