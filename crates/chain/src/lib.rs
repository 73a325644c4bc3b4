//! BitFox on Algorand.
//!
//! * [`deploy`] puts the contract on a network through any algod (the embedded devnet,
//!   LocalNet, TestNet, MainNet).
//! * [`abi`] knows the contract's methods and decodes its ARC-28 events.
//! * [`client`] builds each method's exact transaction group and sends signed groups.
//! * [`signer`] holds the keys the server may sign with; [`keystore`] keeps them
//!   encrypted at rest; [`kmd`] exports a LocalNet wallet's keys (not exercised here).
//! * [`port`] is the job runner's chain port on Algorand.

pub mod abi;
pub mod client;
pub mod deploy;
pub mod keystore;
pub mod kmd;
pub mod port;
pub mod signer;
