//! Application calls: creation, opt-in, close-out, clear-state, update and delete, with
//! the approval and clear programs run by the AVM ([`bitfox_avm::eval`]) against the
//! ledger through `LedgerHost`, global and local state under their schemas, boxes (and
//! the minimum balance they lock in the app account) and inner transactions executed on
//! the same overlay, so that the whole group stays all or nothing.
//!
//! Group evaluation (`ledger::group`) calls in here for each application call; inner
//! payments and asset transactions go through the same `ledger::payment` and
//! `ledger::assets` rules as top-level ones. This module also converts between the
//! devnet's transactions and the AVM's ([`to_avm`], and back for inner transactions).
//! Also reachable as `bitfox_devnet::apps`.

use std::collections::BTreeMap;

use bitfox_avm::eval::{
    self, AccountInfo, AppParams, AssetHolding, Globals, GroupContext, Host, Txn as AvmTxn,
    TxnType, Value as TealValue, app_address, eval_app,
};
use bitfox_domain::Address;

use super::assets::{asset_config, asset_freeze, asset_transfer};
use super::payment::pay;
pub use super::state::App;
use super::state::{ApplyData, Consensus, EvalError, Overlay};
use crate::txn::{AppCall, AssetParams, OnComplete, SignedTxn, StateSchema, Transaction, TxnKind};

/// Longest approval + clear program per page (go-algorand's `MaxAppProgramLen`).
const MAX_PROGRAM_LEN: usize = 2_048;
/// Most extra program pages.
const MAX_EXTRA_PAGES: u64 = 3;
/// Most global and local state entries.
const MAX_GLOBAL_ENTRIES: u64 = 64;
const MAX_LOCAL_ENTRIES: u64 = 16;

fn raw(address: Option<Address>) -> [u8; 32] {
    address.map_or([0; 32], |a| *a.public_key())
}

fn addr(raw: &[u8; 32]) -> Option<Address> {
    (*raw != [0; 32]).then(|| Address::from_public_key(*raw))
}

/// The AVM's view of a transaction.
pub fn to_avm(txn: &Transaction) -> AvmTxn {
    let mut out = AvmTxn {
        sender: raw(Some(txn.sender)),
        fee: txn.fee,
        first_valid: txn.first_valid,
        last_valid: txn.last_valid,
        note: txn.note.clone(),
        lease: txn.lease.unwrap_or([0; 32]),
        rekey_to: raw(txn.rekey_to),
        group: txn.group.unwrap_or([0; 32]),
        txid: txn.id_bytes(),
        ..AvmTxn::default()
    };
    match &txn.kind {
        TxnKind::Payment { receiver, amount, close_to } => {
            out.ty = TxnType::Pay;
            out.receiver = raw(*receiver);
            out.amount = *amount;
            out.close_remainder_to = raw(*close_to);
        }
        TxnKind::AssetConfig { asset_id, params } => {
            out.ty = TxnType::Acfg;
            out.config_asset = *asset_id;
            if let Some(p) = params {
                out.config_asset_total = p.total;
                out.config_asset_decimals = p.decimals;
                out.config_asset_default_frozen = p.default_frozen;
                out.config_asset_unit_name = p.unit_name.clone().into_bytes();
                out.config_asset_name = p.asset_name.clone().into_bytes();
                out.config_asset_url = p.url.clone().into_bytes();
                out.config_asset_metadata_hash =
                    p.metadata_hash.map(|h| h.to_vec()).unwrap_or_default();
                out.config_asset_manager = raw(p.manager);
                out.config_asset_reserve = raw(p.reserve);
                out.config_asset_freeze = raw(p.freeze);
                out.config_asset_clawback = raw(p.clawback);
            }
        }
        TxnKind::AssetTransfer { asset_id, amount, asset_sender, receiver, close_to } => {
            out.ty = TxnType::Axfer;
            out.xfer_asset = *asset_id;
            out.asset_amount = *amount;
            out.asset_sender = raw(*asset_sender);
            out.asset_receiver = raw(*receiver);
            out.asset_close_to = raw(*close_to);
        }
        TxnKind::AssetFreeze { account, asset_id, frozen } => {
            out.ty = TxnType::Afrz;
            out.freeze_asset = *asset_id;
            out.freeze_asset_account = raw(*account);
            out.freeze_asset_frozen = *frozen;
        }
        TxnKind::AppCall(app) => {
            out.ty = TxnType::Appl;
            out.application_id = app.app_id;
            out.on_completion = app.on_complete.as_u64();
            out.application_args = app.args.clone();
            out.accounts = app.accounts.iter().map(|a| *a.public_key()).collect();
            out.foreign_assets = app.foreign_assets.clone();
            out.foreign_apps = app.foreign_apps.clone();
            out.boxes = app
                .boxes
                .iter()
                .map(|b| eval::BoxRef { index: b.app_index, name: b.name.clone() })
                .collect();
            out.approval_program = app.approval_program.clone();
            out.clear_state_program = app.clear_program.clone();
            out.global_num_uint = app.global_schema.num_uint;
            out.global_num_byte_slice = app.global_schema.num_byte_slice;
            out.local_num_uint = app.local_schema.num_uint;
            out.local_num_byte_slice = app.local_schema.num_byte_slice;
            out.extra_program_pages = app.extra_pages;
        }
    }
    out
}

/// A transaction from an inner transaction the AVM built (sender = the app's account).
pub(crate) fn from_avm(t: &AvmTxn) -> Result<Transaction, String> {
    let kind = match t.ty {
        TxnType::Pay => TxnKind::Payment {
            receiver: addr(&t.receiver),
            amount: t.amount,
            close_to: addr(&t.close_remainder_to),
        },
        TxnType::Acfg => {
            let params = AssetParams {
                total: t.config_asset_total,
                decimals: t.config_asset_decimals,
                default_frozen: t.config_asset_default_frozen,
                unit_name: String::from_utf8_lossy(&t.config_asset_unit_name).into_owned(),
                asset_name: String::from_utf8_lossy(&t.config_asset_name).into_owned(),
                url: String::from_utf8_lossy(&t.config_asset_url).into_owned(),
                metadata_hash: <[u8; 32]>::try_from(t.config_asset_metadata_hash.as_slice()).ok(),
                manager: addr(&t.config_asset_manager),
                reserve: addr(&t.config_asset_reserve),
                freeze: addr(&t.config_asset_freeze),
                clawback: addr(&t.config_asset_clawback),
            };
            let params = (params != AssetParams::default()).then_some(params);
            TxnKind::AssetConfig { asset_id: t.config_asset, params }
        }
        TxnType::Axfer => TxnKind::AssetTransfer {
            asset_id: t.xfer_asset,
            amount: t.asset_amount,
            asset_sender: addr(&t.asset_sender),
            receiver: addr(&t.asset_receiver),
            close_to: addr(&t.asset_close_to),
        },
        TxnType::Afrz => TxnKind::AssetFreeze {
            account: addr(&t.freeze_asset_account),
            asset_id: t.freeze_asset,
            frozen: t.freeze_asset_frozen,
        },
        other => {
            return Err(format!(
                "inner {} transactions are not supported on devnet",
                other.as_str()
            ));
        }
    };
    Ok(Transaction {
        sender: Address::from_public_key(t.sender),
        fee: t.fee,
        first_valid: t.first_valid,
        last_valid: t.last_valid,
        note: t.note.clone(),
        genesis_id: String::new(),
        genesis_hash: None,
        group: None,
        lease: None,
        rekey_to: addr(&t.rekey_to),
        kind,
    })
}

/// The inner transactions of an application call, each with its transaction form.
pub(crate) fn inner_transactions(inner: &[AvmTxn]) -> impl Iterator<Item = (&AvmTxn, Transaction)> {
    inner.iter().filter_map(|i| from_avm(i).ok().map(|t| (i, t)))
}

/// The AVM's context for a group about to be evaluated in `round`.
pub fn group_context(
    c: &Consensus,
    round: u64,
    latest_timestamp: u64,
    group: &[SignedTxn],
) -> GroupContext {
    let globals = Globals {
        min_txn_fee: c.min_txn_fee,
        min_balance: c.min_balance,
        max_txn_life: c.max_txn_life,
        round,
        latest_timestamp,
        ..Globals::default()
    };
    GroupContext::new(group.iter().map(|s| to_avm(&s.txn)).collect(), globals)
}

fn check_programs(
    app: &AppCall,
    approval: &[u8],
    clear: &[u8],
    extra_pages: u64,
) -> Result<(), String> {
    if extra_pages > MAX_EXTRA_PAGES {
        return Err(format!(
            "tx.ExtraProgramPages exceeds MaxExtraAppProgramPages = {MAX_EXTRA_PAGES}"
        ));
    }
    let limit = MAX_PROGRAM_LEN * (1 + extra_pages as usize);
    if approval.len() + clear.len() > limit {
        return Err(format!(
            "app programs too long: {} bytes, limit {limit}",
            approval.len() + clear.len()
        ));
    }
    if app.global_schema.num_uint + app.global_schema.num_byte_slice > MAX_GLOBAL_ENTRIES
        || app.local_schema.num_uint + app.local_schema.num_byte_slice > MAX_LOCAL_ENTRIES
    {
        return Err("state schema too large".into());
    }
    Ok(())
}

/// Applies an application call (`gi` in the group) and runs its program.
pub(crate) fn app_call(
    o: &mut Overlay<'_>,
    c: &Consensus,
    cx: &mut GroupContext,
    gi: usize,
    txn: &Transaction,
    call: &AppCall,
    ad: &mut ApplyData,
) -> Result<(), String> {
    let sender = txn.sender;
    let id = if call.app_id == 0 {
        check_programs(call, &call.approval_program, &call.clear_program, call.extra_pages)?;
        if call.approval_program.is_empty() {
            return Err("approval program empty".into());
        }
        let id = o.changes.txn_counter;
        let mut creator = o.account(&sender);
        creator.created_apps.insert(id);
        creator.total_schema_uints += call.global_schema.num_uint;
        creator.total_schema_bytes += call.global_schema.num_byte_slice;
        creator.total_extra_pages += call.extra_pages;
        o.put(sender, creator);
        o.changes.apps.insert(
            id,
            Some(App {
                creator: sender,
                approval: call.approval_program.clone(),
                clear: call.clear_program.clone(),
                global_schema: call.global_schema,
                local_schema: call.local_schema,
                extra_pages: call.extra_pages,
                global: BTreeMap::new(),
            }),
        );
        cx.note_created(Some(id), None);
        ad.application_id = id;
        id
    } else {
        call.app_id
    };
    let app = o.app(id).cloned().ok_or_else(|| format!("application {id} does not exist"))?;
    if call.on_complete == OnComplete::ClearState {
        return clear_state(o, c, cx, gi, sender, id, &app, ad);
    }
    if call.on_complete == OnComplete::OptIn {
        let mut account = o.account(&sender);
        if account.opted_in_apps.contains_key(&id) {
            return Err(format!("account {sender} has already opted in to app {id}"));
        }
        account.opted_in_apps.insert(id, BTreeMap::new());
        account.total_schema_uints += app.local_schema.num_uint;
        account.total_schema_bytes += app.local_schema.num_byte_slice;
        o.put(sender, account);
    }
    let outcome = {
        let mut host = LedgerHost { o, c };
        eval_app(&app.approval, gi, id, cx, &mut host)
            .map_err(|e| format!("logic eval error: {e}"))?
    };
    if !outcome.pass {
        return Err("transaction rejected by ApprovalProgram".into());
    }
    ad.logs = outcome.logs;
    ad.inner = outcome.inner;
    match call.on_complete {
        OnComplete::CloseOut => leave(o, sender, id, &app)?,
        OnComplete::UpdateApplication => {
            check_programs(call, &call.approval_program, &call.clear_program, app.extra_pages)?;
            let updated = o.app_mut(id).ok_or("application deleted")?;
            updated.approval = call.approval_program.clone();
            updated.clear = call.clear_program.clone();
        }
        OnComplete::DeleteApplication => {
            let mut creator = o.account(&app.creator);
            creator.created_apps.remove(&id);
            creator.total_schema_uints -= app.global_schema.num_uint;
            creator.total_schema_bytes -= app.global_schema.num_byte_slice;
            creator.total_extra_pages -= app.extra_pages;
            o.put(app.creator, creator);
            o.changes.apps.insert(id, None);
        }
        OnComplete::NoOp | OnComplete::OptIn | OnComplete::ClearState => {}
    }
    Ok(())
}

fn leave(o: &mut Overlay<'_>, sender: Address, id: u64, app: &App) -> Result<(), String> {
    let mut account = o.account(&sender);
    if account.opted_in_apps.remove(&id).is_none() {
        return Err(format!("account {sender} is not opted in to app {id}"));
    }
    account.total_schema_uints -= app.local_schema.num_uint;
    account.total_schema_bytes -= app.local_schema.num_byte_slice;
    o.put(sender, account);
    Ok(())
}

/// Clear state always removes the local state; the clear program's own changes are kept
/// only if it approves.
#[allow(clippy::too_many_arguments)]
fn clear_state(
    o: &mut Overlay<'_>,
    c: &Consensus,
    cx: &mut GroupContext,
    gi: usize,
    sender: Address,
    id: u64,
    app: &App,
    ad: &mut ApplyData,
) -> Result<(), String> {
    if !o.account(&sender).opted_in_apps.contains_key(&id) {
        return Err(format!("account {sender} is not opted in to app {id}"));
    }
    let before = o.changes.clone();
    let outcome = {
        let mut host = LedgerHost { o, c };
        eval_app(&app.clear, gi, id, cx, &mut host)
    };
    match outcome {
        Ok(outcome) if outcome.pass => {
            ad.logs = outcome.logs;
            ad.inner = outcome.inner;
        }
        _ => o.changes = before,
    }
    leave(o, sender, id, app)
}

/// The ledger as the AVM sees it.
struct LedgerHost<'o, 'a> {
    o: &'o mut Overlay<'a>,
    c: &'o Consensus,
}

fn schema_count(map: &BTreeMap<Vec<u8>, TealValue>) -> (u64, u64) {
    map.values().fold((0, 0), |(u, b), v| if v.is_bytes() { (u, b + 1) } else { (u + 1, b) })
}

fn check_schema(map: &BTreeMap<Vec<u8>, TealValue>, schema: StateSchema) -> Result<(), String> {
    let (uints, bytes) = schema_count(map);
    if uints > schema.num_uint {
        return Err(format!(
            "store integer count {uints} exceeds schema integer count {}",
            schema.num_uint
        ));
    }
    if bytes > schema.num_byte_slice {
        return Err(format!(
            "store bytes count {bytes} exceeds schema bytes count {}",
            schema.num_byte_slice
        ));
    }
    Ok(())
}

impl Host for LedgerHost<'_, '_> {
    fn account(&self, address: &[u8; 32]) -> AccountInfo {
        let account = self.o.account(&Address::from_public_key(*address));
        AccountInfo {
            balance: account.balance,
            min_balance: if account.is_empty() { 0 } else { account.min_balance(self.c) },
            auth_addr: raw(account.auth_addr),
            total_num_uint: account.total_schema_uints,
            total_num_byte_slice: account.total_schema_bytes,
            total_extra_app_pages: account.total_extra_pages,
            total_apps_created: account.created_apps.len() as u64,
            total_apps_opted_in: account.opted_in_apps.len() as u64,
            total_assets_created: account.created_assets.len() as u64,
            total_assets: account.holdings.len() as u64,
            total_boxes: account.total_boxes,
            total_box_bytes: account.total_box_bytes,
        }
    }

    fn opted_in(&self, address: &[u8; 32], app: u64) -> bool {
        self.o.account(&Address::from_public_key(*address)).opted_in_apps.contains_key(&app)
    }

    fn asset_holding(&self, address: &[u8; 32], asset: u64) -> Option<AssetHolding> {
        let account = self.o.account(&Address::from_public_key(*address));
        account.holdings.get(&asset).map(|h| AssetHolding { amount: h.amount, frozen: h.frozen })
    }

    fn asset_params(&self, asset: u64) -> Option<eval::AssetParams> {
        let asset = self.o.asset(asset)?;
        let p = asset.params;
        Some(eval::AssetParams {
            total: p.total,
            decimals: p.decimals,
            default_frozen: p.default_frozen,
            unit_name: p.unit_name.into_bytes(),
            name: p.asset_name.into_bytes(),
            url: p.url.into_bytes(),
            metadata_hash: p.metadata_hash.map(|h| h.to_vec()).unwrap_or_default(),
            manager: raw(p.manager),
            reserve: raw(p.reserve),
            freeze: raw(p.freeze),
            clawback: raw(p.clawback),
            creator: raw(Some(asset.creator)),
        })
    }

    fn app_params(&self, app: u64) -> Option<AppParams> {
        let app = self.o.app(app)?;
        Some(AppParams {
            approval_program: app.approval.clone(),
            clear_state_program: app.clear.clone(),
            global_num_uint: app.global_schema.num_uint,
            global_num_byte_slice: app.global_schema.num_byte_slice,
            local_num_uint: app.local_schema.num_uint,
            local_num_byte_slice: app.local_schema.num_byte_slice,
            extra_program_pages: app.extra_pages,
            creator: raw(Some(app.creator)),
        })
    }

    fn global_get(&self, app: u64, key: &[u8]) -> Option<TealValue> {
        self.o.app(app)?.global.get(key).cloned()
    }

    fn global_put(&mut self, app: u64, key: &[u8], value: TealValue) -> Result<(), String> {
        let state = self.o.app_mut(app).ok_or_else(|| format!("app {app} does not exist"))?;
        let previous = state.global.insert(key.to_vec(), value);
        if let Err(e) = check_schema(&state.global, state.global_schema) {
            // A refused write leaves no trace.
            match previous {
                Some(old) => state.global.insert(key.to_vec(), old),
                None => state.global.remove(key),
            };
            return Err(e);
        }
        Ok(())
    }

    fn global_del(&mut self, app: u64, key: &[u8]) -> Result<(), String> {
        let state = self.o.app_mut(app).ok_or_else(|| format!("app {app} does not exist"))?;
        state.global.remove(key);
        Ok(())
    }

    fn local_get(
        &self,
        address: &[u8; 32],
        app: u64,
        key: &[u8],
    ) -> Result<Option<TealValue>, String> {
        let account = Address::from_public_key(*address);
        let local = self.o.account(&account).opted_in_apps.get(&app).cloned();
        let local =
            local.ok_or_else(|| format!("account {account} has not opted in to app {app}"))?;
        Ok(local.get(key).cloned())
    }

    fn local_put(
        &mut self,
        address: &[u8; 32],
        app: u64,
        key: &[u8],
        value: TealValue,
    ) -> Result<(), String> {
        let account_address = Address::from_public_key(*address);
        let schema =
            self.o.app(app).ok_or_else(|| format!("app {app} does not exist"))?.local_schema;
        let mut account = self.o.account(&account_address);
        let local = account
            .opted_in_apps
            .get_mut(&app)
            .ok_or_else(|| format!("account {account_address} has not opted in to app {app}"))?;
        local.insert(key.to_vec(), value);
        check_schema(local, schema)?;
        self.o.put(account_address, account);
        Ok(())
    }

    fn local_del(&mut self, address: &[u8; 32], app: u64, key: &[u8]) -> Result<(), String> {
        let account_address = Address::from_public_key(*address);
        let mut account = self.o.account(&account_address);
        let local = account
            .opted_in_apps
            .get_mut(&app)
            .ok_or_else(|| format!("account {account_address} has not opted in to app {app}"))?;
        local.remove(key);
        self.o.put(account_address, account);
        Ok(())
    }

    fn box_get(&self, app: u64, name: &[u8]) -> Option<Vec<u8>> {
        self.o.box_value(app, name)
    }

    fn box_put(&mut self, app: u64, name: &[u8], value: Vec<u8>) -> Result<(), String> {
        let owner = Address::from_public_key(app_address(app));
        let mut account = self.o.account(&owner);
        match self.o.box_value(app, name) {
            Some(old) => {
                account.total_box_bytes =
                    account.total_box_bytes - old.len() as u64 + value.len() as u64;
            }
            None => {
                account.total_boxes += 1;
                account.total_box_bytes += (name.len() + value.len()) as u64;
            }
        }
        self.o.put(owner, account);
        self.o.changes.boxes.insert((app, name.to_vec()), Some(value));
        Ok(())
    }

    fn box_del(&mut self, app: u64, name: &[u8]) -> Result<(), String> {
        let owner = Address::from_public_key(app_address(app));
        if let Some(old) = self.o.box_value(app, name) {
            let mut account = self.o.account(&owner);
            account.total_boxes -= 1;
            account.total_box_bytes -= (name.len() + old.len()) as u64;
            self.o.put(owner, account);
        }
        self.o.changes.boxes.insert((app, name.to_vec()), None);
        Ok(())
    }

    fn submit_inner(&mut self, _app: u64, group: &mut [AvmTxn]) -> Result<(), String> {
        for inner in group.iter_mut() {
            let txn = from_avm(inner)?;
            let mut sender = self.o.account(&txn.sender);
            sender.balance = sender.balance.checked_sub(txn.fee).ok_or_else(|| {
                format!(
                    "overspend: account {} balance {} cannot pay fee {}",
                    txn.sender, sender.balance, txn.fee
                )
            })?;
            self.o.put(txn.sender, sender);
            self.o.changes.txn_counter += 1;
            if let Some(rekey_to) = txn.rekey_to {
                let mut sender = self.o.account(&txn.sender);
                sender.auth_addr = (rekey_to != txn.sender).then_some(rekey_to);
                self.o.put(txn.sender, sender);
            }
            let mut ad = ApplyData::default();
            let result = match &txn.kind {
                TxnKind::Payment { receiver, amount, close_to } => {
                    pay(self.o, &txn, *receiver, *amount, *close_to, &mut ad)
                }
                TxnKind::AssetConfig { asset_id, params } => {
                    asset_config(self.o, self.c, &txn, *asset_id, params.as_ref(), &mut ad)
                }
                TxnKind::AssetTransfer { asset_id, amount, asset_sender, receiver, close_to } => {
                    asset_transfer(
                        self.o,
                        &txn,
                        *asset_id,
                        *amount,
                        *asset_sender,
                        *receiver,
                        *close_to,
                        &mut ad,
                    )
                }
                TxnKind::AssetFreeze { account, asset_id, frozen } => {
                    asset_freeze(self.o, &txn, *account, *asset_id, *frozen)
                }
                TxnKind::AppCall(_) => Err(EvalError::NotBuilt("inner application call".into())),
            };
            result.map_err(|e| e.to_string())?;
            inner.created_asset_id = ad.config_asset;
        }
        Ok(())
    }
}
