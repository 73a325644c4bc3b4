//! BitFox's embedded Algorand dev node.
//!
//! Built so far: the protocol layer — Algorand's canonical MessagePack ([`msgpack`]) and
//! transactions with their ids, group ids and ed25519 signatures ([`txn`]). The ledger,
//! the AVM evaluation and the algod/indexer REST server are not built yet.

pub mod apps;
pub mod indexer;
pub mod ledger;
pub mod msgpack;
pub mod node;
pub mod server;
pub mod txn;
