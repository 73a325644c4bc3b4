//! The port through which background jobs reach a blockchain.
//!
//! The API never talks to a chain inside a request: it records intent and a job, and
//! the job runner calls a [`ChainPort`]. Implementations live outside the domain crate
//! (the Algorand client); [`Unconfigured`] is the honest default while none is wired in:
//! it refuses every call with [`ChainError::Unavailable`], which keeps jobs queued.

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
}

/// What a rent job asks the chain to do: lock `deposit` in escrow for the rental.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentOrder {
    /// The rental being opened.
    pub rental: RentalId,
    /// The GPU rented.
    pub gpu: GpuId,
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
}

/// What a settle job asks the chain to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettleOrder {
    /// The rental to settle.
    pub rental: RentalId,
    /// Its GPU.
    pub gpu: GpuId,
    /// The address that asked for the stop.
    pub requested_by: Option<Address>,
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

/// A blockchain, as the job runner sees it.
pub trait ChainPort: Send + Sync {
    /// A short name for logs and `/health` ("algorand devnet", "unconfigured", ...).
    fn name(&self) -> &str;
    /// Lock a rental's deposit in escrow and wait for confirmation.
    fn rent(&self, order: &RentOrder) -> PortFuture<'_, RentReceipt>;
    /// Settle a rental and wait for confirmation.
    fn settle(&self, order: &SettleOrder) -> PortFuture<'_, SettleReceipt>;
}

/// The chain port used while no chain backend is configured. Every call is refused
/// with [`ChainError::Unavailable`], so jobs stay visibly queued instead of being
/// reported as done.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unconfigured;

impl Unconfigured {
    /// The message jobs carry while they wait.
    pub const REASON: &'static str =
        "no chain backend is configured: on-chain settlement is not built yet";
}

impl ChainPort for Unconfigured {
    fn name(&self) -> &str {
        "unconfigured"
    }

    fn rent(&self, _order: &RentOrder) -> PortFuture<'_, RentReceipt> {
        Box::pin(async { Err(ChainError::Unavailable(Self::REASON.to_owned())) })
    }

    fn settle(&self, _order: &SettleOrder) -> PortFuture<'_, SettleReceipt> {
        Box::pin(async { Err(ChainError::Unavailable(Self::REASON.to_owned())) })
    }
}
