//! The ledger's state and the types every part of evaluation shares.
//!
//! [`State`] is everything the ledger knows at one round: accounts (balances, holdings,
//! rekeyed spending keys, opted-in applications and their local state, and the totals the
//! minimum balance is computed from), assets, applications and boxes, and what duplicate
//! and lease detection remembers. A group is evaluated against an [`Overlay`], a
//! copy-on-write view of the state whose [`Changes`] are applied only if the whole group is
//! accepted.
//!
//! The [`Consensus`] parameters, the [`Network`] identity, each transaction's
//! [`ApplyData`] and the [`EvalError`] a refused group reports live here too, so that the
//! modules that evaluate transactions (payments, assets, application calls, groups) all
//! depend on this one and not on each other. [`App`] is here for the same reason: the state
//! holds applications, and application-call evaluation reads and changes them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bitfox_avm::eval::Value as TealValue;
use bitfox_domain::Address;

use crate::txn::{AssetParams, Digest32, StateSchema, Transaction, TxnError};

/// Consensus parameters the devnet enforces (go-algorand consensus v38 values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consensus {
    pub min_txn_fee: u64,
    pub min_balance: u64,
    pub max_txn_life: u64,
    pub max_group_size: usize,
    pub max_note_bytes: usize,
    pub max_asset_name_bytes: usize,
    pub max_asset_unit_name_bytes: usize,
    pub max_asset_url_bytes: usize,
    pub max_asset_decimals: u64,
    pub app_flat_params_min_balance: u64,
    pub app_flat_opt_in_min_balance: u64,
    pub schema_min_balance_per_entry: u64,
    pub schema_uint_min_balance: u64,
    pub schema_bytes_min_balance: u64,
    pub box_flat_min_balance: u64,
    pub box_byte_min_balance: u64,
}

impl Default for Consensus {
    fn default() -> Self {
        Self {
            min_txn_fee: 1_000,
            min_balance: 100_000,
            max_txn_life: 1_000,
            max_group_size: 16,
            max_note_bytes: 1_024,
            max_asset_name_bytes: 32,
            max_asset_unit_name_bytes: 8,
            max_asset_url_bytes: 96,
            max_asset_decimals: 19,
            app_flat_params_min_balance: 100_000,
            app_flat_opt_in_min_balance: 100_000,
            schema_min_balance_per_entry: 25_000,
            schema_uint_min_balance: 3_500,
            schema_bytes_min_balance: 25_000,
            box_flat_min_balance: 2_500,
            box_byte_min_balance: 400,
        }
    }
}

/// An account's holding of an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding {
    pub amount: u64,
    pub frozen: bool,
}

/// An account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub balance: u64,
    /// The key that signs for the account when it has been rekeyed.
    pub auth_addr: Option<Address>,
    pub holdings: BTreeMap<u64, Holding>,
    pub created_assets: BTreeSet<u64>,
    pub created_apps: BTreeSet<u64>,
    /// Applications opted in to, with this account's local state in each.
    pub opted_in_apps: BTreeMap<u64, BTreeMap<Vec<u8>, TealValue>>,
    pub total_extra_pages: u64,
    pub total_schema_uints: u64,
    pub total_schema_bytes: u64,
    pub total_boxes: u64,
    pub total_box_bytes: u64,
}

impl Account {
    /// Whether the account holds nothing and can be forgotten.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The minimum balance this account must keep (go-algorand's formula).
    pub fn min_balance(&self, c: &Consensus) -> u64 {
        let n = |x: usize| x as u64;
        c.min_balance
            + c.min_balance * n(self.holdings.len())
            + c.app_flat_params_min_balance * (n(self.created_apps.len()) + self.total_extra_pages)
            + c.app_flat_opt_in_min_balance * n(self.opted_in_apps.len())
            + (c.schema_min_balance_per_entry + c.schema_uint_min_balance) * self.total_schema_uints
            + (c.schema_min_balance_per_entry + c.schema_bytes_min_balance)
                * self.total_schema_bytes
            + c.box_flat_min_balance * self.total_boxes
            + c.box_byte_min_balance * self.total_box_bytes
    }
}

/// An asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub creator: Address,
    pub params: AssetParams,
}

/// An application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub creator: Address,
    pub approval: Vec<u8>,
    pub clear: Vec<u8>,
    pub global_schema: StateSchema,
    pub local_schema: StateSchema,
    pub extra_pages: u64,
    pub global: BTreeMap<Vec<u8>, TealValue>,
}

/// Everything the ledger knows at one round.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub accounts: BTreeMap<Address, Account>,
    pub assets: BTreeMap<u64, Asset>,
    pub apps: BTreeMap<u64, App>,
    pub boxes: BTreeMap<(u64, Vec<u8>), Vec<u8>>,
    /// Transactions ever applied; new asset and app ids are taken from it.
    pub txn_counter: u64,
    /// Ids of recent transactions, with their last valid round (duplicate detection).
    pub recent_txids: HashMap<Digest32, u64>,
    /// Active leases: (sender, lease) → last valid round.
    pub leases: HashMap<(Address, Digest32), u64>,
}

impl State {
    /// The account at `address` (an empty one if unknown).
    pub fn account(&self, address: &Address) -> Account {
        self.accounts.get(address).cloned().unwrap_or_default()
    }
}

/// What the evaluation of one transaction produced (go-algorand's "apply data").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyData {
    /// Algos sent to the close-to address.
    pub closing_amount: u64,
    /// Asset units sent to the asset close-to address.
    pub asset_closing_amount: u64,
    /// The id of an asset this transaction created.
    pub config_asset: u64,
    /// The id of an application this transaction created.
    pub application_id: u64,
    /// What the application call logged.
    pub logs: Vec<Vec<u8>>,
    /// The inner transactions the application call issued.
    pub inner: Vec<bitfox_avm::eval::Txn>,
}

/// Why a group was refused. The messages follow algod's where the devnet can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The transaction is malformed or unsupported.
    #[error(transparent)]
    Txn(#[from] TxnError),
    /// A group-level rule is broken (size, group id, fees).
    #[error("{0}")]
    Group(String),
    /// A rule of one transaction is broken.
    #[error("transaction {txid}: {reason}")]
    Rejected {
        /// The transaction's id.
        txid: String,
        /// Why.
        reason: String,
    },
    /// Something the devnet does not support (inner application calls).
    #[error("{0} is not supported on devnet yet")]
    NotBuilt(String),
}

/// The network identity transactions must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub genesis_id: String,
    pub genesis_hash: Digest32,
}

/// Changes made by a group, not yet applied.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub(super) accounts: BTreeMap<Address, Account>,
    pub(super) assets: BTreeMap<u64, Option<Asset>>,
    pub(crate) apps: BTreeMap<u64, Option<App>>,
    pub(crate) boxes: BTreeMap<(u64, Vec<u8>), Option<Vec<u8>>>,
    pub(crate) txn_counter: u64,
    pub(super) new_txids: Vec<(Digest32, u64)>,
    pub(super) new_leases: Vec<((Address, Digest32), u64)>,
}

impl Changes {
    /// Applies the changes to `state`.
    pub fn apply(self, state: &mut State) {
        for (address, account) in self.accounts {
            if account.is_empty() {
                state.accounts.remove(&address);
            } else {
                state.accounts.insert(address, account);
            }
        }
        for (id, asset) in self.assets {
            match asset {
                Some(asset) => state.assets.insert(id, asset),
                None => state.assets.remove(&id),
            };
        }
        for (id, app) in self.apps {
            match app {
                Some(app) => state.apps.insert(id, app),
                None => state.apps.remove(&id),
            };
        }
        for (key, value) in self.boxes {
            match value {
                Some(value) => state.boxes.insert(key, value),
                None => state.boxes.remove(&key),
            };
        }
        state.txn_counter = self.txn_counter;
        state.recent_txids.extend(self.new_txids);
        state.leases.extend(self.new_leases);
    }
}

/// A copy-on-write view of a [`State`] for evaluating one group.
#[derive(Debug)]
pub struct Overlay<'a> {
    pub(super) base: &'a State,
    pub(crate) changes: Changes,
}

impl<'a> Overlay<'a> {
    /// An overlay with no changes.
    pub fn new(base: &'a State) -> Self {
        Self { base, changes: Changes { txn_counter: base.txn_counter, ..Changes::default() } }
    }

    /// The account as changed so far.
    pub fn account(&self, address: &Address) -> Account {
        self.changes.accounts.get(address).cloned().unwrap_or_else(|| self.base.account(address))
    }

    /// The application as changed so far.
    pub fn app(&self, id: u64) -> Option<&App> {
        match self.changes.apps.get(&id) {
            Some(changed) => changed.as_ref(),
            None => self.base.apps.get(&id),
        }
    }

    /// The application, to change in place (copied into the overlay on first use).
    pub(crate) fn app_mut(&mut self, id: u64) -> Option<&mut App> {
        if !self.changes.apps.contains_key(&id) {
            let app = self.base.apps.get(&id)?.clone();
            self.changes.apps.insert(id, Some(app));
        }
        self.changes.apps.get_mut(&id)?.as_mut()
    }

    /// A box as changed so far.
    pub fn box_value(&self, app: u64, name: &[u8]) -> Option<Vec<u8>> {
        let key = (app, name.to_vec());
        match self.changes.boxes.get(&key) {
            Some(changed) => changed.clone(),
            None => self.base.boxes.get(&key).cloned(),
        }
    }

    pub(crate) fn put(&mut self, address: Address, account: Account) {
        self.changes.accounts.insert(address, account);
    }

    /// The asset as changed so far.
    pub fn asset(&self, id: u64) -> Option<Asset> {
        match self.changes.assets.get(&id) {
            Some(changed) => changed.clone(),
            None => self.base.assets.get(&id).cloned(),
        }
    }

    /// The accounts the group has changed so far.
    pub(super) fn touched(&self) -> impl Iterator<Item = (&Address, &Account)> {
        self.changes.accounts.iter()
    }

    /// The changes, ready to apply.
    pub fn finish(self) -> Changes {
        self.changes
    }
}

/// The error refusing `txn` for `reason`.
pub(crate) fn reject(txn: &Transaction, reason: impl Into<String>) -> EvalError {
    EvalError::Rejected { txid: txn.id(), reason: reason.into() }
}
