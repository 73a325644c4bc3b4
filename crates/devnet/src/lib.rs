//! BitFox's embedded Algorand dev node.
//!
//! A zero-setup Algorand node for development and tests: Algorand's canonical MessagePack
//! ([`msgpack`]); transactions with their ids, group ids and ed25519 signatures ([`txn`]);
//! the ledger, which evaluates transaction groups (payments, assets, application calls
//! with programs run by the `bitfox-avm` evaluator) all or nothing ([`ledger`]); the node,
//! which seals one block per accepted group and persists its chain in SQLite ([`node`]);
//! and the algod v2 REST API ([`server`]) with the indexer's transaction search
//! ([`indexer`]) over it.
//!
//! # Module graph
//!
//! Every module uses only modules listed before it, so the graph has no cycles:
//!
//! - [`msgpack`] uses no other module;
//! - [`txn`] uses `msgpack`;
//! - [`ledger`] uses `txn`; inside it, `group` uses `apps`, `assets`, `payment` and
//!   `state`, `apps` uses `assets`, `payment` and `state`, and `assets` and `payment` use
//!   `state` only;
//! - [`node`] uses `ledger` and `txn`;
//! - `rest_error` (algod's error answer, [`server::AlgodError`]) uses no other module;
//! - [`indexer`] uses `ledger` (its `apps`), `node`, `rest_error` and `txn`;
//! - [`server`] uses `indexer`, `ledger`, `msgpack`, `node`, `rest_error` and `txn`.
//!
//! [`apps`] is [`ledger::apps`], re-exported at its old path.

pub mod indexer;
pub mod ledger;
pub mod msgpack;
pub mod node;
mod rest_error;
pub mod server;
pub mod txn;

pub use ledger::apps;
