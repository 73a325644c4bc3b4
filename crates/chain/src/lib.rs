//! BitFox on Algorand.
//!
//! What the contract is (its ABI, events, boxes and minimum balances) lives in
//! `bitfox-contract`; deploying it in `bitfox-deployer`.
//!
//! * [`client`] builds each method's exact transaction group and sends signed groups.
//! * [`signer`] holds the keys the server may sign with; [`keystore`] keeps them
//!   encrypted at rest; [`kmd`] exports a LocalNet wallet's keys (not exercised here).
//! * [`port`] is the job runner's chain port on Algorand.
//! * [`node_error`] classifies a node's refusals, in one place.

pub mod client;
pub mod keystore;
pub mod kmd;
pub mod node_error;
pub mod port;
pub mod signer;
