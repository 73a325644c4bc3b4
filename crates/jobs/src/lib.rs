//! BitFox's background work, shared by every process that runs it (`bitfox up`,
//! `bitfox worker`, and the API's tests).
//!
//! * [`JobRunner`] claims due jobs from the durable jobs table and carries them out
//!   through a [`bitfox_domain::chain::ChainPort`]: [`runner`] (claim and dispatch),
//!   `queue` (prerequisites, backoff, requeue, conclusions), one module per job family
//!   (`listing`, `rental`, `cluster`) and `journal` (the signed group, committed before
//!   it is sent).
//! * [`Keeper`] does the housekeeping no request triggers: expiry, offline GPUs,
//!   unsigned jobs.
//!
//! What a job's outcome means for listings, rentals and clusters is decided by
//! `bitfox-market`; failures are [`bitfox_market::MarketError`]s, never HTTP errors.

mod cluster;
mod journal;
pub mod keeper;
mod listing;
mod queue;
mod rental;
pub mod runner;

use serde::{Deserialize, Serialize};

pub use keeper::{Keeper, Report};
pub use runner::JobRunner;

/// Results of job steps.
pub type Result<T, E = bitfox_market::MarketError> = std::result::Result<T, E>;

/// What became of one job run, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The job finished.
    Succeeded,
    /// The job failed for good with this reason.
    Failed(String),
    /// The job went back to the queue for this reason.
    Requeued(String),
    /// The job waits for a wallet to sign its group.
    AwaitingSignature,
    /// The job's lease ran out mid-run and another worker took it over; this run
    /// stopped without writing.
    LeaseLost,
}

/// Job runner and keeper settings (the `[jobs]` configuration section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobSettings {
    /// Whether this process runs the job runner and the keeper.
    pub enabled: bool,
    /// How often an idle runner looks for due jobs, in milliseconds.
    pub poll_interval_ms: u64,
    /// Jobs the runner carries out at once (jobs on one GPU or one cluster always run
    /// one at a time, in the order they were queued).
    pub concurrency: usize,
    /// How long a claimed job stays this worker's without a renewal, in seconds. The
    /// runner renews its leases every third of this; a worker that dies (or loses the
    /// database) for longer loses its jobs to another worker, which resumes them from
    /// their journal.
    pub lease_secs: u64,
    /// Attempts before a transiently failing job is failed for good.
    pub max_attempts: u32,
    /// First retry delay after a transient failure, in seconds (doubles each time).
    pub retry_base_secs: u64,
    /// Delay before retrying while no chain is available, in seconds.
    pub unavailable_retry_secs: u64,
    /// How often the keeper looks for used-up deposits and silent GPUs, in milliseconds.
    pub keeper_interval_ms: u64,
    /// Seconds past a rental's paid-for end before the keeper settles it (block
    /// timestamps may trail the server's clock by a few seconds).
    pub expiry_grace_secs: u64,
    /// A GPU that has sent heartbeats goes `offline` when none came for this long, in
    /// seconds (GPUs that never sent one are not tracked).
    pub heartbeat_timeout_secs: u64,
    /// A job awaiting a wallet's signature fails after this long, in seconds. Longer
    /// than a group's validity (1000 rounds, about 47 minutes on Algorand), so that a
    /// group signed late cannot land after its job failed.
    pub signature_timeout_secs: u64,
    /// How long a rent that has sent nothing yet (awaiting the renter's signature, or
    /// waiting for its listing to reach the chain) may hold its GPU, in seconds; then it
    /// is cancelled and the GPU is listed again.
    pub checkout_window_secs: u64,
}
impl Default for JobSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval_ms: 500,
            concurrency: 64,
            lease_secs: 30,
            max_attempts: 8,
            retry_base_secs: 2,
            unavailable_retry_secs: 30,
            keeper_interval_ms: 1_000,
            expiry_grace_secs: 5,
            heartbeat_timeout_secs: 120,
            signature_timeout_secs: 3_600,
            checkout_window_secs: 120,
        }
    }
}
