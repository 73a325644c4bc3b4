//! The marketplace's rules, independent of how they are reached (HTTP, a job, the CLI).
//!
//! Each operation runs on one connection inside the caller's write transaction
//! (`Store::write`), so a check ("is this GPU available?") and the change it guards
//! commit together or not at all; status changes go through the domain state machines;
//! chain work is queued as a job row in the same transaction. Refusals are
//! [`MarketError`]s, which say what was wrong in the marketplace's terms.
//!
//! * [`listings`]: register, change, delist, heartbeats, offline.
//! * [`rentals`]: rent, stop, expiry, and recording the chain's answers.
//! * [`clusters`]: GPUs joining clusters, failed creations.
//! * [`queue`]: queueing jobs; [`failure`]: what a job's final failure means.
//! * [`caller`]: who asks, in which mode.
//!
//! Modules depend on each other in one direction only: `check` and `queue` at the
//! bottom, then `listings`, then `rentals` and `clusters`, then `failure`.

pub mod caller;
mod check;
pub mod clusters;
pub mod error;
pub mod failure;
pub mod listings;
pub mod queue;
pub mod rentals;

pub use caller::{Caller, Mode};
pub use error::{FieldError, MarketError, Result};
