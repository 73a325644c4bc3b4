//! Typed identifiers of database rows. They are positive 64-bit integers, shown as
//! plain numbers on the wire; with the `diesel` feature they map to `BigInt` columns.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(
            feature = "diesel",
            derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
            diesel(sql_type = diesel::sql_types::BigInt)
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        #[cfg(feature = "diesel")]
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::BigInt, DB> for $name
        where
            DB: diesel::backend::Backend,
            i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.0.to_sql(out)
            }
        }

        #[cfg(feature = "diesel")]
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB> for $name
        where
            DB: diesel::backend::Backend,
            i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                i64::from_sql(bytes).map(Self)
            }
        }

        impl $name {
            /// The raw row id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.parse::<i64>() {
                    Ok(value) if value > 0 => Ok(Self(value)),
                    _ => Err(IdError),
                }
            }
        }
    };
}

/// An id the contract gave something on chain (a listing, rental or cluster), or an
/// asset id: a `u64` of the chain, stored in a 64-bit column where it fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
    diesel(sql_type = diesel::sql_types::BigInt)
)]
#[serde(transparent)]
pub struct ChainId(pub u64);

impl ChainId {
    /// The chain's number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A path segment that is not a positive integer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a positive integer id")]
pub struct IdError;

id_type!(
    /// Identifies a GPU listing.
    GpuId
);
id_type!(
    /// Identifies a rental.
    RentalId
);
id_type!(
    /// Identifies a background job.
    JobId
);
id_type!(
    /// Identifies a GPU cluster.
    ClusterId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_positive_integers_only() {
        assert_eq!("17".parse::<GpuId>(), Ok(GpuId(17)));
        for bad in ["0", "-3", "abc", "", "1.5", "99999999999999999999"] {
            assert_eq!(bad.parse::<RentalId>(), Err(IdError), "{bad}");
        }
    }
}
