//! The devnet's ledger: accounts, assets, applications and the rules of evaluating
//! transaction groups.
//!
//! A group is evaluated against a copy-on-write [`Overlay`] of the [`State`] and committed
//! only if every transaction in it is accepted, so a group is all or nothing. The rules
//! follow go-algorand (consensus v38, the version the project's reference runs):
//! signatures and authorisation (rekeying), validity windows, genesis checks, leases,
//! duplicate transactions, pooled fees, minimum balances after every transaction, and the
//! semantics of payments, asset configuration, transfers and freezes, and application
//! calls (programs run by the `bitfox-avm` evaluator). Inner application calls are refused
//! with [`EvalError::NotBuilt`].
//!
//! The ledger is split by concern; every item keeps its `ledger::` path:
//!
//! - `state`: [`State`], [`Account`] and its minimum balance, [`Asset`], [`App`], the
//!   [`Overlay`] and its [`Changes`], and the shared [`Consensus`], [`Network`],
//!   [`ApplyData`] and [`EvalError`];
//! - `payment`: payments and account close-outs;
//! - `assets`: asset creation, reconfiguration, destruction, opt-in, transfers, clawbacks,
//!   close-outs and freezes;
//! - `apps` ([`apps`]): application calls and the ledger as the AVM sees it, including the
//!   inner transactions programs issue (also reachable as `bitfox_devnet::apps`);
//! - `group`: [`apply_group`] / [`apply_group_at`], the group checks, fees and the dispatch
//!   of each transaction by kind.
//!
//! Within the ledger, `group` uses `apps`, `assets`, `payment` and `state`; `apps` uses
//! `assets`, `payment` and `state`; `assets` and `payment` use only `state`; `state` uses
//! none of them.

pub mod apps;
mod assets;
mod group;
mod payment;
mod state;

pub use group::{apply_group, apply_group_at};
pub use state::{
    Account, App, ApplyData, Asset, Changes, Consensus, EvalError, Holding, Network, Overlay, State,
};
