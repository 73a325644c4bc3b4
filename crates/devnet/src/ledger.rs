//! The devnet's ledger: accounts, assets and the rules of evaluating transaction groups.
//!
//! A group is evaluated against a copy-on-write [`Overlay`] of the [`State`] and committed
//! only if every transaction in it is accepted, so a group is all or nothing. The rules
//! follow go-algorand (consensus v38, the version the project's reference runs):
//! signatures and authorisation (rekeying), validity windows, genesis checks, leases,
//! duplicate transactions, pooled fees, minimum balances after every transaction, and the
//! semantics of payments, asset configuration, transfers and freezes.
//!
//! Application calls need the AVM; until the evaluator is wired in they are refused with
//! [`EvalError::NotBuilt`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bitfox_domain::Address;

use bitfox_avm::eval::{GroupContext, Value as TealValue};

use crate::apps::{self, App};
use crate::txn::{AssetParams, Digest32, SignedTxn, Transaction, TxnError, TxnKind, group_id};

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
    /// A part of the devnet that is not built yet.
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
    accounts: BTreeMap<Address, Account>,
    assets: BTreeMap<u64, Option<Asset>>,
    pub(crate) apps: BTreeMap<u64, Option<App>>,
    pub(crate) boxes: BTreeMap<(u64, Vec<u8>), Option<Vec<u8>>>,
    pub(crate) txn_counter: u64,
    new_txids: Vec<(Digest32, u64)>,
    new_leases: Vec<((Address, Digest32), u64)>,
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
    base: &'a State,
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

    fn touched(&self) -> impl Iterator<Item = (&Address, &Account)> {
        self.changes.accounts.iter()
    }

    /// The changes, ready to apply.
    pub fn finish(self) -> Changes {
        self.changes
    }
}

/// Evaluates `group` at `round` against `state`; on success commits it and returns each
/// transaction's apply data.
pub fn apply_group(
    state: &mut State,
    consensus: &Consensus,
    network: &Network,
    round: u64,
    group: &[SignedTxn],
) -> Result<Vec<ApplyData>, EvalError> {
    apply_group_at(state, consensus, network, round, 0, group)
}

/// [`apply_group`] in a block made after one stamped `latest_timestamp` (what programs
/// read as `global LatestTimestamp`).
pub fn apply_group_at(
    state: &mut State,
    consensus: &Consensus,
    network: &Network,
    round: u64,
    latest_timestamp: u64,
    group: &[SignedTxn],
) -> Result<Vec<ApplyData>, EvalError> {
    check_group(consensus, group)?;
    let mut overlay = Overlay::new(state);
    let mut cx = group
        .iter()
        .any(|s| matches!(s.txn.kind, TxnKind::AppCall(_)))
        .then(|| apps::group_context(consensus, round, latest_timestamp, group));
    let mut applied = Vec::with_capacity(group.len());
    for (gi, stxn) in group.iter().enumerate() {
        applied.push(apply_one(
            &mut overlay,
            consensus,
            network,
            round,
            stxn,
            cx.as_mut().map(|cx| (cx, gi)),
        )?);
    }
    let changes = overlay.finish();
    changes.apply(state);
    // Forget what can no longer be replayed.
    state.recent_txids.retain(|_, last_valid| *last_valid >= round);
    state.leases.retain(|_, last_valid| *last_valid >= round);
    Ok(applied)
}

fn check_group(consensus: &Consensus, group: &[SignedTxn]) -> Result<(), EvalError> {
    if group.is_empty() {
        return Err(EvalError::Group("empty transaction group".into()));
    }
    if group.len() > consensus.max_group_size {
        return Err(EvalError::Group(format!(
            "group size {} exceeds maximum {}",
            group.len(),
            consensus.max_group_size
        )));
    }
    let ids: Vec<Digest32> = group
        .iter()
        .map(|s| {
            let mut txn = s.txn.clone();
            txn.group = None;
            txn.id_bytes()
        })
        .collect();
    let expected = group_id(&ids);
    for stxn in group {
        match stxn.txn.group {
            None if group.len() == 1 => {}
            Some(g) if g == expected => {}
            None => {
                return Err(EvalError::Group(format!(
                    "transaction {} is in a group of {} but has no group id",
                    stxn.txn.id(),
                    group.len()
                )));
            }
            Some(_) => {
                return Err(EvalError::Group("incomplete group: group id does not match".into()));
            }
        }
    }
    // Fee pooling: the group's fees together must cover the minimum fee of every member.
    let total: u128 = group.iter().map(|s| u128::from(s.txn.fee)).sum();
    let needed = u128::from(consensus.min_txn_fee) * group.len() as u128;
    if total < needed {
        return Err(EvalError::Group(format!("fee too small: group pays {total}, needs {needed}")));
    }
    Ok(())
}

pub(crate) fn reject(txn: &Transaction, reason: impl Into<String>) -> EvalError {
    EvalError::Rejected { txid: txn.id(), reason: reason.into() }
}

fn apply_one(
    o: &mut Overlay<'_>,
    c: &Consensus,
    network: &Network,
    round: u64,
    stxn: &SignedTxn,
    cx: Option<(&mut GroupContext, usize)>,
) -> Result<ApplyData, EvalError> {
    let txn = &stxn.txn;
    let txid = txn.id_bytes();
    // Validity window and network.
    if txn.last_valid < txn.first_valid || txn.last_valid - txn.first_valid > c.max_txn_life {
        return Err(reject(
            txn,
            format!("validity window [{}, {}] is invalid", txn.first_valid, txn.last_valid),
        ));
    }
    if round < txn.first_valid || round > txn.last_valid {
        return Err(reject(
            txn,
            format!("txn dead: round {round} outside of {}--{}", txn.first_valid, txn.last_valid),
        ));
    }
    if txn.genesis_hash != Some(network.genesis_hash) {
        return Err(reject(txn, "genesis hash does not match this network"));
    }
    if !txn.genesis_id.is_empty() && txn.genesis_id != network.genesis_id {
        return Err(reject(
            txn,
            format!("genesis id {:?} does not match {:?}", txn.genesis_id, network.genesis_id),
        ));
    }
    if txn.note.len() > c.max_note_bytes {
        return Err(reject(
            txn,
            format!("note too big: {} > {}", txn.note.len(), c.max_note_bytes),
        ));
    }
    if o.base.recent_txids.contains_key(&txid)
        || o.changes.new_txids.iter().any(|(id, _)| *id == txid)
    {
        return Err(reject(txn, "transaction already in ledger"));
    }
    if let Some(lease) = txn.lease {
        let key = (txn.sender, lease);
        let active = o.base.leases.get(&key).is_some_and(|lv| *lv >= round)
            || o.changes.new_leases.iter().any(|(k, _)| *k == key);
        if active {
            return Err(reject(txn, "transaction using an overlapping lease"));
        }
        o.changes.new_leases.push((key, txn.last_valid));
    }
    // Authorisation: the signer must be the account's current spending key.
    stxn.verify()?;
    let mut sender = o.account(&txn.sender);
    let authorised = sender.auth_addr.unwrap_or(txn.sender);
    if stxn.signer() != authorised {
        return Err(reject(
            txn,
            format!(
                "should have been authorized by {authorised} but was actually authorized by {}",
                stxn.signer()
            ),
        ));
    }
    // The fee.
    sender.balance = sender.balance.checked_sub(txn.fee).ok_or_else(|| {
        reject(
            txn,
            format!(
                "overspend: account {} balance {} cannot pay fee {}",
                txn.sender, sender.balance, txn.fee
            ),
        )
    })?;
    o.put(txn.sender, sender);
    o.changes.txn_counter += 1;
    o.changes.new_txids.push((txid, txn.last_valid));

    // Rekeying takes effect before the transaction's own effects, as in go-algorand: a
    // payment that closes the account then clears the new key along with everything else.
    if let Some(rekey_to) = txn.rekey_to {
        let mut sender = o.account(&txn.sender);
        sender.auth_addr = (rekey_to != txn.sender).then_some(rekey_to);
        o.put(txn.sender, sender);
    }
    let mut ad = ApplyData::default();
    match &txn.kind {
        TxnKind::Payment { receiver, amount, close_to } => {
            pay(o, txn, *receiver, *amount, *close_to, &mut ad)?;
        }
        TxnKind::AssetConfig { asset_id, params } => {
            asset_config(o, c, txn, *asset_id, params.as_ref(), &mut ad)?
        }
        TxnKind::AssetTransfer { asset_id, amount, asset_sender, receiver, close_to } => {
            asset_transfer(
                o,
                txn,
                *asset_id,
                *amount,
                *asset_sender,
                *receiver,
                *close_to,
                &mut ad,
            )?;
        }
        TxnKind::AssetFreeze { account, asset_id, frozen } => {
            asset_freeze(o, txn, *account, *asset_id, *frozen)?
        }
        TxnKind::AppCall(call) => {
            let (cx, gi) = cx.ok_or_else(|| {
                EvalError::Group("application call outside a group context".into())
            })?;
            apps::app_call(o, c, cx, gi, txn, call, &mut ad)
                .map_err(|reason| reject(txn, reason))?;
        }
    }
    // Every account changed so far in the group must keep its minimum balance.
    for (address, account) in o.touched() {
        if !account.is_empty() && account.balance < account.min_balance(c) {
            return Err(reject(
                txn,
                format!(
                    "account {address} balance {} below min {}",
                    account.balance,
                    account.min_balance(c)
                ),
            ));
        }
    }
    Ok(ad)
}

pub(crate) fn credit(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    address: Address,
    amount: u64,
) -> Result<(), EvalError> {
    let mut account = o.account(&address);
    account.balance = account
        .balance
        .checked_add(amount)
        .ok_or_else(|| reject(txn, format!("balance of {address} overflows")))?;
    o.put(address, account);
    Ok(())
}

pub(crate) fn pay(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    receiver: Option<Address>,
    amount: u64,
    close_to: Option<Address>,
    ad: &mut ApplyData,
) -> Result<(), EvalError> {
    let zero = Address::from_public_key([0; 32]);
    let mut sender = o.account(&txn.sender);
    sender.balance = sender.balance.checked_sub(amount).ok_or_else(|| {
        reject(
            txn,
            format!(
                "overspend: account {} tried to spend {amount}, has {}",
                txn.sender, sender.balance
            ),
        )
    })?;
    o.put(txn.sender, sender);
    credit(o, txn, receiver.unwrap_or(zero), amount)?;
    if let Some(close_to) = close_to {
        if close_to == txn.sender {
            return Err(reject(txn, "transaction cannot close account to its sender"));
        }
        let mut sender = o.account(&txn.sender);
        if !sender.holdings.is_empty()
            || !sender.created_apps.is_empty()
            || !sender.opted_in_apps.is_empty()
        {
            return Err(reject(txn, "cannot close account: it still holds assets or applications"));
        }
        let rest = sender.balance;
        sender.balance = 0;
        sender.auth_addr = None;
        o.put(txn.sender, sender);
        credit(o, txn, close_to, rest)?;
        ad.closing_amount = rest;
    }
    Ok(())
}

pub(crate) fn check_params(
    c: &Consensus,
    txn: &Transaction,
    p: &AssetParams,
) -> Result<(), EvalError> {
    if p.decimals > c.max_asset_decimals {
        return Err(reject(
            txn,
            format!("asset decimals {} above {}", p.decimals, c.max_asset_decimals),
        ));
    }
    if p.unit_name.len() > c.max_asset_unit_name_bytes {
        return Err(reject(txn, "asset unit name too long"));
    }
    if p.asset_name.len() > c.max_asset_name_bytes {
        return Err(reject(txn, "asset name too long"));
    }
    if p.url.len() > c.max_asset_url_bytes {
        return Err(reject(txn, "asset url too long"));
    }
    Ok(())
}

pub(crate) fn asset_config(
    o: &mut Overlay<'_>,
    c: &Consensus,
    txn: &Transaction,
    asset_id: u64,
    params: Option<&AssetParams>,
    ad: &mut ApplyData,
) -> Result<(), EvalError> {
    if asset_id == 0 {
        let params = params.cloned().unwrap_or_default();
        check_params(c, txn, &params)?;
        // The new id is the transaction's place in the ledger's history.
        let id = o.changes.txn_counter;
        let mut creator = o.account(&txn.sender);
        creator.created_assets.insert(id);
        creator.holdings.insert(id, Holding { amount: params.total, frozen: false });
        o.put(txn.sender, creator);
        o.changes.assets.insert(id, Some(Asset { creator: txn.sender, params }));
        ad.config_asset = id;
        return Ok(());
    }
    let mut asset =
        o.asset(asset_id).ok_or_else(|| reject(txn, format!("asset {asset_id} does not exist")))?;
    if asset.params.manager != Some(txn.sender) {
        return Err(reject(txn, "this transaction should be issued by the manager"));
    }
    match params {
        Some(new) => {
            // go-algorand lets the manager set any of the four addresses, a cleared one
            // included (refusing that is only an SDK-side convention).
            asset.params.manager = new.manager;
            asset.params.reserve = new.reserve;
            asset.params.freeze = new.freeze;
            asset.params.clawback = new.clawback;
            o.changes.assets.insert(asset_id, Some(asset));
        }
        None => {
            let mut creator = o.account(&asset.creator);
            let held = creator.holdings.get(&asset_id).map_or(0, |h| h.amount);
            if held != asset.params.total {
                return Err(reject(
                    txn,
                    "cannot destroy asset: the creator does not hold every unit",
                ));
            }
            creator.holdings.remove(&asset_id);
            creator.created_assets.remove(&asset_id);
            o.put(asset.creator, creator);
            o.changes.assets.insert(asset_id, None);
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn asset_transfer(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    asset_id: u64,
    amount: u64,
    asset_sender: Option<Address>,
    receiver: Option<Address>,
    close_to: Option<Address>,
    ad: &mut ApplyData,
) -> Result<(), EvalError> {
    let zero = Address::from_public_key([0; 32]);
    let asset =
        o.asset(asset_id).ok_or_else(|| reject(txn, format!("asset {asset_id} does not exist")))?;
    let receiver = receiver.unwrap_or(zero);
    // Opt-in: a zero transfer to oneself creates the holding.
    if asset_sender.is_none() && receiver == txn.sender && amount == 0 && close_to.is_none() {
        let mut account = o.account(&txn.sender);
        account
            .holdings
            .entry(asset_id)
            .or_insert(Holding { amount: 0, frozen: asset.params.default_frozen });
        o.put(txn.sender, account);
        return Ok(());
    }
    let clawback = asset_sender.is_some();
    if clawback && asset.params.clawback != Some(txn.sender) {
        return Err(reject(txn, "clawback transactions must be sent by the clawback address"));
    }
    let source = asset_sender.unwrap_or(txn.sender);
    move_units(o, txn, asset_id, source, receiver, amount, clawback)?;
    if let Some(close_to) = close_to {
        if clawback {
            return Err(reject(txn, "a clawback cannot close out a holding"));
        }
        if txn.sender == asset.creator {
            return Err(reject(txn, "cannot close asset holding of the asset creator"));
        }
        let holding = o.account(&txn.sender).holdings.get(&asset_id).copied();
        let holding = holding.ok_or_else(|| reject(txn, "asset not held"))?;
        if holding.frozen && close_to != asset.creator {
            return Err(reject(txn, "frozen holdings can only be closed to the creator"));
        }
        move_units(o, txn, asset_id, txn.sender, close_to, holding.amount, true)?;
        let mut account = o.account(&txn.sender);
        account.holdings.remove(&asset_id);
        o.put(txn.sender, account);
        ad.asset_closing_amount = holding.amount;
    }
    Ok(())
}

pub(crate) fn move_units(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    asset_id: u64,
    from: Address,
    to: Address,
    amount: u64,
    ignore_freeze: bool,
) -> Result<(), EvalError> {
    let mut source = o.account(&from);
    let held = source
        .holdings
        .get_mut(&asset_id)
        .ok_or_else(|| reject(txn, format!("asset {asset_id} missing from {from}")))?;
    if held.frozen && !ignore_freeze {
        return Err(reject(txn, format!("asset {asset_id} frozen in {from}")));
    }
    held.amount = held.amount.checked_sub(amount).ok_or_else(|| {
        reject(txn, format!("underflow on subtracting {amount} from sender amount {}", held.amount))
    })?;
    o.put(from, source);
    let mut target = o.account(&to);
    let held = target
        .holdings
        .get_mut(&asset_id)
        .ok_or_else(|| reject(txn, format!("asset {asset_id} missing from {to}")))?;
    if held.frozen && !ignore_freeze {
        return Err(reject(txn, format!("asset {asset_id} frozen in {to}")));
    }
    held.amount =
        held.amount.checked_add(amount).ok_or_else(|| reject(txn, "asset amount overflows"))?;
    o.put(to, target);
    Ok(())
}

pub(crate) fn asset_freeze(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    account: Option<Address>,
    asset_id: u64,
    frozen: bool,
) -> Result<(), EvalError> {
    let asset =
        o.asset(asset_id).ok_or_else(|| reject(txn, format!("asset {asset_id} does not exist")))?;
    if asset.params.freeze != Some(txn.sender) {
        return Err(reject(txn, "freeze transactions must be sent by the freeze address"));
    }
    let target = account.unwrap_or(Address::from_public_key([0; 32]));
    let mut holder = o.account(&target);
    let holding = holder
        .holdings
        .get_mut(&asset_id)
        .ok_or_else(|| reject(txn, format!("asset {asset_id} missing from {target}")))?;
    holding.frozen = frozen;
    o.put(target, holder);
    Ok(())
}
