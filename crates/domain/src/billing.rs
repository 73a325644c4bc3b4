//! Per-second billing and settlement, exactly as the on-chain contract computes them.
//!
//! * `deposit = price_per_minute * max_minutes` (checked; an overflow is refused).
//! * `max_end = start + floor(deposit * 60 / price_per_minute)`: the second at which the
//!   deposit is used up.
//! * `elapsed = min(now, max_end) - start` (zero if `now` is before `start`), with `now`
//!   the chain's latest block timestamp.
//! * `cost = min(ceil(price_per_minute * elapsed / 60), deposit)`.
//! * `fee = floor(cost * fee_bps / 10_000)` goes to the platform treasury, the provider
//!   gets `cost - fee` and the renter gets `deposit - cost` back.
//!
//! Every product is formed in 128 bits, as the contract does with `mulw`/`divmodw`, so no
//! input in `u64` range can overflow silently. No floating point touches an amount.

use serde::{Deserialize, Serialize};

use crate::amount::MicroAlgos;

/// Seconds per billing minute.
const SECONDS_PER_MINUTE: u128 = 60;
/// Basis points in one whole.
const BPS_DENOMINATOR: u128 = 10_000;

/// Why a billing input or computation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    /// A price of zero would make every rental free and `max_end` undefined.
    #[error("must be greater than zero")]
    ZeroPrice,
    /// A rental needs at least one minute of deposit.
    #[error("must be at least 1 minute")]
    ZeroMinutes,
    /// The platform fee is bounded by [`FeeBps::MAX`].
    #[error("must be at most {max} basis points, got {got}", max = FeeBps::MAX)]
    FeeTooHigh {
        /// The refused value.
        got: u16,
    },
    /// `price * minutes` (or the end time) does not fit in 64 bits.
    #[error("price_per_minute * max_minutes overflows 64 bits")]
    Overflow,
}

/// A listing's price in microAlgos per minute; never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
    diesel(sql_type = diesel::sql_types::BigInt)
)]
#[serde(try_from = "u64", into = "u64")]
pub struct PricePerMinute(u64);

impl PricePerMinute {
    /// A price of `micro_algos` per minute, refused if zero.
    pub const fn new(micro_algos: u64) -> Result<Self, BillingError> {
        if micro_algos == 0 { Err(BillingError::ZeroPrice) } else { Ok(Self(micro_algos)) }
    }

    /// microAlgos per minute.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for PricePerMinute {
    type Error = BillingError;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<PricePerMinute> for u64 {
    fn from(value: PricePerMinute) -> Self {
        value.0
    }
}

/// How many minutes of use a rental's deposit pays for; at least one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
    diesel(sql_type = diesel::sql_types::BigInt)
)]
#[serde(try_from = "u64", into = "u64")]
pub struct MaxMinutes(u64);

impl MaxMinutes {
    /// `minutes` of rental, refused if zero.
    pub const fn new(minutes: u64) -> Result<Self, BillingError> {
        if minutes == 0 { Err(BillingError::ZeroMinutes) } else { Ok(Self(minutes)) }
    }

    /// The number of minutes.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for MaxMinutes {
    type Error = BillingError;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<MaxMinutes> for u64 {
    fn from(value: MaxMinutes) -> Self {
        value.0
    }
}

/// The platform fee in basis points (1/100 of a percent), at most [`FeeBps::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct FeeBps(u16);

impl FeeBps {
    /// The highest fee the platform (and the contract) allows: 20 %.
    pub const MAX: u16 = 2_000;

    /// A fee of `bps` basis points, refused above [`FeeBps::MAX`].
    pub const fn new(bps: u16) -> Result<Self, BillingError> {
        if bps > Self::MAX { Err(BillingError::FeeTooHigh { got: bps }) } else { Ok(Self(bps)) }
    }

    /// Basis points.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for FeeBps {
    type Error = BillingError;
    fn try_from(value: u16) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<FeeBps> for u16 {
    fn from(value: FeeBps) -> Self {
        value.0
    }
}

/// The deposit that pays for `minutes` at `price`: `price * minutes`, checked.
pub fn deposit(price: PricePerMinute, minutes: MaxMinutes) -> Result<MicroAlgos, BillingError> {
    price.get().checked_mul(minutes.get()).map(MicroAlgos).ok_or(BillingError::Overflow)
}

/// How many whole seconds `deposit` pays for at `price`: `floor(deposit * 60 / price)`.
pub fn paid_seconds(price: PricePerMinute, deposit: MicroAlgos) -> u64 {
    let seconds = u128::from(deposit.get()) * SECONDS_PER_MINUTE / u128::from(price.get());
    // deposit < 2^64 and price >= 1, so seconds < 60 * 2^64: clamp to the largest
    // representable timestamp distance; a rental that long never ends in practice.
    u64::try_from(seconds).unwrap_or(u64::MAX)
}

/// The timestamp (seconds) at which a rental started at `start` has used up `deposit`.
/// Saturates at `u64::MAX` rather than wrapping.
pub fn max_end(start: u64, price: PricePerMinute, deposit: MicroAlgos) -> u64 {
    start.saturating_add(paid_seconds(price, deposit))
}

/// Billable seconds: `min(now, max_end) - start`, and zero if `now` precedes `start`.
pub fn elapsed(start: u64, max_end: u64, now: u64) -> u64 {
    now.min(max_end).saturating_sub(start)
}

/// What `elapsed` seconds cost at `price`, rounded up to the microAlgo and capped at
/// `deposit`: `min(ceil(price * elapsed / 60), deposit)`.
pub fn cost(price: PricePerMinute, elapsed_seconds: u64, deposit: MicroAlgos) -> MicroAlgos {
    let product = u128::from(price.get()) * u128::from(elapsed_seconds);
    let rounded_up = product.div_ceil(SECONDS_PER_MINUTE);
    let capped = rounded_up.min(u128::from(deposit.get()));
    // capped <= deposit, which is a u64.
    MicroAlgos(u64::try_from(capped).unwrap_or(u64::MAX))
}

/// The platform fee on `cost`: `floor(cost * fee_bps / 10_000)`.
pub fn fee(cost: MicroAlgos, fee_bps: FeeBps) -> MicroAlgos {
    let fee = u128::from(cost.get()) * u128::from(fee_bps.get()) / BPS_DENOMINATOR;
    // fee_bps <= 10_000, so fee <= cost.
    MicroAlgos(u64::try_from(fee).unwrap_or(u64::MAX))
}

/// Where the deposit of a settled rental goes. Funds are conserved:
/// `cost + refund == deposit` and `fee + provider == cost`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// What the rental cost (provider's share plus the platform fee).
    pub cost: MicroAlgos,
    /// The platform fee, paid to the treasury.
    pub fee: MicroAlgos,
    /// Paid to the provider: `cost - fee`.
    pub provider: MicroAlgos,
    /// Returned to the renter: `deposit - cost`.
    pub refund: MicroAlgos,
}

impl Settlement {
    /// Settles a rental of `deposit` at `price` that ran `elapsed_seconds` (already
    /// capped, see [`elapsed`]) under a `fee_bps` platform fee.
    pub fn compute(
        price: PricePerMinute,
        deposit: MicroAlgos,
        elapsed_seconds: u64,
        fee_bps: FeeBps,
    ) -> Self {
        let cost = cost(price, elapsed_seconds, deposit);
        let fee = fee(cost, fee_bps);
        Self {
            cost,
            fee,
            // fee <= cost <= deposit, shown by `fee` and `cost`.
            provider: MicroAlgos(cost.get() - fee.get()),
            refund: MicroAlgos(deposit.get() - cost.get()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(p: u64) -> PricePerMinute {
        PricePerMinute::new(p).unwrap()
    }

    #[test]
    fn cost_is_per_second_rounded_up() {
        let p = price(1_000);
        let d = MicroAlgos(60_000);
        assert_eq!(cost(p, 0, d), MicroAlgos(0));
        // 59 s of 1000/min = 983.33.. -> 984
        assert_eq!(cost(p, 59, d), MicroAlgos(984));
        assert_eq!(cost(p, 60, d), MicroAlgos(1_000));
        // 61 s = 1016.66.. -> 1017
        assert_eq!(cost(p, 61, d), MicroAlgos(1_017));
        assert_eq!(cost(price(1), 1, d), MicroAlgos(1));
    }

    #[test]
    fn cost_is_capped_at_the_deposit() {
        let p = price(1_000);
        assert_eq!(cost(p, 3_600, MicroAlgos(10_000)), MicroAlgos(10_000));
        assert_eq!(cost(p, u64::MAX, MicroAlgos(10_000)), MicroAlgos(10_000));
    }

    #[test]
    fn prices_near_u64_max_do_not_overflow() {
        let p = price(u64::MAX);
        let d = MicroAlgos(u64::MAX);
        assert_eq!(cost(p, 0, d), MicroAlgos(0));
        // ceil((2^64-1) * 1 / 60)
        assert_eq!(cost(p, 1, d), MicroAlgos(u64::MAX.div_ceil(60)));
        assert_eq!(cost(p, 60, d), MicroAlgos(u64::MAX));
        assert_eq!(cost(p, u64::MAX, d), MicroAlgos(u64::MAX));
        let s = Settlement::compute(p, d, u64::MAX, FeeBps::new(2_000).unwrap());
        assert_eq!(s.cost, d);
        assert_eq!(s.fee, MicroAlgos(u64::MAX / 5));
        assert_eq!(s.fee.get() + s.provider.get(), s.cost.get());
        assert_eq!(s.refund, MicroAlgos(0));
        assert_eq!(deposit(p, MaxMinutes::new(2).unwrap()), Err(BillingError::Overflow));
        assert_eq!(max_end(u64::MAX - 5, price(1), MicroAlgos(1)), u64::MAX);
    }

    #[test]
    fn deposit_and_end_time() {
        let p = price(1_000);
        let d = deposit(p, MaxMinutes::new(30).unwrap()).unwrap();
        assert_eq!(d, MicroAlgos(30_000));
        assert_eq!(paid_seconds(p, d), 1_800);
        assert_eq!(max_end(1_000, p, d), 2_800);
        // A deposit that pays for a fraction of a second is rounded down.
        assert_eq!(paid_seconds(price(7), MicroAlgos(1)), 8);
    }

    #[test]
    fn elapsed_is_clamped_to_the_rental_window() {
        assert_eq!(elapsed(100, 200, 150), 50);
        assert_eq!(elapsed(100, 200, 500), 100);
        assert_eq!(elapsed(100, 200, 50), 0);
        assert_eq!(elapsed(100, 200, 100), 0);
    }

    #[test]
    fn settlement_conserves_funds() {
        let p = price(1_000);
        let d = MicroAlgos(60_000);
        let s = Settlement::compute(p, d, 61, FeeBps::new(250).unwrap());
        assert_eq!(s.cost, MicroAlgos(1_017));
        assert_eq!(s.fee, MicroAlgos(25)); // floor(1017 * 0.025) = 25
        assert_eq!(s.provider, MicroAlgos(992));
        assert_eq!(s.refund, MicroAlgos(58_983));
        for elapsed_seconds in [0, 1, 59, 60, 61, 3_599, 3_600, 3_601] {
            for bps in [0, 1, 250, 2_000] {
                let s = Settlement::compute(p, d, elapsed_seconds, FeeBps::new(bps).unwrap());
                assert_eq!(s.cost.get() + s.refund.get(), d.get());
                assert_eq!(s.fee.get() + s.provider.get(), s.cost.get());
            }
        }
    }

    #[test]
    fn constructors_refuse_bad_values() {
        assert_eq!(PricePerMinute::new(0), Err(BillingError::ZeroPrice));
        assert_eq!(MaxMinutes::new(0), Err(BillingError::ZeroMinutes));
        assert_eq!(FeeBps::new(2_001), Err(BillingError::FeeTooHigh { got: 2_001 }));
        assert!(FeeBps::new(2_000).is_ok());
    }
}
