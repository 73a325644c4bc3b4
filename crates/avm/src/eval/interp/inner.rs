//! Inner transactions (`itxn_begin itxn_next itxn_field itxn_submit`, and
//! reading the last inner group with `itxn itxna itxnas gitxn gitxna gitxnas`),
//! with go's defaults and fee pooling, and `log`.

use super::{MAX_GROUP_SIZE, MAX_LOG_CALLS, MAX_LOG_SIZE, Machine, OpResult, ZERO, addr_of, hex};
use crate::eval::host::{Address, Txn, TxnType, Value};
use crate::fields::TXN_FIELDS;

impl Machine<'_> {
    /// Runs `log` or an inner-transaction opcode.
    pub(super) fn exec_inner(&mut self, op: u8) -> OpResult {
        match op {
            0xb0 => {
                let x = self.pop_bytes();
                if self.logs.len() >= MAX_LOG_CALLS {
                    return Err(format!(
                        "too many log calls in program. up to {MAX_LOG_CALLS} is allowed"
                    ));
                }
                self.log_size += x.len();
                if self.log_size > MAX_LOG_SIZE {
                    return Err(format!(
                        "program logs too large. {} bytes >  {MAX_LOG_SIZE} bytes limit",
                        self.log_size
                    ));
                }
                self.logs.push(x);
                Ok(())
            }
            0xb1 => {
                if !self.subtxns.is_empty() {
                    return Err("itxn_begin without itxn_submit".into());
                }
                if self.txn().on_completion == 3 {
                    return Err("clear state programs can not issue inner transactions".into());
                }
                self.add_inner()
            }
            0xb6 => {
                if self.subtxns.is_empty() {
                    return Err("itxn_next without itxn_begin".into());
                }
                self.add_inner()
            }
            0xb2 => {
                let v = self.pop();
                self.itxn_field(self.imm(0), v)
            }
            0xb3 => self.itxn_submit(),
            0xb4 | 0xb5 | 0xc5 => {
                let idx = match op {
                    0xb4 => None,
                    0xb5 => Some(u64::from(self.imm(1))),
                    _ => Some(self.pop_uint()),
                };
                let t = self.inner.last().cloned().ok_or("no inner transaction available")?;
                let v = self.field_value(
                    &t,
                    self.imm(0),
                    idx,
                    Some(self.inner.len() - 1 - self.last_group_start),
                )?;
                self.push(v);
                Ok(())
            }
            0xb7 | 0xb8 | 0xc6 => {
                let t = self.imm(0) as usize;
                let idx = match op {
                    0xb7 => None,
                    0xb8 => Some(u64::from(self.imm(2))),
                    _ => Some(self.pop_uint()),
                };
                let group = &self.inner[self.last_group_start..];
                if group.is_empty() {
                    return Err("no inner transaction available".into());
                }
                let txn = group
                    .get(t)
                    .cloned()
                    .ok_or_else(|| format!("gitxn {t} ... but last group has {}", group.len()))?;
                let v = self.field_value(&txn, self.imm(1), idx, Some(t))?;
                self.push(v);
                Ok(())
            }
            _ => unreachable!("opcode 0x{op:02x} is not in the inner family"),
        }
    }

    fn remaining_inners(&self) -> i64 {
        self.cx.inner_left
    }

    fn add_inner(&mut self) -> OpResult {
        if self.subtxns.len() as i64 > self.remaining_inners()
            || self.subtxns.len() >= MAX_GROUP_SIZE
        {
            return Err(format!(
                "too many inner transactions {} with {} left",
                self.subtxns.len(),
                self.remaining_inners()
            ));
        }
        let min_fee = self.cx.globals.min_txn_fee;
        let group_fee = min_fee.saturating_mul(self.subtxns.len() as u64 + 1);
        let paid = self.subtxns.iter().fold(0u64, |a, t| a.saturating_add(t.fee));
        let mut fee = 0;
        if paid < group_fee {
            fee = (group_fee - paid).saturating_sub(self.cx.fee_credit);
        }
        let outer = self.txn();
        let t = Txn {
            sender: self.app_addr,
            fee,
            first_valid: outer.first_valid,
            last_valid: outer.last_valid,
            ..Txn::default()
        };
        self.subtxns.push(t);
        Ok(())
    }

    fn assign_account(&self, v: &Value) -> Result<Address, String> {
        let Value::Bytes(b) = v else {
            return Err("itxn_field expects an address, got uint64".into());
        };
        let a = addr_of(b)?;
        if self.available_account(&a) {
            Ok(a)
        } else {
            Err(format!("unavailable Account {}", hex(&a)))
        }
    }

    fn itxn_field(&mut self, f: u8, v: Value) -> OpResult {
        if self.subtxns.is_empty() {
            return Err("itxn_field without itxn_begin".into());
        }
        let fs = TXN_FIELDS
            .get(f as usize)
            .filter(|s| s.itxn_version != 0 && u64::from(s.itxn_version) <= self.version)
            .ok_or_else(|| format!("invalid itxn_field {f}"))?;
        let want_bytes = matches!(fs.ty, 'b' | 'A' | 'H');
        if v.is_bytes() != want_bytes {
            let want = if want_bytes { "[]byte" } else { "uint64" };
            return Err(format!("{} must be {want}", fs.name));
        }
        let uint = match &v {
            Value::Uint(u) => *u,
            Value::Bytes(_) => 0,
        };
        let bytes = match &v {
            Value::Bytes(b) => b.clone(),
            Value::Uint(_) => Vec::new(),
        };
        let boolean = |u: u64| -> Result<bool, String> {
            if u > 1 { Err(format!("boolean is neither 1 nor 0: {u}")) } else { Ok(u == 1) }
        };
        let addr = if fs.ty == 'A' { Some(self.assign_account(&v)) } else { None };
        let asset_id = if matches!(fs.name, "XferAsset" | "ConfigAsset" | "FreezeAsset") {
            Some(if self.available_asset(uint) {
                Ok(uint)
            } else {
                Err(format!("unavailable Asset {uint}"))
            })
        } else {
            None
        };
        let t = self.subtxns.last_mut().ok_or("itxn_field without itxn_begin")?;
        match fs.name {
            "Type" => {
                t.ty = TxnType::from_name(&bytes).ok_or_else(|| {
                    format!("Type is not a valid type: {}", String::from_utf8_lossy(&bytes))
                })?;
            }
            "TypeEnum" => {
                t.ty = TxnType::from_enum(uint)
                    .ok_or_else(|| format!("TypeEnum {uint} is not a valid type"))?;
            }
            "Sender" => t.sender = addr.ok_or("no address")??,
            "Fee" => t.fee = uint,
            "Note" => {
                if bytes.len() > 1024 {
                    return Err("Note may not exceed 1024 bytes".to_string());
                }
                t.note = bytes;
            }
            "RekeyTo" => t.rekey_to = addr.ok_or("no address")??,
            "Receiver" => t.receiver = addr.ok_or("no address")??,
            "Amount" => t.amount = uint,
            "CloseRemainderTo" => t.close_remainder_to = addr.ok_or("no address")??,
            "XferAsset" => t.xfer_asset = asset_id.ok_or("no asset")??,
            "AssetAmount" => t.asset_amount = uint,
            "AssetSender" => t.asset_sender = addr.ok_or("no address")??,
            "AssetReceiver" => t.asset_receiver = addr.ok_or("no address")??,
            "AssetCloseTo" => t.asset_close_to = addr.ok_or("no address")??,
            "ConfigAsset" => t.config_asset = asset_id.ok_or("no asset")??,
            "ConfigAssetTotal" => t.config_asset_total = uint,
            "ConfigAssetDecimals" => {
                if uint > 19 {
                    return Err(format!("too many decimals ({uint})"));
                }
                t.config_asset_decimals = uint;
            }
            "ConfigAssetDefaultFrozen" => t.config_asset_default_frozen = boolean(uint)?,
            "ConfigAssetUnitName" => {
                if bytes.len() > 8 {
                    return Err(format!("unit name too long ({} > 8)", bytes.len()));
                }
                t.config_asset_unit_name = bytes;
            }
            "ConfigAssetName" => {
                if bytes.len() > 32 {
                    return Err(format!("asset name too long ({} > 32)", bytes.len()));
                }
                t.config_asset_name = bytes;
            }
            "ConfigAssetURL" => {
                if bytes.len() > 96 {
                    return Err(format!("url too long ({} > 96)", bytes.len()));
                }
                t.config_asset_url = bytes;
            }
            "ConfigAssetMetadataHash" => {
                if bytes.len() != 32 {
                    return Err(format!("{} must be 32 bytes", fs.name));
                }
                t.config_asset_metadata_hash = bytes;
            }
            // Role addresses need not be available (go uses sv.address()).
            "ConfigAssetManager" => t.config_asset_manager = addr_of(&bytes)?,
            "ConfigAssetReserve" => t.config_asset_reserve = addr_of(&bytes)?,
            "ConfigAssetFreeze" => t.config_asset_freeze = addr_of(&bytes)?,
            "ConfigAssetClawback" => t.config_asset_clawback = addr_of(&bytes)?,
            "FreezeAsset" => t.freeze_asset = asset_id.ok_or("no asset")??,
            "FreezeAssetAccount" => t.freeze_asset_account = addr.ok_or("no address")??,
            "FreezeAssetFrozen" => t.freeze_asset_frozen = boolean(uint)?,
            other => {
                return Err(format!(
                    "itxn_field {other} is not supported by this evaluator (pay, axfer, acfg, afrz only)"
                ));
            }
        }
        Ok(())
    }

    fn itxn_submit(&mut self) -> OpResult {
        let n = self.subtxns.len();
        if n as i64 > self.remaining_inners() || n > MAX_GROUP_SIZE {
            return Err(format!(
                "too many inner transactions {n} with {} left",
                self.remaining_inners()
            ));
        }
        if n == 0 {
            return Err("itxn_submit without itxn_begin".into());
        }
        let min_fee = self.cx.globals.min_txn_fee;
        let group_fee = min_fee.saturating_mul(n as u64);
        let paid = self.subtxns.iter().fold(0u64, |a, t| a.saturating_add(t.fee));
        if paid < group_fee {
            let short = group_fee - paid;
            if self.cx.fee_credit < short {
                return Err("fee too small".into());
            }
            self.cx.fee_credit -= short;
        } else {
            self.cx.fee_credit = self.cx.fee_credit.saturating_add(paid - group_fee);
        }
        for t in &self.subtxns {
            let auth = self.host.account(&t.sender).auth_addr;
            let authorizer = if auth == ZERO { t.sender } else { auth };
            if authorizer != self.app_addr {
                return Err(format!(
                    "app {} (addr {}) unauthorized {}",
                    self.app_id,
                    hex(&self.app_addr),
                    hex(&authorizer)
                ));
            }
            match t.ty {
                TxnType::Pay | TxnType::Axfer | TxnType::Acfg | TxnType::Afrz => {}
                TxnType::Unknown => return Err("unknown tx type".into()),
                other => {
                    return Err(format!(
                        "inner {} transactions are not supported by this evaluator",
                        other.as_str()
                    ));
                }
            }
        }
        self.cx.inner_left -= n as i64;
        let mut group = std::mem::take(&mut self.subtxns);
        self.host.submit_inner(self.app_id, &mut group)?;
        for t in &group {
            if t.created_asset_id != 0 {
                self.cx.created_assets.insert(t.created_asset_id);
            }
            if t.created_application_id != 0 {
                self.cx.created_apps.insert(t.created_application_id);
            }
        }
        self.last_group_start = self.inner.len();
        self.inner.extend(group);
        Ok(())
    }
}
