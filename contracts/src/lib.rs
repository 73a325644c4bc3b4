//! The BitFox contract, as data and pure functions: no network, no I/O.
//!
//! This crate owns the contract's source (the TEAL programs and the ARC-56 app spec in
//! this directory) and everything the rest of BitFox knows about it, once:
//!
//! * [`program`]: the approval and clear programs, the ARC-56 spec, the app's schema and
//!   extra pages — what the deployer sends to a node.
//! * [`abi`]: method signatures, selectors, argument encoding and return values.
//! * [`events`]: the ARC-28 events the contract logs, decoded strictly.
//! * [`boxes`]: box names and the layouts of the listing, rental, cluster and holder boxes.
//! * [`mbr`]: the minimum balances and fees each call pays.
//!
//! The chain client, the deployer and the watcher all use it; the watcher needs nothing
//! else from the chain side, so it carries no Algorand SDK.

pub mod abi;
pub mod boxes;
pub mod events;
pub mod mbr;
pub mod program;

pub use bitfox_domain::protocol::{app_address, selector};
pub use events::{Event, EventError, decode_event, events};
