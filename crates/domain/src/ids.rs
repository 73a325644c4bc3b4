//! Typed identifiers of database rows. They are positive 64-bit integers, shown as
//! plain numbers on the wire.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

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
