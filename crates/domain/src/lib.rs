//! The BitFox domain model.
//!
//! Everything here is pure: no I/O, no clocks, no randomness. The optional `diesel`
//! feature adds column mappings (text statuses, integer ids and amounts) for the store. Values are built only
//! through checking constructors ("parse, don't validate"), so an [`Address`], a
//! [`MicroAlgos`] amount or a [`PricePerMinute`] that exists is known to be valid.
//!
//! * [`address`]: Algorand addresses (base32 + SHA-512/256 checksum).
//! * [`amount`]: microAlgo amounts with checked arithmetic.
//! * [`billing`]: per-second billing, deposits and settlement splits, computed exactly
//!   as the on-chain contract computes them (128-bit intermediates, no floats).
//! * [`lifecycle`]: the GPU and rental state machines.
//! * [`ids`]: typed row identifiers.
//! * [`chain`]: the port through which background jobs reach a blockchain.
//! * [`protocol`]: protocol hashes (an application's account address, ARC-4 selectors).

pub mod address;
pub mod amount;
pub mod billing;
pub mod chain;
#[cfg(feature = "diesel")]
mod columns;
pub mod ids;
pub mod lifecycle;
pub mod protocol;
pub mod retirement;

pub use address::{Address, AddressError};
pub use amount::{AmountError, MicroAlgos, Shares};
pub use billing::{BillingError, FeeBps, MaxMinutes, PricePerMinute, Settlement};
pub use ids::{ChainId, ClusterId, GpuId, JobId, RentalId};
pub use lifecycle::{ClusterStatus, GpuStatus, IllegalTransition, JobKind, JobState, RentalStatus};
