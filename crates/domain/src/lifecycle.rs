//! The GPU, rental, job and cluster state machines, and the kinds of job.
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

/// An enum stored and shown as text: `ALL`, `as_str`, `Display`, `FromStr`, serde in
/// snake case and, with the `diesel` feature, a `Text` column mapping.
macro_rules! text_enum {
    (
        $(#[$doc:meta])* $name:ident, $kind:literal,
        { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(
            feature = "diesel",
            derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
            diesel(sql_type = diesel::sql_types::Text)
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value as stored and shown on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
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

        #[cfg(feature = "diesel")]
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        #[cfg(feature = "diesel")]
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                text.parse().map_err(|e| format!("stored {} {text:?}: {e}", $kind).into())
            }
        }
    };
}

/// A [`text_enum!`] that is a state machine: `can_become` and `transition` refuse the
/// moves `allowed` does not list.
macro_rules! status_enum {
    (
        $(#[$doc:meta])* $name:ident, $kind:literal,
        { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? },
        allowed: |$from:ident, $to:ident| $allowed:expr
    ) => {
        text_enum!($(#[$doc])* $name, $kind, { $($(#[$vdoc])* $variant = $text),+ });

        impl $name {
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
        /// Stopped before its deposit group was ever sent: nothing happened on chain.
        Cancelled = "cancelled",
    },
    allowed: |from, to| {
        use RentalStatus::*;
        matches!(
            (from, to),
            (Pending, Active)
                | (Pending, Failed)
                | (Pending, Cancelled)
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
        /// Ended before it ever sent anything (its rental was stopped first).
        Cancelled = "cancelled",
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
                | (Queued, Cancelled)
                | (AwaitingSignature, Cancelled)
        )
    }
);

status_enum!(
    /// Where a cluster is in its life.
    ClusterStatus, "cluster",
    {
        /// Recorded; its creation (and share token) is on its way to the chain.
        Pending = "pending",
        /// On chain, with its share token.
        Active = "active",
        /// The chain refused its creation; its GPUs were released.
        Failed = "failed",
    },
    allowed: |from, to| {
        use ClusterStatus::*;
        matches!((from, to), (Pending, Active) | (Pending, Failed))
    }
);

text_enum!(
    /// What a background job does.
    JobKind, "job kind",
    {
        /// Puts a listing on chain.
        Register = "register",
        /// Changes a listing's price on chain.
        UpdatePrice = "update_price",
        /// Removes a listing from the chain.
        Delist = "delist",
        /// Announces a cluster GPU's retirement (contract v2's notice period).
        AnnounceRetirement = "announce_retirement",
        /// Locks a rental's deposit.
        Rent = "rent",
        /// Stops a rental and pays out.
        Settle = "settle",
        /// Creates a cluster and its share token.
        CreateCluster = "create_cluster",
        /// Creates a holder's record in a cluster.
        JoinCluster = "join_cluster",
        /// Opts a holder in to a cluster's share token.
        OptIn = "opt_in",
        /// Buys unsold shares.
        BuyShares = "buy_shares",
        /// Transfers shares between holders.
        TransferShares = "transfer_shares",
        /// Claims a holder's revenue.
        Claim = "claim",
        /// Claims the operator's revenue from its unsold shares.
        ClaimUnsold = "claim_unsold",
    }
);

impl JobKind {
    /// Whether the job works on a listing (`register`, `update_price`, `delist`,
    /// `announce_retirement`); the job runner dispatches on this, on
    /// [`JobKind::is_rental`], and the rest are cluster jobs.
    pub const fn is_listing(self) -> bool {
        matches!(self, Self::Register | Self::UpdatePrice | Self::Delist | Self::AnnounceRetirement)
    }

    /// Whether the job works on a rental (`rent`, `settle`).
    pub const fn is_rental(self) -> bool {
        matches!(self, Self::Rent | Self::Settle)
    }
}

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
    status_like!(ClusterStatus);

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
                (Pending, Cancelled),
                (Active, Settling),
                (Active, Settled),
                (Active, Expired),
                (Settling, Settled),
                (Settling, Expired),
                (Settling, Active),
            ],
        );
        for terminal in [Settled, Failed, Expired, Cancelled] {
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
                (Queued, Cancelled),
                (AwaitingSignature, Cancelled),
            ],
        );
    }

    #[test]
    fn cluster_transitions() {
        use ClusterStatus::*;
        check_table(ClusterStatus::ALL, &[(Pending, Active), (Pending, Failed)]);
    }

    #[test]
    fn job_kinds_round_trip_and_split_by_family() {
        for &k in JobKind::ALL {
            assert_eq!(k.as_str().parse::<JobKind>(), Ok(k));
            assert!(!(k.is_listing() && k.is_rental()), "{k}");
        }
        assert_eq!(JobKind::ALL.iter().filter(|k| k.is_listing()).count(), 4);
        assert_eq!(JobKind::ALL.iter().filter(|k| k.is_rental()).count(), 2);
        assert!("drop_tables".parse::<JobKind>().is_err());
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
