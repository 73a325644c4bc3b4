//! BitFox on Algorand.
//!
//! Built so far: [`deploy`], which puts the contract on a network through any algod
//! (the embedded devnet, LocalNet, TestNet, MainNet). The typed contract client, the
//! signers and the keystore come with on-chain settlement.

pub mod deploy;
