//! The GPU, rental and job state machines.
//!
//! Each status knows which statuses may follow it; [`GpuStatus::transition`] and its
//! siblings refuse anything else, so code that changes a status states the move it makes
//! and an impossible move is an error rather than a silent overwrite.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A refused status change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} cannot go from `{from}` to `{to}`")]
pub struct IllegalTransition {
    /// What changes status ("GPU", "rental", "job").
    pub kind: &'static str,
    /// Current status.
    pub from: &'static str,
    /// Refused next status.
    pub to: &'static str,
}

/// A status string that names no status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {expected}")]
pub struct UnknownStatus {
    /// The accepted names, comma separated.
    pub expected: &'static str,
}

macro_rules! status_enum {
    (
        $(#[$doc:meta])* $name:ident, $kind:literal,
        { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? },
        allowed: |$from:ident, $to:ident| $allowed:expr
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every status, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The status as stored and shown on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Whether the state machine allows moving from `self` to `next`.
            pub fn can_become(self, next: Self) -> bool {
                let ($from, $to) = (self, next);
                $allowed
            }

            /// `next` if the state machine allows it from `self`.
            pub fn transition(self, next: Self) -> Result<Self, IllegalTransition> {
                if self.can_become(next) {
                    Ok(next)
                } else {
                    Err(IllegalTransition { kind: $kind, from: self.as_str(), to: next.as_str() })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownStatus;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownStatus { expected: concat!($($text, " "),+) }),
                }
            }
        }
    };
}

status_enum!(
    /// Where a GPU listing is in its life.
    GpuStatus, "GPU",
    {
        /// Listed and free to rent.
        Available = "available",
        /// A rent was accepted; its chain work is pending.
        Renting = "renting",
        /// The rental is confirmed on chain.
        Rented = "rented",
        /// Withdrawn by its provider; terminal.
        Delisted = "delisted",
        /// Its provider stopped sending heartbeats.
        Offline = "offline",
    },
    allowed: |from, to| {
        use GpuStatus::*;
        matches!(
            (from, to),
            (Available, Renting)
                | (Renting, Rented)
                // The rent failed on chain, or the rental settled before confirmation
                // was recorded.
                | (Renting, Available)
                | (Rented, Available)
                | (Available, Delisted)
                | (Offline, Delisted)
                | (Available, Offline)
                | (Offline, Available)
        )
    }
);

status_enum!(
    /// Where a rental is in its life.
    RentalStatus, "rental",
    {
        /// Accepted; the deposit is not yet locked on chain.
        Pending = "pending",
        /// The deposit is locked on chain; time is being billed.
        Active = "active",
        /// A stop was requested; the settlement is on its way to the chain.
        Settling = "settling",
        /// Settled on chain; amounts are final.
        Settled = "settled",
        /// The chain refused the rental; the reason is recorded.
        Failed = "failed",
        /// The deposit ran out and the rental was settled automatically.
        Expired = "expired",
    },
    allowed: |from, to| {
        use RentalStatus::*;
        matches!(
            (from, to),
            (Pending, Active)
                | (Pending, Failed)
                | (Active, Settling)
                // Settled by another party directly on chain, or expired.
                | (Active, Settled)
                | (Active, Expired)
                | (Settling, Settled)
                | (Settling, Expired)
                // The settlement was refused; the rental is still live on chain.
                | (Settling, Active)
        )
    }
);

impl RentalStatus {
    /// Whether the rental still holds its GPU (not yet settled, failed or expired).
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Pending | Self::Active | Self::Settling)
    }
}

status_enum!(
    /// Where a background job is.
    JobState, "job",
    {
        /// Waiting to run (or to be retried).
        Queued = "queued",
        /// Claimed by the runner.
        Running = "running",
        /// Built, but the server holds no key for a sender: waiting for the signed
        /// group (`POST /jobs/{id}/signature`).
        AwaitingSignature = "awaiting_signature",
        /// Finished; its effect is recorded.
        Succeeded = "succeeded",
        /// Gave up; the reason is recorded.
        Failed = "failed",
    },
    allowed: |from, to| {
        use JobState::*;
        matches!(
            (from, to),
            (Queued, Running)
                | (Running, Succeeded)
                | (Running, Failed)
                | (Running, Queued)
                | (Running, AwaitingSignature)
                | (AwaitingSignature, Queued)
                | (AwaitingSignature, Failed)
        )
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn check_table<S>(all: &[S], allowed: &[(S, S)])
    where
        S: Copy + PartialEq + fmt::Debug + fmt::Display,
        S: StatusLike,
    {
        for &from in all {
            for &to in all {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.can(to), expected, "{from} -> {to}");
                assert_eq!(from.step(to).is_ok(), expected, "{from} -> {to}");
            }
        }
    }

    trait StatusLike: Sized {
        fn can(self, to: Self) -> bool;
        fn step(self, to: Self) -> Result<Self, IllegalTransition>;
    }

    macro_rules! status_like {
        ($t:ty) => {
            impl StatusLike for $t {
                fn can(self, to: Self) -> bool {
                    self.can_become(to)
                }
                fn step(self, to: Self) -> Result<Self, IllegalTransition> {
                    self.transition(to)
                }
            }
        };
    }
    status_like!(GpuStatus);
    status_like!(RentalStatus);
    status_like!(JobState);

    #[test]
    fn gpu_transitions() {
        use GpuStatus::*;
        check_table(
            GpuStatus::ALL,
            &[
                (Available, Renting),
                (Renting, Rented),
                (Renting, Available),
                (Rented, Available),
                (Available, Delisted),
                (Offline, Delisted),
                (Available, Offline),
                (Offline, Available),
            ],
        );
        let err = Rented.transition(Delisted).unwrap_err();
        assert_eq!(err.to_string(), "GPU cannot go from `rented` to `delisted`");
    }

    #[test]
    fn rental_transitions() {
        use RentalStatus::*;
        check_table(
            RentalStatus::ALL,
            &[
                (Pending, Active),
                (Pending, Failed),
                (Active, Settling),
                (Active, Settled),
                (Active, Expired),
                (Settling, Settled),
                (Settling, Expired),
                (Settling, Active),
            ],
        );
        for terminal in [Settled, Failed, Expired] {
            assert!(!terminal.is_live());
            assert!(RentalStatus::ALL.iter().all(|&to| !terminal.can_become(to)));
        }
    }

    #[test]
    fn job_transitions() {
        use JobState::*;
        check_table(
            JobState::ALL,
            &[
                (Queued, Running),
                (Running, Succeeded),
                (Running, Failed),
                (Running, Queued),
                (Running, AwaitingSignature),
                (AwaitingSignature, Queued),
                (AwaitingSignature, Failed),
            ],
        );
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for &s in GpuStatus::ALL {
            assert_eq!(s.as_str().parse::<GpuStatus>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        for &s in RentalStatus::ALL {
            assert_eq!(s.as_str().parse::<RentalStatus>(), Ok(s));
        }
        let err = "bogus".parse::<GpuStatus>().unwrap_err();
        assert!(err.to_string().contains("available"), "{err}");
    }
}
