//! The context of one top-level group ([`GroupContext`]), shared by every
//! program the group runs, and the address of an application's account.

use std::collections::{HashMap, HashSet};

use super::{APP_BUDGET, MAX_INNER_PER_GROUP, ZERO};
use crate::eval::host::{Address, Globals, Txn, TxnType, Value};

/// State shared by every program evaluated in one top-level group: the
/// transactions, block globals, the pooled opcode budget, the fee credit for
/// inner transactions, resource availability and box I/O budget.
///
/// Create one per top-level group with [`GroupContext::new`] and pass it to
/// [`eval_app`](super::eval_app) for each application call of the group, in order.
#[derive(Debug, Clone)]
pub struct GroupContext {
    /// The group's transactions. The evaluator writes the effects (logs,
    /// inner transactions, created ids) of the app calls it runs; the host
    /// fills the effects of the others (e.g. `created_asset_id` of an acfg).
    pub txns: Vec<Txn>,
    /// Block and consensus values.
    pub globals: Globals,
    /// Remaining pooled opcode budget (700 per app call of the group).
    pub pooled_budget: i64,
    /// Remaining inner transactions allowed in the group.
    pub inner_left: i64,
    /// Fees paid in excess by the group, usable by inner transactions.
    pub fee_credit: u64,
    pub(super) scratch: Vec<Option<Vec<Value>>>,
    pub(super) boxes: HashMap<(u64, Vec<u8>), bool>,
    pub(super) dirty_bytes: u64,
    pub(super) io_budget: u64,
    pub(super) read_budget_checked: bool,
    pub(super) shared_accounts: HashSet<Address>,
    pub(super) shared_apps: HashSet<u64>,
    pub(super) shared_assets: HashSet<u64>,
    pub(super) shared_holdings: HashSet<(Address, u64)>,
    pub(super) shared_locals: HashSet<(Address, u64)>,
    pub(super) created_apps: HashSet<u64>,
    pub(super) created_assets: HashSet<u64>,
}

/// The address of an application's account, as raw bytes
/// ([`bitfox_domain::protocol::app_address`]).
pub fn app_address(app: u64) -> Address {
    *bitfox_domain::protocol::app_address(app).public_key()
}

impl GroupContext {
    /// Prepares a group: pooled budget (700 × app calls), fee credit
    /// (fees paid above `MinTxnFee` × group size) and the resources the group
    /// makes available (go-algorand's shared resources, v9).
    pub fn new(txns: Vec<Txn>, globals: Globals) -> GroupContext {
        let apps = txns.iter().filter(|t| t.ty == TxnType::Appl).count() as i64;
        let paid = txns.iter().fold(0u64, |a, t| a.saturating_add(t.fee));
        let needed = globals.min_txn_fee.saturating_mul(txns.len() as u64);
        let mut cx = GroupContext {
            scratch: vec![None; txns.len()],
            pooled_budget: apps * APP_BUDGET,
            inner_left: MAX_INNER_PER_GROUP,
            fee_credit: paid.saturating_sub(needed),
            txns,
            globals,
            boxes: HashMap::new(),
            dirty_bytes: 0,
            io_budget: 0,
            read_budget_checked: false,
            shared_accounts: HashSet::new(),
            shared_apps: HashSet::new(),
            shared_assets: HashSet::new(),
            shared_holdings: HashSet::new(),
            shared_locals: HashSet::new(),
            created_apps: HashSet::new(),
            created_assets: HashSet::new(),
        };
        let txns = cx.txns.clone();
        for t in &txns {
            cx.fill(t);
        }
        cx
    }

    /// Records an app or asset created by a transaction of the group (the
    /// host calls this for top-level creations; the evaluator does it for
    /// inner ones).
    pub fn note_created(&mut self, app: Option<u64>, asset: Option<u64>) {
        if let Some(a) = app {
            self.created_apps.insert(a);
        }
        if let Some(a) = asset {
            self.created_assets.insert(a);
        }
    }

    fn share_holding(&mut self, addr: Address, asset: u64) {
        self.shared_accounts.insert(addr);
        self.shared_holdings.insert((addr, asset));
    }

    fn fill(&mut self, t: &Txn) {
        match t.ty {
            TxnType::Pay => {
                self.shared_accounts.insert(t.sender);
                self.shared_accounts.insert(t.receiver);
                if t.close_remainder_to != ZERO {
                    self.shared_accounts.insert(t.close_remainder_to);
                }
            }
            TxnType::Keyreg | TxnType::Unknown => {
                self.shared_accounts.insert(t.sender);
            }
            TxnType::Acfg => {
                self.shared_accounts.insert(t.sender);
                if t.config_asset != 0 {
                    self.shared_assets.insert(t.config_asset);
                }
            }
            TxnType::Axfer => {
                let id = t.xfer_asset;
                self.shared_assets.insert(id);
                self.share_holding(t.sender, id);
                self.share_holding(t.asset_receiver, id);
                if t.asset_sender != ZERO {
                    self.share_holding(t.asset_sender, id);
                }
                if t.asset_close_to != ZERO {
                    self.share_holding(t.asset_close_to, id);
                }
            }
            TxnType::Afrz => {
                self.shared_accounts.insert(t.sender);
                self.shared_assets.insert(t.freeze_asset);
                self.share_holding(t.freeze_asset_account, t.freeze_asset);
            }
            TxnType::Appl => {
                let mut accts = vec![t.sender];
                accts.extend(t.accounts.iter().copied());
                for id in &t.foreign_assets {
                    self.shared_assets.insert(*id);
                }
                if t.application_id != 0 {
                    accts.push(app_address(t.application_id));
                    self.shared_apps.insert(t.application_id);
                }
                for id in &t.foreign_apps {
                    accts.push(app_address(*id));
                    self.shared_apps.insert(*id);
                }
                for a in accts {
                    self.shared_accounts.insert(a);
                    for id in &t.foreign_assets {
                        self.shared_holdings.insert((a, *id));
                    }
                    if t.application_id != 0 {
                        self.shared_locals.insert((a, t.application_id));
                    }
                    for id in &t.foreign_apps {
                        self.shared_locals.insert((a, *id));
                    }
                }
                for br in &t.boxes {
                    let app = if br.index == 0 {
                        if t.application_id == 0 {
                            continue;
                        }
                        t.application_id
                    } else {
                        match t.foreign_apps.get(br.index as usize - 1) {
                            Some(a) => *a,
                            None => continue,
                        }
                    };
                    self.boxes.insert((app, br.name.clone()), false);
                }
            }
        }
    }
}
