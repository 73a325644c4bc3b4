//! Transaction and global fields (`txn txna txnas gtxn gtxna gtxnas gtxns
//! gtxnsa gtxnsas global`) and what earlier transactions of the group left:
//! their scratch space (`gload gloads gloadss`) and created ids (`gaid
//! gaids`).

use super::{MAX_STRING_SIZE, Machine, OpResult, ZERO, pad, usize_of};
use crate::eval::host::{Txn, TxnType, Value};
use crate::fields::TXN_FIELDS;

fn page(prog: &[u8], idx: u64, name: &str) -> Result<Value, String> {
    let pages = prog.len().div_ceil(MAX_STRING_SIZE) as u64;
    if idx >= pages {
        return Err(format!("invalid {name} index {idx}"));
    }
    let first = idx as usize * MAX_STRING_SIZE;
    let last = (first + MAX_STRING_SIZE).min(prog.len());
    Ok(Value::Bytes(prog[first..last].to_vec()))
}

impl Machine<'_> {
    /// Runs a transaction, global or group opcode.
    pub(super) fn exec_txn(&mut self, op: u8) -> OpResult {
        match op {
            0x31 => {
                let v = self.txn_field_of(self.gi, self.imm(0), None, false)?;
                self.push(v);
                Ok(())
            }
            0x32 => self.op_global(),
            0x33 => {
                let v = self.txn_field_of(self.imm(0) as usize, self.imm(1), None, false)?;
                self.push(v);
                Ok(())
            }
            0x36 => {
                let v =
                    self.txn_field_of(self.gi, self.imm(0), Some(u64::from(self.imm(1))), false)?;
                self.push(v);
                Ok(())
            }
            0x37 => {
                let v = self.txn_field_of(
                    self.imm(0) as usize,
                    self.imm(1),
                    Some(u64::from(self.imm(2))),
                    false,
                )?;
                self.push(v);
                Ok(())
            }
            0x38 => {
                let g = self.pop_uint();
                let v = self.txn_field_of(usize_of(g), self.imm(0), None, true)?;
                self.push(v);
                Ok(())
            }
            0x39 => {
                let g = self.pop_uint();
                let v = self.txn_field_of(
                    usize_of(g),
                    self.imm(0),
                    Some(u64::from(self.imm(1))),
                    true,
                )?;
                self.push(v);
                Ok(())
            }
            0x3a => {
                let v = self.gload(u64::from(self.imm(0)), u64::from(self.imm(1)))?;
                self.push(v);
                Ok(())
            }
            0x3b => {
                let g = self.pop_uint();
                let v = self.gload(g, u64::from(self.imm(0)))?;
                self.push(v);
                Ok(())
            }
            0xc4 => {
                let i = self.pop_uint();
                let g = self.pop_uint();
                if i >= 256 {
                    return Err(format!("invalid Scratch index {i}"));
                }
                let v = self.gload(g, i)?;
                self.push(v);
                Ok(())
            }
            0x3c => {
                let v = self.gaid(u64::from(self.imm(0)))?;
                self.push(Value::Uint(v));
                Ok(())
            }
            0x3d => {
                let g = self.pop_uint();
                let v = self.gaid(g)?;
                self.push(Value::Uint(v));
                Ok(())
            }
            0xc0 => {
                let i = self.pop_uint();
                let v = self.txn_field_of(self.gi, self.imm(0), Some(i), false)?;
                self.push(v);
                Ok(())
            }
            0xc1 => {
                let i = self.pop_uint();
                let v = self.txn_field_of(self.imm(0) as usize, self.imm(1), Some(i), false)?;
                self.push(v);
                Ok(())
            }
            0xc2 => {
                let i = self.pop_uint();
                let g = self.pop_uint();
                let v = self.txn_field_of(usize_of(g), self.imm(0), Some(i), true)?;
                self.push(v);
                Ok(())
            }
            _ => unreachable!("opcode 0x{op:02x} is not in the txn family"),
        }
    }

    /// `txn`/`gtxn`/`gtxns` family on the top-level group.
    fn txn_field_of(
        &self,
        gi: usize,
        field: u8,
        idx: Option<u64>,
        _dynamic: bool,
    ) -> Result<Value, String> {
        let fs = TXN_FIELDS
            .get(field as usize)
            .filter(|f| u64::from(f.version) <= self.version)
            .ok_or_else(|| format!("invalid txn field {field}"))?;
        if fs.effects && gi >= self.gi {
            return Err(format!("txn effects can only be read from past txns {gi} {}", self.gi));
        }
        let len = self.cx.txns.len();
        let t =
            self.cx.txns.get(gi).ok_or_else(|| format!("txn index {gi}, len(group) is {len}"))?;
        self.field_value(t, field, idx, Some(gi))
    }

    /// The value of transaction field `field` of `t` (array element `idx`).
    pub(super) fn field_value(
        &self,
        t: &Txn,
        field: u8,
        idx: Option<u64>,
        gi: Option<usize>,
    ) -> Result<Value, String> {
        let fs = TXN_FIELDS
            .get(field as usize)
            .filter(|f| u64::from(f.version) <= self.version)
            .ok_or_else(|| format!("invalid txn field {field}"))?;
        if fs.array != idx.is_some() {
            return Err(format!("invalid txn field {}", fs.name));
        }
        let i = idx.unwrap_or(0);
        let u = Value::Uint;
        let b = |x: &[u8]| Value::Bytes(x.to_vec());
        Ok(match fs.name {
            "Sender" => b(&t.sender),
            "Fee" => u(t.fee),
            "FirstValid" => u(t.first_valid),
            "FirstValidTime" => {
                let r = t.first_valid.checked_sub(1).ok_or("round 0 is not available")?;
                u(self
                    .host
                    .block_timestamp(r)
                    .ok_or_else(|| format!("round {r} is not available"))?)
            }
            "LastValid" => u(t.last_valid),
            "Note" => b(&t.note),
            "Lease" => b(&t.lease),
            "Receiver" => b(&t.receiver),
            "Amount" => u(t.amount),
            "CloseRemainderTo" => b(&t.close_remainder_to),
            "VotePK" => b(&t.vote_pk),
            "SelectionPK" => b(&t.selection_pk),
            "StateProofPK" => Value::Bytes(pad(&t.state_proof_pk, 64)),
            "VoteFirst" => u(t.vote_first),
            "VoteLast" => u(t.vote_last),
            "VoteKeyDilution" => u(t.vote_key_dilution),
            "Nonparticipation" => u(u64::from(t.nonparticipation)),
            "Type" => b(t.ty.as_str().as_bytes()),
            "TypeEnum" => u(t.ty.enum_value()),
            "XferAsset" => u(t.xfer_asset),
            "AssetAmount" => u(t.asset_amount),
            "AssetSender" => b(&t.asset_sender),
            "AssetReceiver" => b(&t.asset_receiver),
            "AssetCloseTo" => b(&t.asset_close_to),
            "GroupIndex" => u(gi.unwrap_or(0) as u64),
            "TxID" => b(&t.txid),
            "ApplicationID" => u(t.application_id),
            "OnCompletion" => u(t.on_completion),
            "ApplicationArgs" => b(t
                .application_args
                .get(usize_of(i))
                .ok_or_else(|| format!("invalid ApplicationArgs index {i}"))?),
            "NumAppArgs" => u(t.application_args.len() as u64),
            "Accounts" => {
                if i == 0 {
                    b(&t.sender)
                } else {
                    b(t.accounts
                        .get(usize_of(i - 1))
                        .ok_or_else(|| format!("invalid Accounts index {i}"))?)
                }
            }
            "NumAccounts" => u(t.accounts.len() as u64),
            "Assets" => u(*t
                .foreign_assets
                .get(usize_of(i))
                .ok_or_else(|| format!("invalid Assets index {i}"))?),
            "NumAssets" => u(t.foreign_assets.len() as u64),
            "Applications" => {
                if i == 0 {
                    u(t.application_id)
                } else {
                    u(*t.foreign_apps
                        .get(usize_of(i - 1))
                        .ok_or_else(|| format!("invalid Applications index {i}"))?)
                }
            }
            "NumApplications" => u(t.foreign_apps.len() as u64),
            "GlobalNumUint" => u(t.global_num_uint),
            "GlobalNumByteSlice" => u(t.global_num_byte_slice),
            "LocalNumUint" => u(t.local_num_uint),
            "LocalNumByteSlice" => u(t.local_num_byte_slice),
            "ApprovalProgram" => b(&t.approval_program),
            "ClearStateProgram" => b(&t.clear_state_program),
            "ApprovalProgramPages" => page(&t.approval_program, i, "ApprovalProgramPages")?,
            "NumApprovalProgramPages" => {
                u(t.approval_program.len().div_ceil(MAX_STRING_SIZE) as u64)
            }
            "ClearStateProgramPages" => page(&t.clear_state_program, i, "ClearStateProgramPages")?,
            "NumClearStateProgramPages" => {
                u(t.clear_state_program.len().div_ceil(MAX_STRING_SIZE) as u64)
            }
            "RekeyTo" => b(&t.rekey_to),
            "ConfigAsset" => u(t.config_asset),
            "ConfigAssetTotal" => u(t.config_asset_total),
            "ConfigAssetDecimals" => u(t.config_asset_decimals),
            "ConfigAssetDefaultFrozen" => u(u64::from(t.config_asset_default_frozen)),
            "ConfigAssetUnitName" => b(&t.config_asset_unit_name),
            "ConfigAssetName" => b(&t.config_asset_name),
            "ConfigAssetURL" => b(&t.config_asset_url),
            "ConfigAssetMetadataHash" => Value::Bytes(pad(&t.config_asset_metadata_hash, 32)),
            "ConfigAssetManager" => b(&t.config_asset_manager),
            "ConfigAssetReserve" => b(&t.config_asset_reserve),
            "ConfigAssetFreeze" => b(&t.config_asset_freeze),
            "ConfigAssetClawback" => b(&t.config_asset_clawback),
            "FreezeAsset" => u(t.freeze_asset),
            "FreezeAssetAccount" => b(&t.freeze_asset_account),
            "FreezeAssetFrozen" => u(u64::from(t.freeze_asset_frozen)),
            "ExtraProgramPages" => u(t.extra_program_pages),
            "Logs" => {
                b(t.logs.get(usize_of(i)).ok_or_else(|| format!("invalid Logs index {i}"))?)
            }
            "NumLogs" => u(t.logs.len() as u64),
            "LastLog" => b(t.logs.last().map(Vec::as_slice).unwrap_or(&[])),
            "CreatedAssetID" => u(t.created_asset_id),
            "CreatedApplicationID" => u(t.created_application_id),
            other => return Err(format!("invalid txn field {other}")),
        })
    }

    fn op_global(&mut self) -> OpResult {
        let f = self.imm(0);
        let spec = crate::fields::GLOBAL_FIELDS
            .get(f as usize)
            .filter(|s| u64::from(s.version) <= self.version)
            .ok_or_else(|| format!("invalid global field {f}"))?;
        let g = &self.cx.globals;
        let v = match spec.name {
            "MinTxnFee" => Value::Uint(g.min_txn_fee),
            "MinBalance" => Value::Uint(g.min_balance),
            "MaxTxnLife" => Value::Uint(g.max_txn_life),
            "ZeroAddress" => Value::Bytes(ZERO.to_vec()),
            "GroupSize" => Value::Uint(self.cx.txns.len() as u64),
            "LogicSigVersion" => Value::Uint(g.logic_sig_version),
            "Round" => Value::Uint(g.round),
            "LatestTimestamp" => Value::Uint(g.latest_timestamp),
            "CurrentApplicationID" => Value::Uint(self.app_id),
            "CreatorAddress" => {
                let p = self.host.app_params(self.app_id).ok_or("No params for current app")?;
                Value::Bytes(p.creator.to_vec())
            }
            "CurrentApplicationAddress" => Value::Bytes(self.app_addr.to_vec()),
            "GroupID" => Value::Bytes(self.txn().group.to_vec()),
            "OpcodeBudget" => Value::Uint(self.remaining_budget().max(0) as u64),
            "CallerApplicationID" => Value::Uint(0),
            "CallerApplicationAddress" => Value::Bytes(ZERO.to_vec()),
            other => return Err(format!("invalid global field {other}")),
        };
        self.push(v);
        Ok(())
    }

    fn gload(&self, g: u64, i: u64) -> Result<Value, String> {
        let len = self.cx.txns.len() as u64;
        if g >= len {
            return Err(format!("gload lookup TxnGroup[{g}] but it only has {len}"));
        }
        if g >= self.gi as u64 {
            return Err(format!("gload can't get future scratch space from txn with index {g}"));
        }
        if self.cx.txns[g as usize].ty != TxnType::Appl {
            return Err(format!("can't use gload on non-app call txn with index {g}"));
        }
        let s = self.cx.scratch[g as usize].as_ref().ok_or("scratch not available")?;
        Ok(s[i as usize].clone())
    }

    fn gaid(&self, g: u64) -> Result<u64, String> {
        let len = self.cx.txns.len() as u64;
        if g >= len {
            return Err(format!("gaid lookup TxnGroup[{g}] but it only has {len}"));
        }
        if g >= self.gi as u64 {
            return Err(format!(
                "gaid can't get creatable ID of txn ahead of the current one (index {g}) in the transaction group"
            ));
        }
        let t = &self.cx.txns[g as usize];
        match t.ty {
            TxnType::Acfg if t.created_asset_id != 0 => Ok(t.created_asset_id),
            TxnType::Appl if t.created_application_id != 0 => Ok(t.created_application_id),
            _ => Err(format!("gaid: txn {g} did not create an asset or application")),
        }
    }
}
