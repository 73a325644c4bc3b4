//! The port through which background jobs reach a blockchain.
//!
//! The API never talks to a chain inside a request: it records intent and a job, and
//! the job runner calls a [`ChainPort`]. Implementations live outside the domain crate
//! (`bitfox-chain` for Algorand); [`Unconfigured`] is the honest default while none is
//! wired in: it refuses every call with [`ChainError::Unavailable`], which keeps jobs
//! queued.
//!
//! Every call gets a [`Journal`]: the job's durable record of the signed group it sent.
//! An implementation records the signed bytes *before* sending them and, when the
//! journal already holds a group (a retry, or a restart after a crash), sends exactly
//! those bytes again instead of signing anew: the same transaction id, so at most one
//! of them is ever committed.

use std::future::Future;
use std::pin::Pin;

use crate::address::Address;
use crate::amount::MicroAlgos;
use crate::billing::{MaxMinutes, PricePerMinute, Settlement};
use crate::ids::{GpuId, RentalId};

/// A boxed future, so that the port can be used as a trait object.
pub type PortFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ChainError>> + Send + 'a>>;

/// Why a chain call did not succeed, and so what the runner does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// No chain backend can take the call now (none configured, or the node is
    /// unreachable). The job stays queued and is tried again later.
    #[error("chain unavailable: {0}")]
    Unavailable(String),
    /// A transient failure (timeout, node busy); retried with backoff.
    #[error("transient chain error: {0}")]
    Transient(String),
    /// The chain refused the call; the reason is final and is shown to the user.
    #[error("rejected by the chain: {0}")]
    Rejected(String),
    /// The group is built, but the server holds no key for one of its senders: it
    /// waits for the signed group from outside (a wallet).
    #[error("waiting for a signature from {}", .0.signers().join(", "))]
    NeedsSignature(UnsignedGroup),
}

/// A transaction waiting for an outside signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnsignedTxn {
    /// The transaction's canonical msgpack encoding (what wallets sign, after the
    /// `TX` prefix), base64 on the wire.
    pub txn: String,
    /// Its transaction id.
    pub txid: String,
    /// Who must sign it (its sender).
    pub signer: Address,
    /// What it does, in words.
    pub description: String,
}

/// A group waiting for outside signatures, in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnsignedGroup {
    /// The transactions, in group order (a wallet signs those whose sender it holds).
    pub transactions: Vec<UnsignedTxn>,
}

impl UnsignedGroup {
    /// The distinct signers, in order.
    pub fn signers(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.transactions {
            let s = t.signer.to_string();
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

/// What a register job asks the chain to do: create the GPU's on-chain listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterOrder {
    /// The app (contract version) to list on: the newest, or the cluster's.
    pub app_id: u64,
    /// The GPU listed.
    pub gpu: GpuId,
    /// Its provider, who pays the listing's minimum balance and is paid for its use.
    pub provider: Address,
    /// The price to list at.
    pub price: PricePerMinute,
    /// The on-chain cluster the listing belongs to (0: none); its rentals' provider share
    /// goes to the cluster's holders.
    pub cluster_id: u64,
}

/// The chain's confirmation of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterReceipt {
    /// Transaction id of the registration's app call.
    pub txid: String,
    /// The listing id the contract handed out.
    pub listing_id: u64,
}

/// What an update job asks the chain to do: set a listing's price for future rentals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatePriceOrder {
    /// The app the listing lives on.
    pub app_id: u64,
    /// The GPU.
    pub gpu: GpuId,
    /// Its on-chain listing id.
    pub listing_id: u64,
    /// Its provider (the only one who may change it).
    pub provider: Address,
    /// The new price.
    pub price: PricePerMinute,
}

/// What a delist job asks the chain to do: remove a listing (its minimum balance goes
/// back to the provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelistOrder {
    /// The app the listing lives on.
    pub app_id: u64,
    /// The GPU.
    pub gpu: GpuId,
    /// Its on-chain listing id.
    pub listing_id: u64,
    /// Its provider.
    pub provider: Address,
    /// The listing's on-chain cluster (0: none): a cluster listing's delist names the
    /// cluster's records and its retirement notice.
    pub cluster_id: u64,
}

/// What a retirement job asks the chain to do (contract v2): announce that a cluster
/// GPU's listing may be delisted once the notice period has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetireOrder {
    /// The app the listing lives on.
    pub app_id: u64,
    /// The GPU.
    pub gpu: GpuId,
    /// Its on-chain listing id.
    pub listing_id: u64,
    /// Its provider (the cluster's operator).
    pub provider: Address,
}

/// The chain's confirmation of a retirement notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetireReceipt {
    /// Transaction id of the app call.
    pub txid: String,
    /// The chain time (seconds) from which the listing may be delisted.
    pub effective: u64,
}

/// The chain's confirmation of a call with nothing to report but its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxReceipt {
    /// Transaction id of the app call.
    pub txid: String,
}

/// What a rent job asks the chain to do: lock `deposit` in escrow for the rental.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentOrder {
    /// The app the listing lives on.
    pub app_id: u64,
    /// The rental being opened.
    pub rental: RentalId,
    /// The GPU rented.
    pub gpu: GpuId,
    /// The GPU's on-chain listing id.
    pub listing_id: u64,
    /// Who pays the deposit.
    pub renter: Address,
    /// Who is paid for the use.
    pub provider: Address,
    /// Price at rent time.
    pub price: PricePerMinute,
    /// Minutes the deposit pays for.
    pub max_minutes: MaxMinutes,
    /// `price * max_minutes`.
    pub deposit: MicroAlgos,
}

/// The chain's confirmation of a rent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentReceipt {
    /// Transaction id of the deposit group's app call.
    pub txid: String,
    /// Block timestamp at which billing starts (seconds).
    pub started_at: u64,
    /// The rental id the contract handed out.
    pub chain_rental_id: u64,
}

/// What a settle job asks the chain to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettleOrder {
    /// The app the rental lives on.
    pub app_id: u64,
    /// The rental to settle.
    pub rental: RentalId,
    /// Its GPU.
    pub gpu: GpuId,
    /// The GPU's on-chain listing id.
    pub listing_id: u64,
    /// The rental's on-chain id.
    pub chain_rental_id: u64,
    /// Who is refunded.
    pub renter: Address,
    /// Who is paid.
    pub provider: Address,
    /// The listing's on-chain cluster (0: none).
    pub cluster_id: u64,
}

/// The chain's settlement of a rental.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettleReceipt {
    /// Transaction id of the settle call.
    pub txid: String,
    /// Block timestamp used as "now" for billing (seconds).
    pub ended_at: u64,
    /// The exact amounts paid out.
    pub settlement: Settlement,
}

/// A call of the contract's cluster-share methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterCall {
    /// Create a cluster and its share ASA (the operator pays the deposit).
    Create { operator: Address, total_shares: u64, price_per_share: u64, url: String },
    /// Create `holder`'s record (skipped when it exists).
    Join { holder: Address, cluster_id: u64 },
    /// Opt `holder` in to the share ASA (skipped when it has).
    OptIn { holder: Address, asset_id: u64 },
    /// Buy unsold shares from the operator.
    Buy {
        buyer: Address,
        cluster_id: u64,
        asset_id: u64,
        operator: Address,
        count: u64,
        price_per_share: u64,
    },
    /// Move shares between holders (both records are settled first).
    Transfer { from: Address, to: Address, cluster_id: u64, asset_id: u64, count: u64 },
    /// Pay `holder` what it is owed; `unsold`: the operator's unsold shares' revenue.
    Claim { holder: Address, cluster_id: u64, unsold: bool },
}

/// The chain's confirmation of a cluster call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterReceipt {
    /// The app call's transaction id (empty when skipped).
    pub txid: String,
    /// Nothing was sent: the join or opt-in was already done.
    pub skipped: bool,
    /// `Create`: the cluster id and the share ASA id the contract handed out.
    pub created: Option<(u64, u64)>,
    /// `Claim`: the amount paid.
    pub claimed: Option<u64>,
}

/// A cluster's on-chain record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterState {
    pub operator: Address,
    pub asset_id: u64,
    pub total_shares: u64,
    pub price_per_share: u64,
    /// Revenue per share × 10¹², floored.
    pub acc: u128,
    pub acc_rem: u64,
}

impl ClusterState {
    /// Revenue credited to the cluster so far, exactly: the contract keeps
    /// `acc · total_shares + acc_rem = credited · SCALE`.
    pub fn total_revenue(&self) -> Option<u64> {
        let scaled = self
            .acc
            .checked_mul(u128::from(self.total_shares))?
            .checked_add(u128::from(self.acc_rem))?;
        u64::try_from(scaled / HolderState::SCALE).ok()
    }

    /// Revenue per share in microAlgos, as a decimal with 12 places (the accumulator).
    pub fn revenue_per_share(&self) -> String {
        format!("{}.{:012}", self.acc / HolderState::SCALE, self.acc % HolderState::SCALE)
    }
}

/// A holder's on-chain record in a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HolderState {
    pub shares: u64,
    pub checkpoint: u128,
    pub dust: u64,
    pub owed: u64,
}

impl HolderState {
    /// The accumulator's scale.
    pub const SCALE: u128 = 1_000_000_000_000;

    /// What a claim would pay now, given the cluster's accumulator: the contract's
    /// settlement, `owed + floor((shares · (acc − checkpoint) + dust) / SCALE)`.
    /// `None` if the record is inconsistent (checkpoint ahead of acc, or overflow).
    pub fn claimable(&self, acc: u128) -> Option<u64> {
        let pending = u128::from(self.shares)
            .checked_mul(acc.checked_sub(self.checkpoint)?)?
            .checked_add(u128::from(self.dust))?;
        u64::try_from(pending / Self::SCALE).ok()?.checked_add(self.owed)
    }
}

/// A signed transaction group as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedGroup {
    /// The group's signed transactions, concatenated as they are sent to a node.
    pub bytes: Vec<u8>,
    /// The transaction id whose confirmation decides the outcome (the app call).
    pub txid: String,
}

/// A job's durable record of what it signed (see the module docs).
pub trait Journal: Send + Sync {
    /// The group recorded by an earlier attempt, if any.
    fn recorded(&self) -> Option<SignedGroup>;
    /// Records `group` durably; only after this returns may the group be sent.
    fn record(&self, group: SignedGroup) -> PortFuture<'_, ()>;
    /// Forgets the recorded group: it can never be committed any more (its validity
    /// window has passed without it), so the next attempt builds a new one.
    fn forget(&self) -> PortFuture<'_, ()>;
}

/// A blockchain, as the job runner sees it. Every call waits for confirmation.
pub trait ChainPort: Send + Sync {
    /// A short name for logs and `/health` ("algorand devnet", "unconfigured", ...).
    fn name(&self) -> &str;
    /// The application id of the newest contract version, where new listings and
    /// clusters go (`None` without a contract). Older versions keep serving what lives
    /// on them: every order names its app.
    fn newest_app(&self) -> Option<u64> {
        None
    }
    /// The chain's clock: the latest block's timestamp, which the contract bills by.
    fn now(&self) -> PortFuture<'_, u64>;
    /// Checks signed transactions sent back for `unsigned` (one per transaction, each
    /// the signed msgpack envelope): the same transactions, each validly signed by
    /// its sender. Returns the group to journal, or what is wrong with it.
    fn accept_signed(
        &self,
        unsigned: &UnsignedGroup,
        signed: &[Vec<u8>],
    ) -> Result<SignedGroup, String>;
    /// Create a GPU's listing.
    fn register<'a>(
        &'a self,
        order: &'a RegisterOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, RegisterReceipt>;
    /// Change a listing's price.
    fn update_price<'a>(
        &'a self,
        order: &'a UpdatePriceOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, TxReceipt>;
    /// Remove a listing.
    fn delist<'a>(
        &'a self,
        order: &'a DelistOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, TxReceipt>;
    /// Announce a cluster GPU's retirement (contract v2).
    fn announce_retirement<'a>(
        &'a self,
        order: &'a RetireOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, RetireReceipt>;
    /// Whether on-chain rental `rental_id` of listing `listing_id` is still open (not
    /// settled). Ports that cannot tell say it is.
    fn rental_open(&self, app_id: u64, listing_id: u64, rental_id: u64) -> PortFuture<'_, bool> {
        let _ = (app_id, listing_id, rental_id);
        Box::pin(async { Ok(true) })
    }
    /// Call a cluster-share method of app `app_id`.
    fn cluster<'a>(
        &'a self,
        app_id: u64,
        call: &'a ClusterCall,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, ClusterReceipt>;
    /// A cluster's record (`None`: no such cluster).
    fn cluster_state(&self, app_id: u64, cluster_id: u64) -> PortFuture<'_, Option<ClusterState>>;
    /// A holder's record (`None`: not joined). The app address's record is the
    /// operator's unsold shares.
    fn holder_state<'a>(
        &'a self,
        app_id: u64,
        cluster_id: u64,
        holder: &'a Address,
    ) -> PortFuture<'a, Option<HolderState>>;
    /// Lock a rental's deposit in escrow.
    fn rent<'a>(
        &'a self,
        order: &'a RentOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, RentReceipt>;
    /// Settle a rental.
    fn settle<'a>(
        &'a self,
        order: &'a SettleOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, SettleReceipt>;
}

/// The chain port used while no chain backend is configured. Every call is refused
/// with [`ChainError::Unavailable`], so jobs stay visibly queued instead of being
/// reported as done.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unconfigured;

impl Unconfigured {
    /// The message jobs carry while they wait.
    pub const REASON: &'static str =
        "no chain backend is configured (run `bitfox up`, or configure [chain])";

    fn refuse<'a, T: 'a>() -> PortFuture<'a, T> {
        Box::pin(async { Err(ChainError::Unavailable(Self::REASON.to_owned())) })
    }
}

impl ChainPort for Unconfigured {
    fn name(&self) -> &str {
        "unconfigured"
    }

    fn now(&self) -> PortFuture<'_, u64> {
        Self::refuse()
    }

    fn accept_signed(&self, _: &UnsignedGroup, _: &[Vec<u8>]) -> Result<SignedGroup, String> {
        Err(Self::REASON.to_owned())
    }

    fn register<'a>(
        &'a self,
        _order: &'a RegisterOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, RegisterReceipt> {
        Self::refuse()
    }

    fn update_price<'a>(
        &'a self,
        _order: &'a UpdatePriceOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, TxReceipt> {
        Self::refuse()
    }

    fn delist<'a>(
        &'a self,
        _order: &'a DelistOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, TxReceipt> {
        Self::refuse()
    }

    fn announce_retirement<'a>(
        &'a self,
        _order: &'a RetireOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, RetireReceipt> {
        Self::refuse()
    }

    fn rent<'a>(
        &'a self,
        _order: &'a RentOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, RentReceipt> {
        Self::refuse()
    }

    fn cluster<'a>(
        &'a self,
        _app_id: u64,
        _call: &'a ClusterCall,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, ClusterReceipt> {
        Self::refuse()
    }

    fn cluster_state(
        &self,
        _app_id: u64,
        _cluster_id: u64,
    ) -> PortFuture<'_, Option<ClusterState>> {
        Self::refuse()
    }

    fn holder_state<'a>(
        &'a self,
        _app_id: u64,
        _cluster_id: u64,
        _holder: &'a Address,
    ) -> PortFuture<'a, Option<HolderState>> {
        Self::refuse()
    }

    fn settle<'a>(
        &'a self,
        _order: &'a SettleOrder,
        _journal: &'a dyn Journal,
    ) -> PortFuture<'a, SettleReceipt> {
        Self::refuse()
    }
}

/// A shared [`ChainPort`], shown by its name in debug output.
#[derive(Clone)]
pub struct ChainHandle(pub std::sync::Arc<dyn ChainPort>);

impl std::fmt::Debug for ChainHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

impl std::ops::Deref for ChainHandle {
    type Target = dyn ChainPort;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimable_is_the_contracts_settlement() {
        let h = HolderState { shares: 3, checkpoint: 10, dust: 5, owed: 7 };
        // 3 · (acc − 10) + 5 = 3·10¹² + 5 → 3 µAlgo more, plus 7 owed.
        assert_eq!(h.claimable(10 + 1_000_000_000_000), Some(10));
        assert_eq!(h.claimable(10), Some(7));
        assert_eq!(h.claimable(9), None, "a checkpoint ahead of the accumulator");
        let cluster = ClusterState {
            operator: Address::from_public_key([1; 32]),
            asset_id: 9,
            total_shares: 3,
            price_per_share: 1,
            // 10 µAlgo credited over 3 shares: acc = floor(10·10¹²/3), remainder 1.
            acc: 3_333_333_333_333,
            acc_rem: 1,
        };
        assert_eq!(cluster.total_revenue(), Some(10));
        assert_eq!(cluster.revenue_per_share(), "3.333333333333");
        let big = HolderState { shares: u64::MAX, checkpoint: 0, dust: 0, owed: 0 };
        assert_eq!(big.claimable(u128::MAX), None);
    }
}
