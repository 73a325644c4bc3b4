//! Resource availability (go-algorand's shared resources): which accounts,
//! apps, assets, holdings and local states a program may use, and how its
//! references (addresses, slots in the foreign arrays, ids) resolve.

use super::{Machine, addr_of, app_address, hex, usize_of};
use crate::eval::host::{Address, Value};

impl Machine<'_> {
    pub(super) fn available_account(&self, addr: &Address) -> bool {
        let t = self.txn();
        if *addr == t.sender || t.accounts.contains(addr) {
            return true;
        }
        if self.version >= 6 && self.cx.created_apps.iter().any(|a| app_address(*a) == *addr) {
            return true;
        }
        if self.version >= 9 && self.cx.shared_accounts.contains(addr) {
            return true;
        }
        if self.version >= 7 && t.foreign_apps.iter().any(|a| app_address(*a) == *addr) {
            return true;
        }
        *addr == self.app_addr
    }

    fn available_app(&self, app: u64) -> bool {
        self.txn().foreign_apps.contains(&app)
            || (self.version >= 6 && self.cx.created_apps.contains(&app))
            || app == self.app_id
            || (self.version >= 9 && self.cx.shared_apps.contains(&app))
    }

    pub(super) fn available_asset(&self, asset: u64) -> bool {
        self.txn().foreign_assets.contains(&asset)
            || (self.version >= 6 && self.cx.created_assets.contains(&asset))
            || (self.version >= 9 && self.cx.shared_assets.contains(&asset))
    }

    /// Resolves an account argument (address, or index into Accounts);
    /// returns the address and its slot (-1 when not in the foreign array).
    fn resolve_account(&self, v: &Value) -> Result<(Address, i64), String> {
        let t = self.txn();
        match v {
            Value::Uint(i) => {
                if *i == 0 {
                    Ok((t.sender, 0))
                } else {
                    let a = t
                        .accounts
                        .get(usize_of(*i - 1))
                        .ok_or_else(|| format!("invalid Account reference {i}"))?;
                    Ok((*a, *i as i64))
                }
            }
            Value::Bytes(b) => {
                let a = addr_of(b)?;
                if a == t.sender {
                    return Ok((a, 0));
                }
                match t.accounts.iter().position(|x| *x == a) {
                    Some(p) => Ok((a, p as i64 + 1)),
                    None => Ok((a, -1)),
                }
            }
        }
    }

    pub(super) fn account_reference(&self, v: &Value) -> Result<(Address, i64), String> {
        let (addr, idx) = self.resolve_account(v)?;
        if idx >= 0 {
            return Ok((addr, idx));
        }
        if !self.available_account(&addr) {
            return Err(format!("invalid Account reference {}", hex(&addr)));
        }
        Ok((addr, self.txn().accounts.len() as i64 + 1))
    }

    fn resolve_app(&self, r: u64) -> Result<u64, String> {
        let aid = if r == 0 || r == self.app_id {
            self.app_id
        } else if self.available_app(r) {
            r
        } else if r <= self.txn().foreign_apps.len() as u64 {
            self.txn().foreign_apps[r as usize - 1]
        } else {
            return Err(format!("unavailable App {r}"));
        };
        if aid <= 255 {
            return Err(format!("low App lookup {aid}"));
        }
        Ok(aid)
    }

    pub(super) fn app_reference(&self, r: u64, foreign: bool) -> Result<u64, String> {
        if self.version >= 4 {
            return self.resolve_app(r);
        }
        let aid = if r == 0 {
            self.app_id
        } else if foreign {
            *self
                .txn()
                .foreign_apps
                .get(usize_of(r - 1))
                .ok_or_else(|| format!("App index {r} beyond txn.ForeignApps"))?
        } else {
            r
        };
        if aid <= 255 {
            return Err(format!("low App lookup {aid}"));
        }
        Ok(aid)
    }

    fn resolve_asset(&self, r: u64) -> Result<u64, String> {
        let aid = if self.available_asset(r) {
            r
        } else if r < self.txn().foreign_assets.len() as u64 {
            self.txn().foreign_assets[r as usize]
        } else {
            return Err(format!("unavailable Asset {r}"));
        };
        if aid <= 255 {
            return Err(format!("low Asset lookup {aid}"));
        }
        Ok(aid)
    }

    pub(super) fn asset_reference(&self, r: u64, foreign: bool) -> Result<u64, String> {
        if self.version >= 4 {
            return self.resolve_asset(r);
        }
        let aid = if foreign {
            *self
                .txn()
                .foreign_assets
                .get(usize_of(r))
                .ok_or_else(|| format!("Asset index {r} beyond txn.ForeignAssets"))?
        } else {
            r
        };
        if aid <= 255 {
            return Err(format!("low Asset lookup {aid}"));
        }
        Ok(aid)
    }

    pub(super) fn allows_locals(&self, addr: &Address, app: u64) -> bool {
        if self.cx.shared_locals.contains(&(*addr, app)) {
            return true;
        }
        if self.cx.created_apps.contains(&app) {
            return self.available_account(addr);
        }
        if self.txn().application_id == 0 && self.app_id == app {
            return self.available_account(addr);
        }
        if self.cx.created_apps.iter().any(|a| app_address(*a) == *addr) {
            return self.available_app(app);
        }
        false
    }

    fn allows_holding(&self, addr: &Address, asset: u64) -> bool {
        if self.cx.shared_holdings.contains(&(*addr, asset)) {
            return true;
        }
        if self.cx.created_assets.contains(&asset) {
            return self.available_account(addr);
        }
        if self.cx.created_apps.iter().any(|a| app_address(*a) == *addr) {
            return self.available_asset(asset);
        }
        false
    }

    pub(super) fn locals_reference(&self, acct: &Value, r: u64) -> Result<(Address, u64), String> {
        if self.version >= 9 {
            let (addr, _) = self.resolve_account(acct)?;
            let app = self.resolve_app(r);
            let allowed = app.as_ref().is_ok_and(|a| self.allows_locals(&addr, *a));
            return self.pair_reference(addr, app, allowed, "Local State");
        }
        let (addr, _) = self.account_reference(acct)?;
        let app = self.app_reference(r, false)?;
        Ok((addr, app))
    }

    pub(super) fn holding_reference(&self, acct: &Value, r: u64) -> Result<(Address, u64), String> {
        if self.version >= 9 {
            let (addr, _) = self.resolve_account(acct)?;
            let asset = self.resolve_asset(r);
            let allowed = asset.as_ref().is_ok_and(|a| self.allows_holding(&addr, *a));
            return self.pair_reference(addr, asset, allowed, "Holding");
        }
        let (addr, _) = self.account_reference(acct)?;
        let asset = self.asset_reference(r, false)?;
        Ok((addr, asset))
    }

    /// The v9 answer for an (account, app or asset) pair: the pair if it is available,
    /// otherwise go-algorand's error for what is missing (`kind` names the pair).
    fn pair_reference(
        &self,
        addr: Address,
        id: Result<u64, String>,
        allowed: bool,
        kind: &str,
    ) -> Result<(Address, u64), String> {
        if let (Ok(id), true) = (&id, allowed) {
            return Ok((addr, *id));
        }
        let ok = self.available_account(&addr);
        Err(match (id, ok) {
            (Err(e), true) => e,
            (Ok(id), true) => format!("unavailable {kind} {} x {id}", hex(&addr)),
            (Err(e), false) => format!("unavailable Account {}, {e}", hex(&addr)),
            (Ok(_), false) => format!("unavailable Account {}", hex(&addr)),
        })
    }

    pub(super) fn mutable_account(&self, acct: &Value) -> Result<Address, String> {
        let (addr, idx) = self.account_reference(acct)?;
        if idx > self.txn().accounts.len() as i64 && self.version < 9 {
            return Err(format!("invalid Account reference for mutation {}", hex(&addr)));
        }
        Ok(addr)
    }
}
