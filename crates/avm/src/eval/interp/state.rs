//! Application, asset and account state: `balance min_balance app_opted_in
//! app_local_get(_ex) app_global_get(_ex) app_local_put app_global_put
//! app_local_del app_global_del asset_holding_get asset_params_get
//! app_params_get acct_params_get`, with go's key and value size limits and
//! the deltas recorded for the outcome.

use super::{
    Delta, MAX_KEY_LEN, MAX_KEY_VALUE_LEN, MAX_VALUE_LEN, Machine, OpResult, app_address, bool_v,
    hex, pad,
};
use crate::eval::host::Value;

impl Machine<'_> {
    /// Runs a state opcode.
    pub(super) fn exec_state(&mut self, op: u8) -> OpResult {
        match op {
            0x60 | 0x78 => {
                let a = self.pop();
                let (addr, _) = self.account_reference(&a)?;
                let info = self.host.account(&addr);
                self.push(Value::Uint(if op == 0x60 { info.balance } else { info.min_balance }));
                Ok(())
            }
            0x61 => {
                let app = self.pop_uint();
                let acct = self.pop();
                let (addr, app) = self.locals_reference(&acct, app)?;
                let v = self.host.opted_in(&addr, app);
                self.push(bool_v(v));
                Ok(())
            }
            0x62 | 0x63 => {
                let key = self.pop_bytes();
                let app = if op == 0x63 { self.pop_uint() } else { 0 };
                let acct = self.pop();
                let (addr, app) = self.locals_reference(&acct, app)?;
                let v = self.host.local_get(&addr, app, &key)?;
                self.push_got(v, op == 0x63);
                Ok(())
            }
            0x64 | 0x65 => {
                let key = self.pop_bytes();
                let app = if op == 0x65 { self.pop_uint() } else { 0 };
                let app = self.app_reference(app, true)?;
                let v = self.host.global_get(app, &key);
                self.push_got(v, op == 0x65);
                Ok(())
            }
            0x66 => self.op_local_put(),
            0x67 => self.op_global_put(),
            0x68 => self.op_local_del(),
            0x69 => {
                let key = self.pop_bytes();
                if self.host.global_get(self.app_id, &key).is_some() {
                    self.global_delta.insert(key.clone(), Delta::Delete);
                }
                self.host.global_del(self.app_id, &key)
            }
            0x70 => self.op_asset_holding_get(),
            0x71 => self.op_asset_params_get(),
            0x72 => self.op_app_params_get(),
            0x73 => self.op_acct_params_get(),
            _ => unreachable!("opcode 0x{op:02x} is not in the state family"),
        }
    }

    fn push_got(&mut self, v: Option<Value>, ex: bool) {
        let found = v.is_some();
        self.push(v.unwrap_or(Value::Uint(0)));
        if ex {
            self.push(bool_v(found));
        }
    }

    fn check_value(key: &[u8], v: &Value) -> OpResult {
        if let Value::Bytes(b) = v {
            if b.len() > MAX_VALUE_LEN {
                return Err(format!(
                    "value too long for key 0x{}: length was {}",
                    hex(key),
                    b.len()
                ));
            }
            if key.len() + b.len() > MAX_KEY_VALUE_LEN {
                return Err(format!(
                    "key/value total too long for key 0x{}: sum was {}",
                    hex(key),
                    key.len() + b.len()
                ));
            }
        }
        Ok(())
    }

    fn op_global_put(&mut self) -> OpResult {
        let v = self.pop();
        let key = self.pop_bytes();
        if key.len() > MAX_KEY_LEN {
            return Err(format!(
                "key too long: length was {}, maximum is {MAX_KEY_LEN}",
                key.len()
            ));
        }
        if self.host.global_get(self.app_id, &key).as_ref() != Some(&v) {
            self.global_delta.insert(key.clone(), Delta::Set(v.clone()));
        }
        Self::check_value(&key, &v)?;
        self.host.global_put(self.app_id, &key, v)
    }

    fn op_local_put(&mut self) -> OpResult {
        let v = self.pop();
        let key = self.pop_bytes();
        let acct = self.pop();
        if key.len() > MAX_KEY_LEN {
            return Err(format!(
                "key too long: length was {}, maximum is {MAX_KEY_LEN}",
                key.len()
            ));
        }
        let addr = self.mutable_account(&acct)?;
        if self.version >= 9 && !self.allows_locals(&addr, self.app_id) {
            return Err(format!("unavailable Local State {} x {}", hex(&addr), self.app_id));
        }
        if self.host.local_get(&addr, self.app_id, &key)?.as_ref() != Some(&v) {
            self.local_deltas.entry(addr).or_default().insert(key.clone(), Delta::Set(v.clone()));
        }
        Self::check_value(&key, &v)?;
        self.host.local_put(&addr, self.app_id, &key, v)
    }

    fn op_local_del(&mut self) -> OpResult {
        let key = self.pop_bytes();
        let acct = self.pop();
        let addr = self.mutable_account(&acct)?;
        if self.version >= 9 && !self.allows_locals(&addr, self.app_id) {
            return Err(format!("unavailable Local State {} x {}", hex(&addr), self.app_id));
        }
        if let Ok(Some(_)) = self.host.local_get(&addr, self.app_id, &key) {
            self.local_deltas.entry(addr).or_default().insert(key.clone(), Delta::Delete);
        }
        self.host.local_del(&addr, self.app_id, &key)
    }

    fn op_asset_holding_get(&mut self) -> OpResult {
        let f = self.imm(0);
        let asset = self.pop_uint();
        let acct = self.pop();
        if f > 1 {
            return Err(format!("invalid asset_holding_get field {f}"));
        }
        let (addr, asset) = self.holding_reference(&acct, asset)?;
        let h = self.host.asset_holding(&addr, asset);
        let v = h.map(|h| Value::Uint(if f == 0 { h.amount } else { u64::from(h.frozen) }));
        self.push_got(v, true);
        Ok(())
    }

    fn op_asset_params_get(&mut self) -> OpResult {
        let f = self.imm(0);
        let r = self.pop_uint();
        let spec = crate::fields::ASSET_PARAMS_FIELDS
            .get(f as usize)
            .filter(|s| u64::from(s.version) <= self.version)
            .ok_or_else(|| format!("invalid asset_params_get field {f}"))?;
        let asset = self.asset_reference(r, true)?;
        let v = self.host.asset_params(asset).map(|p| match spec.name {
            "AssetTotal" => Value::Uint(p.total),
            "AssetDecimals" => Value::Uint(p.decimals),
            "AssetDefaultFrozen" => bool_v(p.default_frozen),
            "AssetUnitName" => Value::Bytes(p.unit_name),
            "AssetName" => Value::Bytes(p.name),
            "AssetURL" => Value::Bytes(p.url),
            "AssetMetadataHash" => Value::Bytes(pad(&p.metadata_hash, 32)),
            "AssetManager" => Value::Bytes(p.manager.to_vec()),
            "AssetReserve" => Value::Bytes(p.reserve.to_vec()),
            "AssetFreeze" => Value::Bytes(p.freeze.to_vec()),
            "AssetClawback" => Value::Bytes(p.clawback.to_vec()),
            _ => Value::Bytes(p.creator.to_vec()),
        });
        self.push_got(v, true);
        Ok(())
    }

    fn op_app_params_get(&mut self) -> OpResult {
        let f = self.imm(0);
        let r = self.pop_uint();
        let spec = crate::fields::APP_PARAMS_FIELDS
            .get(f as usize)
            .filter(|s| u64::from(s.version) <= self.version)
            .ok_or_else(|| format!("invalid app_params_get field {f}"))?;
        let app = self.app_reference(r, true)?;
        let v = self.host.app_params(app).map(|p| match spec.name {
            "AppApprovalProgram" => Value::Bytes(p.approval_program),
            "AppClearStateProgram" => Value::Bytes(p.clear_state_program),
            "AppGlobalNumUint" => Value::Uint(p.global_num_uint),
            "AppGlobalNumByteSlice" => Value::Uint(p.global_num_byte_slice),
            "AppLocalNumUint" => Value::Uint(p.local_num_uint),
            "AppLocalNumByteSlice" => Value::Uint(p.local_num_byte_slice),
            "AppExtraProgramPages" => Value::Uint(p.extra_program_pages),
            "AppCreator" => Value::Bytes(p.creator.to_vec()),
            _ => Value::Bytes(app_address(app).to_vec()),
        });
        self.push_got(v, true);
        Ok(())
    }

    fn op_acct_params_get(&mut self) -> OpResult {
        let f = self.imm(0);
        let acct = self.pop();
        let spec = crate::fields::ACCT_PARAMS_FIELDS
            .get(f as usize)
            .filter(|s| u64::from(s.version) <= self.version)
            .ok_or_else(|| format!("invalid acct_params_get field {f}"))?;
        let (addr, _) = self.account_reference(&acct)?;
        let a = self.host.account(&addr);
        let v = match spec.name {
            "AcctBalance" => Value::Uint(a.balance),
            "AcctMinBalance" => Value::Uint(a.min_balance),
            "AcctAuthAddr" => Value::Bytes(a.auth_addr.to_vec()),
            "AcctTotalNumUint" => Value::Uint(a.total_num_uint),
            "AcctTotalNumByteSlice" => Value::Uint(a.total_num_byte_slice),
            "AcctTotalExtraAppPages" => Value::Uint(a.total_extra_app_pages),
            "AcctTotalAppsCreated" => Value::Uint(a.total_apps_created),
            "AcctTotalAppsOptedIn" => Value::Uint(a.total_apps_opted_in),
            "AcctTotalAssetsCreated" => Value::Uint(a.total_assets_created),
            "AcctTotalAssets" => Value::Uint(a.total_assets),
            "AcctTotalBoxes" => Value::Uint(a.total_boxes),
            _ => Value::Uint(a.total_box_bytes),
        };
        self.push(v);
        self.push(bool_v(a.balance > 0));
        Ok(())
    }
}
