//! microAlgo amounts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The total supply of Algo in microAlgos (10 billion Algo). No real balance, price or
/// deposit can exceed it, which is also what lets amounts be stored in signed 64-bit
/// database columns without loss.
pub const TOTAL_SUPPLY: u64 = 10_000_000_000_000_000;

/// An amount of microAlgos (1 Algo = 1,000,000 microAlgos). Arithmetic is checked: an
/// overflow is an error, never a wrap.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
    diesel(sql_type = diesel::sql_types::BigInt)
)]
#[serde(transparent)]
pub struct MicroAlgos(pub u64);

/// A number of a cluster's share tokens (whole units: the share ASA has no decimals).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
    diesel(sql_type = diesel::sql_types::BigInt)
)]
#[serde(transparent)]
pub struct Shares(pub u64);

/// Amount arithmetic that would leave `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The result does not fit in 64 bits.
    #[error("amount overflows 64 bits")]
    Overflow,
    /// The result would be negative.
    #[error("amount would be negative")]
    Underflow,
}

impl MicroAlgos {
    /// Zero microAlgos.
    pub const ZERO: Self = Self(0);

    /// The raw number of microAlgos.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// `self + other`, or an error on overflow.
    pub fn checked_add(self, other: Self) -> Result<Self, AmountError> {
        self.0.checked_add(other.0).map(Self).ok_or(AmountError::Overflow)
    }

    /// `self - other`, or an error if it would be negative.
    pub fn checked_sub(self, other: Self) -> Result<Self, AmountError> {
        self.0.checked_sub(other.0).map(Self).ok_or(AmountError::Underflow)
    }

    /// `self * factor`, or an error on overflow.
    pub fn checked_mul(self, factor: u64) -> Result<Self, AmountError> {
        self.0.checked_mul(factor).map(Self).ok_or(AmountError::Overflow)
    }

    /// Whether the amount fits within the total Algo supply.
    pub const fn within_supply(self) -> bool {
        self.0 <= TOTAL_SUPPLY
    }
}

impl fmt::Display for MicroAlgos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} µAlgo", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_checked() {
        let max = MicroAlgos(u64::MAX);
        assert_eq!(max.checked_add(MicroAlgos(1)), Err(AmountError::Overflow));
        assert_eq!(MicroAlgos(1).checked_sub(MicroAlgos(2)), Err(AmountError::Underflow));
        assert_eq!(max.checked_mul(2), Err(AmountError::Overflow));
        assert_eq!(MicroAlgos(7).checked_mul(6), Ok(MicroAlgos(42)));
        assert_eq!(MicroAlgos(40).checked_add(MicroAlgos(2)), Ok(MicroAlgos(42)));
        assert_eq!(MicroAlgos(44).checked_sub(MicroAlgos(2)), Ok(MicroAlgos(42)));
    }

    #[test]
    fn supply_bound() {
        assert!(MicroAlgos(TOTAL_SUPPLY).within_supply());
        assert!(!MicroAlgos(TOTAL_SUPPLY + 1).within_supply());
        assert!(i64::try_from(TOTAL_SUPPLY).is_ok());
    }
}
