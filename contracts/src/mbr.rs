//! Minimum balances and fees: what each call must pay besides its arguments
//! (`contracts/README.md`, *Minimum balances*).

/// The network's minimum fee per transaction.
pub const MIN_FEE: u64 = 1_000;
/// The app account's own minimum balance, paid at deployment.
pub const APP_MIN_BALANCE: u64 = 100_000;
/// Minimum balance of a listing box, paid with `register_listing`.
pub const LISTING_MBR: u64 = 28_500;
/// Minimum balance of a rental box, paid inside the rent payment.
pub const RENTAL_MBR: u64 = 38_100;
/// Deposit of `create_cluster`: the app's minimum balance for the new ASA, the cluster
/// box and the unsold-shares holder record.
pub const CLUSTER_DEPOSIT: u64 = 173_000;
/// Minimum balance of a holder record, paid with `join_cluster`.
pub const HOLDER_MBR: u64 = 34_900;

/// Minimum balance of a retirement notice (v2), paid with `announce_retirement` and
/// refunded at delist.
pub const RETIREMENT_MBR: u64 = 9_300;

/// The retirement notice's timing (v2): 30 days' notice, then 7 days in force.
pub use bitfox_domain::retirement::{NOTICE_SECS as RETIRE_NOTICE, WINDOW_SECS as RETIRE_WINDOW};

/// A box's minimum balance: 2,500 + 400 × (name length + value length) µAlgo.
pub const fn box_mbr(name_len: u64, value_len: u64) -> u64 {
    2_500 + 400 * (name_len + value_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boxes;

    #[test]
    fn box_minimums_follow_the_layouts() {
        assert_eq!(LISTING_MBR, box_mbr(9, boxes::LISTING_LEN as u64));
        assert_eq!(RENTAL_MBR, box_mbr(9, boxes::RENTAL_LEN as u64));
        assert_eq!(HOLDER_MBR, box_mbr(41, boxes::HOLDER_LEN as u64));
        assert_eq!(RETIREMENT_MBR, box_mbr(9, boxes::RETIREMENT_LEN as u64));
    }
}
