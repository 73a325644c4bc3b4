//! An in-memory [`Host`] for tests and examples.
//!
//! Accounts, apps (params, global state, local state), assets, holdings and
//! boxes live in plain maps. Schema limits are enforced on puts; inner
//! payments, asset transfers, asset creations and freezes are executed
//! directly (with balance checks, no min-balance checks). Not a ledger: no
//! rollback — tests build a fresh host per case.

use std::collections::{BTreeMap, BTreeSet};

use super::host::{
    AccountInfo, Address, AppParams, AssetHolding, AssetParams, Host, Txn, TxnType, Value,
};
use super::interp::app_address;

/// The in-memory test ledger.
#[derive(Debug, Clone, Default)]
pub struct TestHost {
    /// Accounts.
    pub accounts: BTreeMap<Address, AccountInfo>,
    /// Apps.
    pub apps: BTreeMap<u64, AppParams>,
    /// Global states.
    pub globals: BTreeMap<u64, BTreeMap<Vec<u8>, Value>>,
    /// Local states (presence = opted in).
    pub locals: BTreeMap<(Address, u64), BTreeMap<Vec<u8>, Value>>,
    /// Assets.
    pub assets: BTreeMap<u64, AssetParams>,
    /// Holdings.
    pub holdings: BTreeMap<(Address, u64), AssetHolding>,
    /// Boxes.
    pub boxes: BTreeMap<(u64, Vec<u8>), Vec<u8>>,
    /// Next id for created assets.
    pub next_id: u64,
    /// Block timestamps by round (`FirstValidTime`).
    pub timestamps: BTreeMap<u64, u64>,
    /// Accounts ever touched, for debugging.
    pub touched: BTreeSet<Address>,
}

fn not_opted_in(addr: &Address, app: u64) -> String {
    let hex: String = addr.iter().map(|b| format!("{b:02x}")).collect();
    format!("cannot fetch key, {hex} has not opted in to app {app}")
}

fn schema_check(
    state: &BTreeMap<Vec<u8>, Value>,
    key: &[u8],
    value: &Value,
    num_uint: u64,
    num_bytes: u64,
) -> Result<(), String> {
    let mut ints = 0;
    let mut bytes = 0;
    for (k, v) in state {
        if k.as_slice() == key {
            continue;
        }
        if v.is_bytes() {
            bytes += 1;
        } else {
            ints += 1;
        }
    }
    if value.is_bytes() {
        bytes += 1;
    } else {
        ints += 1;
    }
    if ints > num_uint {
        return Err(format!("store integer count {ints} exceeds schema integer count {num_uint}"));
    }
    if bytes > num_bytes {
        return Err(format!("store bytes count {bytes} exceeds schema bytes count {num_bytes}"));
    }
    Ok(())
}

impl TestHost {
    /// A host with one app (`app_id`, created by `creator`, with the given
    /// global schema) and an empty global state.
    pub fn with_app(
        app_id: u64,
        creator: Address,
        global_uints: u64,
        global_bytes: u64,
    ) -> TestHost {
        let mut h = TestHost { next_id: 2000, ..TestHost::default() };
        h.apps.insert(
            app_id,
            AppParams {
                global_num_uint: global_uints,
                global_num_byte_slice: global_bytes,
                creator,
                ..AppParams::default()
            },
        );
        h.globals.insert(app_id, BTreeMap::new());
        h
    }

    /// Sets an account's balance (creating it).
    pub fn fund(&mut self, addr: Address, amount: u64) {
        let a = self.accounts.entry(addr).or_default();
        a.balance = amount;
        if a.min_balance == 0 {
            a.min_balance = 100_000;
        }
    }

    fn pay(&mut self, from: &Address, to: &Address, amount: u64) -> Result<(), String> {
        let bal = self.accounts.get(from).map_or(0, |a| a.balance);
        if bal < amount {
            return Err(format!("overspend (balance {bal} < {amount})"));
        }
        self.accounts.entry(*from).or_default().balance -= amount;
        let to_acct = self.accounts.entry(*to).or_default();
        to_acct.balance = to_acct.balance.saturating_add(amount);
        Ok(())
    }

    fn run_inner(&mut self, t: &mut Txn) -> Result<(), String> {
        self.touched.insert(t.sender);
        {
            let bal = self.accounts.get(&t.sender).map_or(0, |a| a.balance);
            if bal < t.fee {
                return Err(format!("overspend (fee {} > balance {bal})", t.fee));
            }
            self.accounts.entry(t.sender).or_default().balance -= t.fee;
        }
        match t.ty {
            TxnType::Pay => {
                self.pay(&t.sender.clone(), &t.receiver.clone(), t.amount)?;
                if t.close_remainder_to != [0; 32] {
                    let rest = self.accounts.get(&t.sender).map_or(0, |a| a.balance);
                    self.pay(&t.sender.clone(), &t.close_remainder_to.clone(), rest)?;
                }
            }
            TxnType::Acfg if t.config_asset == 0 => {
                let id = self.next_id;
                self.next_id += 1;
                self.assets.insert(
                    id,
                    AssetParams {
                        total: t.config_asset_total,
                        decimals: t.config_asset_decimals,
                        default_frozen: t.config_asset_default_frozen,
                        unit_name: t.config_asset_unit_name.clone(),
                        name: t.config_asset_name.clone(),
                        url: t.config_asset_url.clone(),
                        metadata_hash: t.config_asset_metadata_hash.clone(),
                        manager: t.config_asset_manager,
                        reserve: t.config_asset_reserve,
                        freeze: t.config_asset_freeze,
                        clawback: t.config_asset_clawback,
                        creator: t.sender,
                    },
                );
                self.holdings.insert(
                    (t.sender, id),
                    AssetHolding { amount: t.config_asset_total, frozen: false },
                );
                t.created_asset_id = id;
            }
            TxnType::Axfer => {
                let from = if t.asset_sender != [0; 32] { t.asset_sender } else { t.sender };
                let key = (from, t.xfer_asset);
                let have = self.holdings.get(&key).ok_or("sender not opted in to asset")?;
                if have.amount < t.asset_amount {
                    return Err("underflow on subtracting asset amount".into());
                }
                let to = (t.asset_receiver, t.xfer_asset);
                if !self.holdings.contains_key(&to) && to.0 != from {
                    return Err("receiver not opted in to asset".into());
                }
                if let Some(h) = self.holdings.get_mut(&key) {
                    h.amount -= t.asset_amount;
                }
                if let Some(h) = self.holdings.get_mut(&to) {
                    h.amount += t.asset_amount;
                } else {
                    self.holdings.insert(to, AssetHolding::default());
                }
            }
            TxnType::Afrz => {
                let h = self
                    .holdings
                    .get_mut(&(t.freeze_asset_account, t.freeze_asset))
                    .ok_or("account not opted in")?;
                h.frozen = t.freeze_asset_frozen;
            }
            _ => return Err("unsupported inner transaction in TestHost".into()),
        }
        Ok(())
    }
}

impl Host for TestHost {
    fn account(&self, addr: &Address) -> AccountInfo {
        self.accounts.get(addr).copied().unwrap_or_default()
    }
    fn opted_in(&self, addr: &Address, app: u64) -> bool {
        self.locals.contains_key(&(*addr, app))
    }
    fn asset_holding(&self, addr: &Address, asset: u64) -> Option<AssetHolding> {
        self.holdings.get(&(*addr, asset)).copied()
    }
    fn asset_params(&self, asset: u64) -> Option<AssetParams> {
        self.assets.get(&asset).cloned()
    }
    fn app_params(&self, app: u64) -> Option<AppParams> {
        self.apps.get(&app).cloned()
    }
    fn global_get(&self, app: u64, key: &[u8]) -> Option<Value> {
        self.globals.get(&app)?.get(key).cloned()
    }
    fn global_put(&mut self, app: u64, key: &[u8], value: Value) -> Result<(), String> {
        let p = self.apps.get(&app).ok_or("no such app")?;
        let state = self.globals.entry(app).or_default();
        schema_check(state, key, &value, p.global_num_uint, p.global_num_byte_slice)?;
        state.insert(key.to_vec(), value);
        Ok(())
    }
    fn global_del(&mut self, app: u64, key: &[u8]) -> Result<(), String> {
        if let Some(s) = self.globals.get_mut(&app) {
            s.remove(key);
        }
        Ok(())
    }
    fn local_get(&self, addr: &Address, app: u64, key: &[u8]) -> Result<Option<Value>, String> {
        let state = self.locals.get(&(*addr, app)).ok_or_else(|| not_opted_in(addr, app))?;
        Ok(state.get(key).cloned())
    }
    fn local_put(
        &mut self,
        addr: &Address,
        app: u64,
        key: &[u8],
        value: Value,
    ) -> Result<(), String> {
        let p = self.apps.get(&app).ok_or("no such app")?.clone();
        let state = self.locals.get_mut(&(*addr, app)).ok_or_else(|| not_opted_in(addr, app))?;
        schema_check(state, key, &value, p.local_num_uint, p.local_num_byte_slice)?;
        state.insert(key.to_vec(), value);
        Ok(())
    }
    fn local_del(&mut self, addr: &Address, app: u64, key: &[u8]) -> Result<(), String> {
        let state = self.locals.get_mut(&(*addr, app)).ok_or_else(|| not_opted_in(addr, app))?;
        state.remove(key);
        Ok(())
    }
    fn box_get(&self, app: u64, name: &[u8]) -> Option<Vec<u8>> {
        self.boxes.get(&(app, name.to_vec())).cloned()
    }
    fn box_put(&mut self, app: u64, name: &[u8], value: Vec<u8>) -> Result<(), String> {
        self.boxes.insert((app, name.to_vec()), value);
        Ok(())
    }
    fn box_del(&mut self, app: u64, name: &[u8]) -> Result<(), String> {
        self.boxes.remove(&(app, name.to_vec()));
        Ok(())
    }
    fn submit_inner(&mut self, app: u64, group: &mut [Txn]) -> Result<(), String> {
        let _ = app_address(app);
        for t in group.iter_mut() {
            self.run_inner(t)?;
        }
        Ok(())
    }
    fn block_timestamp(&self, round: u64) -> Option<u64> {
        self.timestamps.get(&round).copied()
    }
}
