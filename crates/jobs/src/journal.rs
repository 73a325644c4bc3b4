//! The jobs table as the chain port's [`Journal`]: a signed group is committed to its
//! job's row before it is sent, so a resend after a crash sends the very same bytes.

use bitfox_domain::JobId;
use bitfox_domain::chain::{ChainError, Journal, PortFuture, SignedGroup};
use bitfox_market::MarketError;
use bitfox_store::models::JobRow;
use bitfox_store::now_seconds;
use bitfox_store::repo::job;

use crate::runner::JobRunner;

/// Fault injection for the crash-safety tests: when `BITFOX_CRASH_AT` names this
/// point, the process aborts here (as a power cut would), with no clean-up at all.
/// Compiled in only with the `crash-points` feature, which the end-to-end tests turn on.
#[cfg(feature = "crash-points")]
pub(crate) fn crash_point(point: &str) {
    if std::env::var("BITFOX_CRASH_AT").is_ok_and(|at| at == point) {
        eprintln!("BITFOX_CRASH_AT={point}: aborting");
        std::process::abort();
    }
}

/// Without the `crash-points` feature there is no fault injection.
#[cfg(not(feature = "crash-points"))]
pub(crate) fn crash_point(_point: &str) {}

/// The jobs table as the chain port's [`Journal`]: the signed group is committed to
/// the job's row before it is sent — only while the job's claim still holds its lease,
/// so a run whose job another claim took over cannot record a new group, and so cannot
/// send one (it may still resend the group already recorded: the same bytes, which the
/// chain accepts once).
pub(crate) struct StoreJournal<'a> {
    runner: &'a JobRunner,
    job_id: JobId,
    /// The lease token the job was claimed under.
    claim: Option<String>,
    recorded: Option<SignedGroup>,
}

impl<'a> StoreJournal<'a> {
    pub(crate) fn new(runner: &'a JobRunner, job: &JobRow) -> Self {
        let recorded = match (&job.signed_group, &job.signed_txid) {
            (Some(bytes), Some(txid)) => {
                Some(SignedGroup { bytes: bytes.clone(), txid: txid.clone() })
            }
            _ => None,
        };
        Self { runner, job_id: job.id, claim: job.claimed_by.clone(), recorded }
    }

    fn write(&self, group: Option<SignedGroup>) -> PortFuture<'_, ()> {
        let id = self.job_id;
        Box::pin(async move {
            self.runner
                .write_fenced(id, self.claim.clone(), move |c| {
                    let signed = group.as_ref().map(|g| (g.bytes.as_slice(), g.txid.as_str()));
                    job::set_journal(c, id, signed, now_seconds()).map_err(MarketError::from)
                })
                .await
                .map_err(|e| ChainError::Unavailable(format!("recording the signed group: {e}")))
        })
    }
}

impl Journal for StoreJournal<'_> {
    fn recorded(&self) -> Option<SignedGroup> {
        self.recorded.clone()
    }

    fn record(&self, group: SignedGroup) -> PortFuture<'_, ()> {
        Box::pin(async move {
            self.write(Some(group)).await?;
            crash_point("before-send");
            Ok(())
        })
    }

    fn forget(&self) -> PortFuture<'_, ()> {
        self.write(None)
    }
}
