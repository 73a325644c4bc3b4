//! The interpreter proper: decoding, the step loop, costs and every opcode.

use std::collections::{BTreeMap, HashMap, HashSet};

use sha2::{Digest, Sha256, Sha512_256};

use super::bigint::Big;
use super::host::{Address, Globals, Host, Txn, TxnType, Value};
use crate::fields::TXN_FIELDS;
use crate::opcodes::{Cost, ImmKind, Mode, OpSpec, by_opcode};

/// Highest program version this evaluator runs.
pub const MAX_EVAL_VERSION: u64 = 9;
/// Maximum stack height.
pub const MAX_STACK_DEPTH: usize = 1000;
/// Maximum byte-string length.
pub const MAX_STRING_SIZE: usize = 4096;
/// Maximum operand size of byte math.
pub const MAX_BYTE_MATH_SIZE: usize = 64;
/// Per-app-call opcode budget (`MaxAppProgramCost`).
pub const APP_BUDGET: i64 = 700;
/// Maximum number of `log` calls per program.
pub const MAX_LOG_CALLS: usize = 32;
/// Maximum total bytes logged per program.
pub const MAX_LOG_SIZE: usize = 1024;
/// Maximum size of a box.
pub const MAX_BOX_SIZE: u64 = 32768;
/// Maximum length of a state key or box name.
pub const MAX_KEY_LEN: usize = 64;
/// Maximum length of a state byte value.
pub const MAX_VALUE_LEN: usize = 128;
/// Maximum key + value length.
pub const MAX_KEY_VALUE_LEN: usize = 128;
/// I/O budget per box reference.
pub const BYTES_PER_BOX_REF: u64 = 1024;
/// Maximum group size (also the maximum inner group size).
pub const MAX_GROUP_SIZE: usize = 16;
/// Inner transactions allowed per top-level group (16 × 256).
pub const MAX_INNER_PER_GROUP: i64 = 16 * 256;

const ZERO: Address = [0u8; 32];

/// An evaluation failure: the program is rejected with this error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pc={pc} {opcode}: {message}")]
pub struct EvalError {
    /// Program counter of the failing instruction (0 before the first one).
    pub pc: usize,
    /// Mnemonic of the failing opcode (empty when no instruction was involved).
    pub opcode: String,
    /// go-algorand-style message.
    pub message: String,
}

impl EvalError {
    fn bare(message: impl Into<String>) -> EvalError {
        EvalError { pc: 0, opcode: String::new(), message: message.into() }
    }
}

/// A change to one state key, as recorded in go-algorand's EvalDelta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    /// The key was set to this value.
    Set(Value),
    /// The key was deleted.
    Delete,
}

/// The result of a program that ran to completion without error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// True when the program approved (single non-zero uint on the stack).
    pub pass: bool,
    /// Opcode cost this program used.
    pub cost: u64,
    /// Logs, in order.
    pub logs: Vec<Vec<u8>>,
    /// Global state delta of the called app (keys whose value changed).
    pub global_delta: BTreeMap<Vec<u8>, Delta>,
    /// Local state deltas of the called app, per account.
    pub local_deltas: BTreeMap<Address, BTreeMap<Vec<u8>, Delta>>,
    /// Inner transactions executed, in order, with their effects.
    pub inner: Vec<Txn>,
    /// Final scratch space (for `gload` of later transactions).
    pub scratch: Vec<Value>,
}

/// State shared by every program evaluated in one top-level group: the
/// transactions, block globals, the pooled opcode budget, the fee credit for
/// inner transactions, resource availability and box I/O budget.
///
/// Create one per top-level group with [`GroupContext::new`] and pass it to
/// [`eval_app`] for each application call of the group, in order.
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
    scratch: Vec<Option<Vec<Value>>>,
    boxes: HashMap<(u64, Vec<u8>), bool>,
    dirty_bytes: u64,
    io_budget: u64,
    read_budget_checked: bool,
    shared_accounts: HashSet<Address>,
    shared_apps: HashSet<u64>,
    shared_assets: HashSet<u64>,
    shared_holdings: HashSet<(Address, u64)>,
    shared_locals: HashSet<(Address, u64)>,
    created_apps: HashSet<u64>,
    created_assets: HashSet<u64>,
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

#[derive(Debug, Clone, Copy)]
struct Frame {
    retpc: usize,
    height: usize,
    clear: bool,
    args: usize,
    returns: usize,
}

type OpResult = Result<(), String>;

struct Machine<'a> {
    program: &'a [u8],
    version: u64,
    pc: usize,
    next_pc: Option<usize>,
    stack: Vec<Value>,
    scratch: Vec<Value>,
    intc: Vec<u64>,
    bytec: Vec<Vec<u8>>,
    callstack: Vec<Frame>,
    from_callsub: bool,
    gi: usize,
    app_id: u64,
    app_addr: Address,
    cx: &'a mut GroupContext,
    host: &'a mut dyn Host,
    cost: i64,
    logs: Vec<Vec<u8>>,
    log_size: usize,
    global_delta: BTreeMap<Vec<u8>, Delta>,
    local_deltas: BTreeMap<Address, BTreeMap<Vec<u8>, Delta>>,
    subtxns: Vec<Txn>,
    inner: Vec<Txn>,
    last_group_start: usize,
}

/// Decodes a go-style varuint at `pos`: (value, bytes used).
pub(crate) fn uvarint(p: &[u8], pos: usize) -> Option<(u64, usize)> {
    let mut x = 0u64;
    let mut s = 0u32;
    for i in 0..10 {
        let b = *p.get(pos + i)?;
        if b < 0x80 {
            if i == 9 && b > 1 {
                return None;
            }
            return Some((x | (u64::from(b) << s), i + 1));
        }
        x |= u64::from(b & 0x7f) << s;
        s += 7;
    }
    None
}

fn parse_ints(p: &[u8], pos: usize) -> Result<(Vec<u64>, usize), String> {
    let (n, used) = uvarint(p, pos).ok_or("could not decode int const block size")?;
    let mut pos = pos + used;
    if n > p.len() as u64 {
        return Err("int const block size too large".into());
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (v, used) = uvarint(p, pos).ok_or("could not decode int const")?;
        out.push(v);
        pos += used;
    }
    Ok((out, pos))
}

fn parse_bytes(p: &[u8], pos: usize) -> Result<(Vec<Vec<u8>>, usize), String> {
    let (n, used) = uvarint(p, pos).ok_or("could not decode []byte const block size")?;
    let mut pos = pos + used;
    if n > p.len() as u64 {
        return Err("[]byte const block size too large".into());
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (len, used) = uvarint(p, pos).ok_or("could not decode []byte const len")?;
        pos += used;
        let end = (pos as u64).checked_add(len).filter(|e| *e <= p.len() as u64);
        let end = end.ok_or("[]byte const extends beyond program")? as usize;
        out.push(p[pos..end].to_vec());
        pos = end;
    }
    Ok((out, pos))
}

/// Size of the instruction at `pc` (opcode byte included).
fn instr_size(p: &[u8], pc: usize, spec: &OpSpec) -> Result<usize, String> {
    let mut pos = pc + 1;
    for imm in spec.immediates {
        match imm.kind {
            ImmKind::Uint8 | ImmKind::Int8 => pos += 1,
            ImmKind::Label => pos += 2,
            ImmKind::Varuint => {
                let (_, used) = uvarint(p, pos).ok_or("could not decode int")?;
                pos += used;
            }
            ImmKind::Bytes => {
                let (len, used) = uvarint(p, pos).ok_or("could not decode length")?;
                let end = (pos + used) as u64 + len;
                if end > p.len() as u64 {
                    return Err(format!("{} too long", spec.name));
                }
                pos = end as usize;
            }
            ImmKind::Varuints => pos = parse_ints(p, pos)?.1,
            ImmKind::Bytess => pos = parse_bytes(p, pos)?.1,
            ImmKind::Labels => {
                let n = *p.get(pos).ok_or("program ends short of immediate values")?;
                pos += 1 + 2 * n as usize;
            }
        }
    }
    if pos > p.len() {
        return Err(format!("{} program ends short of immediate values", spec.name));
    }
    Ok(pos - pc)
}

fn mode_ok(spec: &OpSpec) -> bool {
    spec.mode != Mode::Sig
}

/// Opcodes that exist in go-algorand v9 but that this evaluator refuses.
const UNSUPPORTED: &[&str] =
    &["ecdsa_verify", "ecdsa_pk_decompress", "ecdsa_pk_recover", "vrf_verify", "block", "json_ref"];

/// Static checks go-algorand runs before evaluation (`check`): every opcode
/// legal for the version and mode, immediates inside the program, branch
/// targets inside the program and on instruction boundaries, and for v1-v3
/// the static cost limit.
fn check(program: &[u8], version: u64, budget: i64) -> Result<(), EvalError> {
    let mut starts = vec![false; program.len() + 1];
    let mut targets: Vec<(usize, usize)> = Vec::new();
    let (_, vlen) = uvarint(program, 0).ok_or_else(|| EvalError::bare("invalid version"))?;
    let mut pc = vlen;
    let mut static_cost = 0i64;
    while pc < program.len() {
        starts[pc] = true;
        let op = program[pc];
        let err = |msg: String| EvalError { pc, opcode: String::new(), message: msg };
        let spec = by_opcode(op, version as u8)
            .filter(|s| s.version as u64 <= version)
            .ok_or_else(|| err(format!("illegal opcode 0x{op:02x}")))?;
        let named = |msg: String| EvalError { pc, opcode: spec.name.to_string(), message: msg };
        if !mode_ok(spec) {
            return Err(named(format!("{} not allowed in current mode", spec.name)));
        }
        let size = instr_size(program, pc, spec).map_err(named)?;
        static_cost += match spec.cost {
            Cost::Fixed(c) => i64::from(c),
            Cost::ByLength { base, .. } => i64::from(base),
            Cost::ByField(costs) => i64::from(*costs.get(program[pc + 1] as usize).unwrap_or(&1)),
        };
        if version < 4 && static_cost > budget {
            return Err(named(format!("static cost budget of {budget} exceeded")));
        }
        let end = pc + size;
        for imm in spec.immediates {
            match imm.kind {
                ImmKind::Label => {
                    let off = i16::from_be_bytes([program[pc + 1], program[pc + 2]]) as i64;
                    if off < 0 && version < 4 {
                        return Err(named(format!("negative branch offset {off:x}")));
                    }
                    let t = end as i64 + off;
                    if t < 0 || t > program.len() as i64 {
                        return Err(named(format!("branch target {t} outside of program")));
                    }
                    targets.push((pc, t as usize));
                }
                ImmKind::Labels => {
                    let n = program[pc + 1] as usize;
                    for i in 0..n {
                        let at = pc + 2 + 2 * i;
                        let off = i16::from_be_bytes([program[at], program[at + 1]]) as i64;
                        let t = end as i64 + off;
                        if t < 0 || t > program.len() as i64 {
                            return Err(named(format!("branch target {t} outside of program")));
                        }
                        targets.push((pc, t as usize));
                    }
                }
                _ => {}
            }
        }
        pc = end;
    }
    starts[program.len()] = true;
    for (from, t) in targets {
        if !starts[t] {
            return Err(EvalError {
                pc: from,
                opcode: String::new(),
                message: format!("branch target {t} is not an aligned instruction"),
            });
        }
    }
    Ok(())
}

/// Evaluates the approval or clear-state program of the application call at
/// index `gi` of `cx.txns`, for application `app_id` (the created id when
/// `txns[gi].application_id` is 0).
///
/// `Ok(outcome)` means the program ran to completion: `outcome.pass` tells
/// whether it approved. `Err` means it failed (go-algorand rejects the
/// transaction). In both non-passing cases the host must discard the group's
/// state changes. On success the evaluator stores the logs and inner
/// transactions into `cx.txns[gi]` (for later `gtxn ... Logs`).
pub fn eval_app(
    program: &[u8],
    gi: usize,
    app_id: u64,
    cx: &mut GroupContext,
    host: &mut dyn Host,
) -> Result<Outcome, EvalError> {
    if gi >= cx.txns.len() {
        return Err(EvalError::bare(format!("group index {gi} beyond group")));
    }
    if app_id == 0 {
        return Err(EvalError::bare("0 appId in contract eval"));
    }
    let is_clear = cx.txns[gi].on_completion == 3;
    if is_clear && cx.pooled_budget < APP_BUDGET {
        return Err(EvalError::bare(format!(
            "Attempted ClearState execution with low OpcodeBudget {}",
            cx.pooled_budget
        )));
    }
    if cx.txns[gi].application_id == 0 {
        let names: Vec<Vec<u8>> =
            cx.txns[gi].boxes.iter().filter(|b| b.index == 0).map(|b| b.name.clone()).collect();
        for n in names {
            cx.boxes.insert((app_id, n), false);
        }
        cx.created_apps.insert(app_id);
    }
    if !cx.read_budget_checked {
        let refs: usize = cx.txns.iter().map(|t| t.boxes.len()).sum();
        cx.io_budget = refs as u64 * BYTES_PER_BOX_REF;
        let mut used = 0u64;
        let keys: Vec<(u64, Vec<u8>)> = cx.boxes.keys().cloned().collect();
        for (app, name) in keys {
            if name.is_empty() {
                continue;
            }
            if let Some(b) = host.box_get(app, &name) {
                cx.boxes.insert((app, name), false);
                used = used.saturating_add(b.len() as u64);
                if used > cx.io_budget {
                    return Err(EvalError::bare(format!(
                        "box read budget ({}) exceeded",
                        cx.io_budget
                    )));
                }
            }
        }
        cx.read_budget_checked = true;
    }

    let (version, vlen) = uvarint(program, 0).ok_or_else(|| EvalError::bare("invalid version"))?;
    if version > MAX_EVAL_VERSION {
        return Err(EvalError::bare(format!(
            "program version {version} greater than max supported version {MAX_EVAL_VERSION}"
        )));
    }
    if version == 0 {
        return Err(EvalError::bare("program version 0 is not supported"));
    }
    check(program, version, APP_BUDGET)?;

    let mut m = Machine {
        program,
        version,
        pc: vlen,
        next_pc: None,
        stack: Vec::with_capacity(16),
        scratch: vec![Value::Uint(0); 256],
        intc: Vec::new(),
        bytec: Vec::new(),
        callstack: Vec::new(),
        from_callsub: false,
        gi,
        app_id,
        app_addr: app_address(app_id),
        cx,
        host,
        cost: 0,
        logs: Vec::new(),
        log_size: 0,
        global_delta: BTreeMap::new(),
        local_deltas: BTreeMap::new(),
        subtxns: Vec::new(),
        inner: Vec::new(),
        last_group_start: 0,
    };
    while m.pc < m.program.len() {
        m.step()?;
    }
    let pass = match m.stack.as_slice() {
        [Value::Uint(v)] => *v != 0,
        [Value::Bytes(_)] => {
            return Err(EvalError {
                pc: m.pc,
                opcode: String::new(),
                message: "stack finished with bytes not int".into(),
            });
        }
        s => {
            return Err(EvalError {
                pc: m.pc,
                opcode: String::new(),
                message: format!("stack len is {} instead of 1", s.len()),
            });
        }
    };
    let Machine { cost, logs, global_delta, local_deltas, inner, scratch, .. } = m;
    cx.scratch[gi] = Some(scratch.clone());
    cx.txns[gi].logs = logs.clone();
    cx.txns[gi].inner = inner.clone();
    Ok(Outcome { pass, cost: cost as u64, logs, global_delta, local_deltas, inner, scratch })
}

fn arg_is_bytes(letter: char) -> Option<bool> {
    match letter {
        'a' | 'x' => None,
        'i' | 'T' => Some(false),
        _ => Some(true),
    }
}

fn bool_v(b: bool) -> Value {
    Value::Uint(u64::from(b))
}

fn addr_of(v: &[u8]) -> Result<Address, String> {
    v.try_into().map_err(|_| format!("invalid Address: length {} != 32", v.len()))
}

fn b64_decode(input: &[u8], url: bool) -> Result<Vec<u8>, String> {
    let data: Vec<u8> = input.iter().copied().filter(|c| *c != b'\n' && *c != b'\r').collect();
    let padded = {
        let mut r = false;
        for i in (1..input.len()).rev() {
            match input[i] {
                b'=' => {
                    r = true;
                    break;
                }
                b'\n' | b'\r' => {}
                _ => break,
            }
        }
        r
    };
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' if !url => 62,
            b'/' if !url => 63,
            b'-' if url => 62,
            b'_' if url => 63,
            _ => return None,
        })
    };
    let mut body = data.as_slice();
    if padded {
        if !data.len().is_multiple_of(4) {
            return Err("illegal base64 data at input byte".into());
        }
        let pads = data.iter().rev().take_while(|c| **c == b'=').count();
        if pads > 2 {
            return Err("illegal base64 data at input byte".into());
        }
        body = &data[..data.len() - pads];
        if !(body.len() + pads).is_multiple_of(4) || (pads > 0 && body.len().is_multiple_of(4)) {
            return Err("illegal base64 data at input byte".into());
        }
    }
    if body.len() % 4 == 1 {
        return Err("illegal base64 data at input byte".into());
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for c in chunk {
            acc = (acc << 6) | val(*c).ok_or("illegal base64 data at input byte")?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&acc.to_be_bytes()[1..]),
            3 => {
                if acc & 0x3 != 0 {
                    return Err("illegal base64 data at input byte".into());
                }
                let v = acc >> 2;
                out.extend_from_slice(&[(v >> 8) as u8, v as u8]);
            }
            2 => {
                if acc & 0xf != 0 {
                    return Err("illegal base64 data at input byte".into());
                }
                out.push((acc >> 4) as u8);
            }
            _ => return Err("illegal base64 data at input byte".into()),
        }
    }
    Ok(out)
}

fn exp_impl(base: u64, exp: u64) -> Result<u64, String> {
    if exp == 0 && base == 0 {
        return Err("0^0 is undefined".into());
    }
    if base == 0 {
        return Ok(0);
    }
    if exp == 0 || base == 1 {
        return Ok(1);
    }
    if exp >= 64 {
        return Err(format!("{base}^{exp} overflow"));
    }
    let mut ans = base;
    for _ in 1..exp {
        ans = ans.checked_mul(base).ok_or_else(|| format!("{base}^{exp} overflow"))?;
    }
    Ok(ans)
}

fn expw_impl(base: u64, exp: u64) -> Result<u128, String> {
    if exp == 0 && base == 0 {
        return Err("0^0 is undefined".into());
    }
    if base == 0 {
        return Ok(0);
    }
    if exp == 0 || base == 1 {
        return Ok(1);
    }
    if exp >= 128 {
        return Err(format!("{base}^{exp} overflow"));
    }
    let mut ans = u128::from(base);
    for _ in 1..exp {
        ans = ans.checked_mul(u128::from(base)).ok_or_else(|| format!("{base}^{exp} overflow"))?;
    }
    Ok(ans)
}

fn isqrt(x: u64) -> u64 {
    let mut r = (x as f64).sqrt() as u64;
    while r.checked_mul(r).is_none_or(|s| s > x) {
        r -= 1;
    }
    while (r + 1).checked_mul(r + 1).is_some_and(|s| s <= x) {
        r += 1;
    }
    r
}

fn extract_carefully(x: &[u8], start: u64, length: u64) -> Result<Vec<u8>, String> {
    if start > x.len() as u64 {
        return Err(format!("extraction start {start} is beyond length: {}", x.len()));
    }
    let end = start.checked_add(length).ok_or("extraction end exceeds uint64")?;
    if end > x.len() as u64 {
        return Err(format!("extraction end {end} is beyond length: {}", x.len()));
    }
    Ok(x[start as usize..end as usize].to_vec())
}

fn replace_carefully(orig: &[u8], repl: &[u8], start: u64) -> Result<Vec<u8>, String> {
    if start > orig.len() as u64 {
        return Err(format!("replacement start {start} beyond length: {}", orig.len()));
    }
    let end = start + repl.len() as u64;
    if end > orig.len() as u64 {
        return Err(format!("replacement end {end} beyond original length: {}", orig.len()));
    }
    let mut out = orig.to_vec();
    out[start as usize..end as usize].copy_from_slice(repl);
    Ok(out)
}

fn nonzero(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

fn bytes_lt(a: &[u8], b: &[u8]) -> bool {
    let (l, r) = (nonzero(a), nonzero(b));
    if l.len() != r.len() {
        return l.len() < r.len();
    }
    l < r
}

impl Machine<'_> {
    fn txn(&self) -> &Txn {
        &self.cx.txns[self.gi]
    }

    fn remaining_budget(&self) -> i64 {
        if self.txn().on_completion == 3 {
            return APP_BUDGET - self.cost;
        }
        self.cx.pooled_budget
    }

    fn imm(&self, i: usize) -> u8 {
        self.program[self.pc + 1 + i]
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or(Value::Uint(0))
    }

    fn pop_uint(&mut self) -> u64 {
        match self.pop() {
            Value::Uint(u) => u,
            Value::Bytes(_) => 0,
        }
    }

    fn pop_bytes(&mut self) -> Vec<u8> {
        match self.pop() {
            Value::Bytes(b) => b,
            Value::Uint(_) => Vec::new(),
        }
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn step(&mut self) -> Result<(), EvalError> {
        let op = self.program[self.pc];
        let pc = self.pc;
        let spec = match by_opcode(op, self.version as u8) {
            Some(s) => s,
            None => {
                return Err(EvalError {
                    pc,
                    opcode: String::new(),
                    message: format!("illegal opcode 0x{op:02x}"),
                });
            }
        };
        let fail = |msg: String| EvalError { pc, opcode: spec.name.to_string(), message: msg };
        let args: Vec<char> = spec.args.chars().collect();
        if self.stack.len() < args.len() {
            return Err(fail(format!("stack underflow in {}", spec.name)));
        }
        let first = self.stack.len() - args.len();
        for (i, a) in args.iter().enumerate() {
            if let Some(want_bytes) = arg_is_bytes(*a) {
                let v = &self.stack[first + i];
                if v.is_bytes() != want_bytes {
                    let want = if want_bytes { "[]byte" } else { "uint64" };
                    return Err(fail(format!(
                        "{} arg {i} wanted {want} but got {}",
                        spec.name,
                        v.type_name()
                    )));
                }
            }
        }
        let cost = match spec.cost {
            Cost::Fixed(c) => i64::from(c),
            Cost::ByLength { base, per_chunk, chunk_size, depth } => {
                let n = match &self.stack[self.stack.len() - 1 - depth as usize] {
                    Value::Bytes(b) => b.len() as i64,
                    Value::Uint(_) => 0,
                };
                i64::from(base)
                    + i64::from(per_chunk)
                        * ((n + i64::from(chunk_size) - 1) / i64::from(chunk_size))
            }
            Cost::ByField(costs) => i64::from(*costs.get(self.imm(0) as usize).unwrap_or(&1)),
        };
        self.cost += cost;
        self.cx.pooled_budget -= cost;
        if self.remaining_budget() < 0 {
            self.cost -= cost;
            self.cx.pooled_budget += cost;
            return Err(fail(format!(
                "dynamic cost budget exceeded, executing {}: local program cost was {}",
                spec.name, self.cost
            )));
        }
        let pre = self.stack.len();
        self.exec(op, spec).map_err(fail)?;
        let exits = matches!(spec.name, "err" | "return");
        if !spec.trusted() && !exits {
            let rets: Vec<char> = spec.returns.chars().filter(|c| *c != 'x').collect();
            let post = self.stack.len();
            if post as i64 - pre as i64 != rets.len() as i64 - args.len() as i64 {
                return Err(fail(format!(
                    "{} changed stack height improperly {} != {}",
                    spec.name,
                    post as i64 - pre as i64,
                    rets.len() as i64 - args.len() as i64
                )));
            }
            let first = post - rets.len();
            for (i, r) in rets.iter().enumerate() {
                let v = &self.stack[first + i];
                if let Some(want_bytes) = arg_is_bytes(*r)
                    && v.is_bytes() != want_bytes
                {
                    return Err(fail(format!("{} produced {}", spec.name, v.type_name())));
                }
                if let Value::Bytes(b) = v
                    && b.len() > MAX_STRING_SIZE
                {
                    return Err(fail(format!(
                        "{} produced a too big ({}) byte-array",
                        spec.name,
                        b.len()
                    )));
                }
            }
        }
        if self.stack.len() > MAX_STACK_DEPTH {
            return Err(fail("stack overflow".into()));
        }
        match self.next_pc.take() {
            Some(n) => self.pc = n,
            None => {
                self.pc += instr_size(self.program, pc, spec).map_err(fail)?;
            }
        }
        Ok(())
    }

    fn branch_target(&self, offset_at: usize, end: usize) -> Result<usize, String> {
        let off = i16::from_be_bytes([self.program[offset_at], self.program[offset_at + 1]]);
        if off < 0 && self.version < 4 {
            return Err(format!("negative branch offset {off:x}"));
        }
        let t = end as i64 + i64::from(off);
        if t < 0 || t > self.program.len() as i64 {
            return Err(format!("branch target {t} outside of program"));
        }
        Ok(t as usize)
    }

    fn switch_target(&self, idx: u64) -> Result<usize, String> {
        let n = self.imm(0) as usize;
        let eoi = self.pc + 2 + 2 * n;
        if idx < n as u64 {
            self.branch_target(self.pc + 2 + 2 * idx as usize, eoi)
        } else {
            Ok(eoi)
        }
    }

    fn bin_u(&mut self, f: impl FnOnce(u64, u64) -> Result<u64, String>) -> OpResult {
        let b = self.pop_uint();
        let a = self.pop_uint();
        self.push(Value::Uint(f(a, b)?));
        Ok(())
    }

    fn byte_math(&mut self, f: impl FnOnce(&Big, &Big) -> Result<Big, String>) -> OpResult {
        let b = self.pop_bytes();
        let a = self.pop_bytes();
        if a.len() > MAX_BYTE_MATH_SIZE || b.len() > MAX_BYTE_MATH_SIZE {
            return Err("math attempted on large byte-array".into());
        }
        let r = f(&Big::from_be(&a), &Big::from_be(&b))?;
        self.push(Value::Bytes(r.to_be()));
        Ok(())
    }

    fn byte_cmp(&mut self, f: impl FnOnce(&[u8], &[u8]) -> bool) -> OpResult {
        let b = self.pop_bytes();
        let a = self.pop_bytes();
        if a.len() > MAX_BYTE_MATH_SIZE || b.len() > MAX_BYTE_MATH_SIZE {
            return Err("math attempted on large byte-array".into());
        }
        self.push(bool_v(f(&a, &b)));
        Ok(())
    }

    fn byte_logic(&mut self, f: impl Fn(u8, u8) -> u8) -> OpResult {
        let b = self.pop_bytes();
        let a = self.pop_bytes();
        let n = a.len().max(b.len());
        let pa = [vec![0u8; n - a.len()], a].concat();
        let pb = [vec![0u8; n - b.len()], b].concat();
        self.push(Value::Bytes(pa.iter().zip(&pb).map(|(x, y)| f(*x, *y)).collect()));
        Ok(())
    }

    fn hash(&mut self, which: u8) -> OpResult {
        let data = self.pop_bytes();
        let out: Vec<u8> = match which {
            0 => Sha256::digest(&data).to_vec(),
            1 => Sha512_256::digest(&data).to_vec(),
            2 => sha3::Keccak256::digest(&data).to_vec(),
            _ => sha3::Sha3_256::digest(&data).to_vec(),
        };
        self.push(Value::Bytes(out));
        Ok(())
    }

    fn exec(&mut self, op: u8, spec: &OpSpec) -> OpResult {
        if UNSUPPORTED.contains(&spec.name) {
            return Err(format!("opcode {} is not supported by this evaluator", spec.name));
        }
        match op {
            0x00 => Err("err opcode executed".into()),
            0x01 => self.hash(0),
            0x02 => self.hash(2),
            0x03 => self.hash(1),
            0x04 => self.ed25519verify(),
            0x08 => self.bin_u(|a, b| a.checked_add(b).ok_or_else(|| "+ overflowed".into())),
            0x09 => {
                self.bin_u(|a, b| a.checked_sub(b).ok_or_else(|| "- would result negative".into()))
            }
            0x0a => self.bin_u(|a, b| a.checked_div(b).ok_or_else(|| "/ 0".into())),
            0x0b => self.bin_u(|a, b| a.checked_mul(b).ok_or_else(|| "* overflowed".into())),
            0x0c => self.bin_u(|a, b| Ok(u64::from(a < b))),
            0x0d => self.bin_u(|a, b| Ok(u64::from(a > b))),
            0x0e => self.bin_u(|a, b| Ok(u64::from(a <= b))),
            0x0f => self.bin_u(|a, b| Ok(u64::from(a >= b))),
            0x10 => self.bin_u(|a, b| Ok(u64::from(a != 0 && b != 0))),
            0x11 => self.bin_u(|a, b| Ok(u64::from(a != 0 || b != 0))),
            0x12 | 0x13 => {
                let b = self.pop();
                let a = self.pop();
                if a.is_bytes() != b.is_bytes() {
                    return Err(format!("cannot compare ({} to {})", a.type_name(), b.type_name()));
                }
                self.push(bool_v((a == b) == (op == 0x12)));
                Ok(())
            }
            0x14 => {
                let a = self.pop_uint();
                self.push(bool_v(a == 0));
                Ok(())
            }
            0x15 => {
                let a = self.pop_bytes();
                self.push(Value::Uint(a.len() as u64));
                Ok(())
            }
            0x16 => {
                let a = self.pop_uint();
                self.push(Value::Bytes(a.to_be_bytes().to_vec()));
                Ok(())
            }
            0x17 => {
                let a = self.pop_bytes();
                if a.len() > 8 {
                    return Err(format!("btoi arg too long, got [{}]bytes", a.len()));
                }
                self.push(Value::Uint(a.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))));
                Ok(())
            }
            0x18 => self.bin_u(|a, b| a.checked_rem(b).ok_or_else(|| "% 0".into())),
            0x19 => self.bin_u(|a, b| Ok(a | b)),
            0x1a => self.bin_u(|a, b| Ok(a & b)),
            0x1b => self.bin_u(|a, b| Ok(a ^ b)),
            0x1c => {
                let a = self.pop_uint();
                self.push(Value::Uint(!a));
                Ok(())
            }
            0x1d => {
                let b = self.pop_uint();
                let a = self.pop_uint();
                let p = u128::from(a) * u128::from(b);
                self.push(Value::Uint((p >> 64) as u64));
                self.push(Value::Uint(p as u64));
                Ok(())
            }
            0x1e => {
                let b = self.pop_uint();
                let a = self.pop_uint();
                let (s, c) = a.overflowing_add(b);
                self.push(Value::Uint(u64::from(c)));
                self.push(Value::Uint(s));
                Ok(())
            }
            0x1f => {
                let lo_d = self.pop_uint();
                let hi_d = self.pop_uint();
                let lo_n = self.pop_uint();
                let hi_n = self.pop_uint();
                let d = (u128::from(hi_d) << 64) | u128::from(lo_d);
                if d == 0 {
                    return Err("/ 0".into());
                }
                let n = (u128::from(hi_n) << 64) | u128::from(lo_n);
                let (q, r) = (n / d, n % d);
                for v in [(q >> 64) as u64, q as u64, (r >> 64) as u64, r as u64] {
                    self.push(Value::Uint(v));
                }
                Ok(())
            }
            0x20 => {
                let (v, next) = parse_ints(self.program, self.pc + 1)?;
                self.intc = v;
                self.next_pc = Some(next);
                Ok(())
            }
            0x21..=0x25 => {
                let n = if op == 0x21 { self.imm(0) as usize } else { (op - 0x22) as usize };
                let v = *self
                    .intc
                    .get(n)
                    .ok_or_else(|| format!("intc {n} beyond {} constants", self.intc.len()))?;
                self.push(Value::Uint(v));
                Ok(())
            }
            0x26 => {
                let (v, next) = parse_bytes(self.program, self.pc + 1)?;
                self.bytec = v;
                self.next_pc = Some(next);
                Ok(())
            }
            0x27..=0x2b => {
                let n = if op == 0x27 { self.imm(0) as usize } else { (op - 0x28) as usize };
                let v = self
                    .bytec
                    .get(n)
                    .ok_or_else(|| format!("bytec {n} beyond {} constants", self.bytec.len()))?
                    .clone();
                self.push(Value::Bytes(v));
                Ok(())
            }
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
            0x34 => {
                let v = self.scratch[self.imm(0) as usize].clone();
                self.push(v);
                Ok(())
            }
            0x35 => {
                let v = self.pop();
                let i = self.imm(0) as usize;
                self.scratch[i] = v;
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
            0x3e => {
                let i = self.pop_uint();
                if i >= 256 {
                    return Err(format!("invalid Scratch index {i}"));
                }
                let v = self.scratch[i as usize].clone();
                self.push(v);
                Ok(())
            }
            0x3f => {
                let v = self.pop();
                let i = self.pop_uint();
                if i >= 256 {
                    return Err(format!("invalid Scratch index {i}"));
                }
                self.scratch[i as usize] = v;
                Ok(())
            }
            0x40 | 0x41 => {
                let c = self.pop_uint();
                self.next_pc = Some(self.pc + 3);
                if (c != 0) == (op == 0x40) {
                    self.next_pc = Some(self.branch_target(self.pc + 1, self.pc + 3)?);
                }
                Ok(())
            }
            0x42 => {
                self.next_pc = Some(self.branch_target(self.pc + 1, self.pc + 3)?);
                Ok(())
            }
            0x43 => {
                let v = self.pop();
                self.stack.clear();
                self.push(v);
                self.next_pc = Some(self.program.len());
                Ok(())
            }
            0x44 => {
                if self.pop_uint() == 0 {
                    return Err(format!("assert failed pc={}", self.pc));
                }
                Ok(())
            }
            0x45 => {
                let n = self.imm(0) as usize;
                let last = self.stack.len() - 1;
                if n == 0 || n > last {
                    return Err("bury outside stack".into());
                }
                let v = self.pop();
                self.stack[last - n] = v;
                Ok(())
            }
            0x46 => {
                let n = self.imm(0) as usize;
                if n > self.stack.len() {
                    return Err(format!("popn {n} while stack contains {}", self.stack.len()));
                }
                self.stack.truncate(self.stack.len() - n);
                Ok(())
            }
            0x47 => {
                let n = self.imm(0) as usize;
                let v = self.stack[self.stack.len() - 1].clone();
                for _ in 0..n {
                    self.push(v.clone());
                }
                Ok(())
            }
            0x48 => {
                self.pop();
                Ok(())
            }
            0x49 => {
                let v = self.stack[self.stack.len() - 1].clone();
                self.push(v);
                Ok(())
            }
            0x4a => {
                let n = self.stack.len();
                let (a, b) = (self.stack[n - 2].clone(), self.stack[n - 1].clone());
                self.push(a);
                self.push(b);
                Ok(())
            }
            0x4b => {
                let n = self.imm(0) as usize;
                if n >= self.stack.len() {
                    return Err(format!("dig {n} with stack size = {}", self.stack.len()));
                }
                let v = self.stack[self.stack.len() - 1 - n].clone();
                self.push(v);
                Ok(())
            }
            0x4c => {
                let n = self.stack.len();
                self.stack.swap(n - 1, n - 2);
                Ok(())
            }
            0x4d => {
                let c = self.pop_uint();
                let t = self.pop();
                let f = self.pop();
                self.push(if c != 0 { t } else { f });
                Ok(())
            }
            0x4e => {
                let n = self.imm(0) as usize;
                if n >= self.stack.len() {
                    return Err(format!("cover {n} with stack size = {}", self.stack.len()));
                }
                let v = self.pop();
                let at = self.stack.len() - n;
                self.stack.insert(at, v);
                Ok(())
            }
            0x4f => {
                let n = self.imm(0) as usize;
                if n >= self.stack.len() {
                    return Err(format!("uncover {n} with stack size = {}", self.stack.len()));
                }
                let at = self.stack.len() - 1 - n;
                let v = self.stack.remove(at);
                self.push(v);
                Ok(())
            }
            0x50 => {
                let b = self.pop_bytes();
                let mut a = self.pop_bytes();
                a.extend_from_slice(&b);
                self.push(Value::Bytes(a));
                Ok(())
            }
            0x51 | 0x52 => {
                let (s, e) = if op == 0x51 {
                    (u64::from(self.imm(0)), u64::from(self.imm(1)))
                } else {
                    let e = self.pop_uint();
                    let s = self.pop_uint();
                    (s, e)
                };
                let x = self.pop_bytes();
                if op == 0x52 && (s > i32::MAX as u64 || e > i32::MAX as u64) {
                    return Err("substring range beyond length of string".into());
                }
                if e < s {
                    return Err("substring end before start".into());
                }
                if s > x.len() as u64 || e > x.len() as u64 {
                    return Err("substring range beyond length of string".into());
                }
                self.push(Value::Bytes(x[s as usize..e as usize].to_vec()));
                Ok(())
            }
            0x53 => {
                let idx = self.pop_uint();
                let target = self.pop();
                let bit = match target {
                    Value::Uint(u) => {
                        if idx > 63 {
                            return Err("getbit index > 63 with with Uint".into());
                        }
                        (u >> idx) & 1
                    }
                    Value::Bytes(b) => {
                        let byte = idx / 8;
                        if byte >= b.len() as u64 {
                            return Err("getbit index beyond byteslice".into());
                        }
                        u64::from((b[byte as usize] >> (7 - idx % 8)) & 1)
                    }
                };
                self.push(Value::Uint(bit));
                Ok(())
            }
            0x54 => {
                let bit = self.pop_uint();
                let idx = self.pop_uint();
                let target = self.pop();
                if bit > 1 {
                    return Err("setbit value > 1".into());
                }
                match target {
                    Value::Uint(u) => {
                        if idx > 63 {
                            return Err("setbit index > 63 with Uint".into());
                        }
                        let m = 1u64 << idx;
                        self.push(Value::Uint(if bit == 1 { u | m } else { u & !m }));
                    }
                    Value::Bytes(mut b) => {
                        let byte = idx / 8;
                        if byte >= b.len() as u64 {
                            return Err("setbit index beyond byteslice".into());
                        }
                        let m = 0x80u8 >> (idx % 8);
                        if bit == 1 {
                            b[byte as usize] |= m;
                        } else {
                            b[byte as usize] &= !m;
                        }
                        self.push(Value::Bytes(b));
                    }
                }
                Ok(())
            }
            0x55 => {
                let idx = self.pop_uint();
                let b = self.pop_bytes();
                if idx >= b.len() as u64 {
                    return Err("getbyte index beyond array length".into());
                }
                self.push(Value::Uint(u64::from(b[idx as usize])));
                Ok(())
            }
            0x56 => {
                let v = self.pop_uint();
                let idx = self.pop_uint();
                let mut b = self.pop_bytes();
                if v > 255 {
                    return Err("setbyte value > 255".into());
                }
                if idx >= b.len() as u64 {
                    return Err("setbyte index beyond array length".into());
                }
                b[idx as usize] = v as u8;
                self.push(Value::Bytes(b));
                Ok(())
            }
            0x57 => {
                let s = u64::from(self.imm(0));
                let mut l = u64::from(self.imm(1));
                let x = self.pop_bytes();
                if l == 0 {
                    l = (x.len() as u64).wrapping_sub(s);
                }
                let r = extract_carefully(&x, s, l)?;
                self.push(Value::Bytes(r));
                Ok(())
            }
            0x58 => {
                let l = self.pop_uint();
                let s = self.pop_uint();
                let x = self.pop_bytes();
                let r = extract_carefully(&x, s, l)?;
                self.push(Value::Bytes(r));
                Ok(())
            }
            0x59..=0x5b => {
                let n = [2u64, 4, 8][(op - 0x59) as usize];
                let s = self.pop_uint();
                let x = self.pop_bytes();
                let r = extract_carefully(&x, s, n)?;
                self.push(Value::Uint(r.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b))));
                Ok(())
            }
            0x5c => {
                let r = self.pop_bytes();
                let o = self.pop_bytes();
                let out = replace_carefully(&o, &r, u64::from(self.imm(0)))?;
                self.push(Value::Bytes(out));
                Ok(())
            }
            0x5d => {
                let r = self.pop_bytes();
                let s = self.pop_uint();
                let o = self.pop_bytes();
                let out = replace_carefully(&o, &r, s)?;
                self.push(Value::Bytes(out));
                Ok(())
            }
            0x5e => {
                let enc = self.imm(0);
                if enc > 1 {
                    return Err(format!("invalid base64_decode encoding {enc}"));
                }
                let x = self.pop_bytes();
                let out = b64_decode(&x, enc == 0)?;
                self.push(Value::Bytes(out));
                Ok(())
            }
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
            0x80 => {
                let (len, used) =
                    uvarint(self.program, self.pc + 1).ok_or("could not decode length")?;
                let start = self.pc + 1 + used;
                let end = start + len as usize;
                self.push(Value::Bytes(self.program[start..end].to_vec()));
                self.next_pc = Some(end);
                Ok(())
            }
            0x81 => {
                let (v, used) = uvarint(self.program, self.pc + 1).ok_or("could not decode int")?;
                self.push(Value::Uint(v));
                self.next_pc = Some(self.pc + 1 + used);
                Ok(())
            }
            0x82 => {
                let (v, next) = parse_bytes(self.program, self.pc + 1)?;
                self.stack.extend(v.into_iter().map(Value::Bytes));
                self.next_pc = Some(next);
                Ok(())
            }
            0x83 => {
                let (v, next) = parse_ints(self.program, self.pc + 1)?;
                self.stack.extend(v.into_iter().map(Value::Uint));
                self.next_pc = Some(next);
                Ok(())
            }
            0x84 => self.ed25519verify_bare(),
            0x88 => {
                self.callstack.push(Frame {
                    retpc: self.pc + 3,
                    height: self.stack.len(),
                    clear: false,
                    args: 0,
                    returns: 0,
                });
                let t = self.branch_target(self.pc + 1, self.pc + 3)?;
                self.next_pc = Some(t);
                if self.program.get(t) == Some(&0x8a) {
                    self.from_callsub = true;
                }
                Ok(())
            }
            0x89 => {
                let f = self.callstack.pop().ok_or("retsub with empty callstack")?;
                if f.clear {
                    let expect = f.height + f.returns;
                    let len = self.stack.len();
                    if len < expect {
                        let msg = if len < f.height {
                            "retsub executed with stack below frame. Did you pop args?".to_string()
                        } else if len == f.height {
                            format!(
                                "retsub executed with no return values on stack. proto declared {}",
                                f.returns
                            )
                        } else {
                            format!(
                                "retsub executed with {} return values on stack. proto declared {}",
                                len - f.height,
                                f.returns
                            )
                        };
                        return Err(msg);
                    }
                    let argstart = f.height - f.args;
                    let rets: Vec<Value> = self.stack[f.height..expect].to_vec();
                    self.stack.truncate(argstart);
                    self.stack.extend(rets);
                }
                self.next_pc = Some(f.retpc);
                Ok(())
            }
            0x8a => {
                if !self.from_callsub {
                    return Err("proto was executed without a callsub".into());
                }
                self.from_callsub = false;
                let nargs = self.imm(0) as usize;
                if nargs > self.stack.len() {
                    return Err(format!(
                        "callsub to proto that requires {nargs} args with stack height {}",
                        self.stack.len()
                    ));
                }
                let returns = self.imm(1) as usize;
                let top = self.callstack.last_mut().ok_or("proto with empty callstack")?;
                top.clear = true;
                top.args = nargs;
                top.returns = returns;
                Ok(())
            }
            0x8b | 0x8c => {
                let i = self.imm(0) as i8;
                let name = if op == 0x8b { "frame_dig" } else { "frame_bury" };
                let f = *self.callstack.last().ok_or(format!("{name} with empty callstack"))?;
                if f.clear && -i64::from(i) > f.args as i64 {
                    return Err(format!("{name} {i} in sub with {} args", f.args));
                }
                let idx = f.height as i64 + i64::from(i);
                if op == 0x8b {
                    if idx >= self.stack.len() as i64 {
                        return Err("frame_dig above stack".into());
                    }
                    if idx < 0 {
                        return Err("frame_dig below stack".into());
                    }
                    let v = self.stack[idx as usize].clone();
                    self.push(v);
                } else {
                    let last = self.stack.len() as i64 - 1;
                    if idx >= last {
                        return Err("frame_bury above stack".into());
                    }
                    if idx < 0 {
                        return Err("frame_bury below stack".into());
                    }
                    let v = self.pop();
                    self.stack[idx as usize] = v;
                }
                Ok(())
            }
            0x8d => {
                let i = self.pop_uint();
                self.next_pc = Some(self.switch_target(i)?);
                Ok(())
            }
            0x8e => {
                let n = self.imm(0) as usize;
                if n + 1 > self.stack.len() {
                    return Err(format!(
                        "match expects {} stack args while stack only contains {}",
                        n + 1,
                        self.stack.len()
                    ));
                }
                let v = self.pop();
                let base = self.stack.len() - n;
                let list: Vec<Value> = self.stack.split_off(base);
                let idx = list.iter().position(|x| *x == v).unwrap_or(n);
                self.next_pc = Some(self.switch_target(idx as u64)?);
                Ok(())
            }
            0x90 => {
                self.bin_u(
                    |a, b| {
                        if b > 63 { Err(format!("shl arg too big, ({b})")) } else { Ok(a << b) }
                    },
                )
            }
            0x91 => {
                self.bin_u(
                    |a, b| {
                        if b > 63 { Err(format!("shr arg too big, ({b})")) } else { Ok(a >> b) }
                    },
                )
            }
            0x92 => {
                let a = self.pop_uint();
                self.push(Value::Uint(isqrt(a)));
                Ok(())
            }
            0x93 => {
                let v = self.pop();
                let n = match v {
                    Value::Uint(u) => 64 - u64::from(u.leading_zeros()),
                    Value::Bytes(b) => match b.iter().position(|x| *x != 0) {
                        None => 0,
                        Some(i) => {
                            (8 - u64::from(b[i].leading_zeros())) + 8 * (b.len() - i - 1) as u64
                        }
                    },
                };
                self.push(Value::Uint(n));
                Ok(())
            }
            0x94 => self.bin_u(exp_impl),
            0x95 => {
                let e = self.pop_uint();
                let b = self.pop_uint();
                let v = expw_impl(b, e)?;
                self.push(Value::Uint((v >> 64) as u64));
                self.push(Value::Uint(v as u64));
                Ok(())
            }
            0x96 => {
                let x = self.pop_bytes();
                if x.len() > MAX_BYTE_MATH_SIZE {
                    return Err("math attempted on large byte-array".into());
                }
                self.push(Value::Bytes(Big::from_be(&x).sqrt().to_be()));
                Ok(())
            }
            0x97 => {
                let y = self.pop_uint();
                let lo = self.pop_uint();
                let hi = self.pop_uint();
                if y == 0 {
                    return Err("divw 0".into());
                }
                if y <= hi {
                    return Err(format!("divw overflow: {y} <= {hi}"));
                }
                let q = (((u128::from(hi)) << 64) | u128::from(lo)) / u128::from(y);
                self.push(Value::Uint(q as u64));
                Ok(())
            }
            0x98 => self.hash(3),
            0xa0 => self.byte_math(|a, b| Ok(a.add(b))),
            0xa1 => self.byte_math(|a, b| {
                a.sub(b).ok_or_else(|| "byte math would have negative result".into())
            }),
            0xa2 => self.byte_math(|a, b| {
                a.divmod(b).map(|(q, _)| q).ok_or_else(|| "division by zero".into())
            }),
            0xa3 => self.byte_math(|a, b| Ok(a.mul(b))),
            0xaa => self.byte_math(|a, b| {
                a.divmod(b).map(|(_, r)| r).ok_or_else(|| "modulo by zero".into())
            }),
            0xa4 => self.byte_cmp(bytes_lt),
            0xa5 => self.byte_cmp(|a, b| bytes_lt(b, a)),
            0xa6 => self.byte_cmp(|a, b| !bytes_lt(b, a)),
            0xa7 => self.byte_cmp(|a, b| !bytes_lt(a, b)),
            0xa8 => self.byte_cmp(|a, b| nonzero(a) == nonzero(b)),
            0xa9 => self.byte_cmp(|a, b| nonzero(a) != nonzero(b)),
            0xab => self.byte_logic(|a, b| a | b),
            0xac => self.byte_logic(|a, b| a & b),
            0xad => self.byte_logic(|a, b| a ^ b),
            0xae => {
                let x = self.pop_bytes();
                self.push(Value::Bytes(x.iter().map(|b| !b).collect()));
                Ok(())
            }
            0xaf => {
                let n = self.pop_uint();
                if n > MAX_STRING_SIZE as u64 {
                    return Err("bzero attempted to create a too large string".into());
                }
                self.push(Value::Bytes(vec![0; n as usize]));
                Ok(())
            }
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
            0xb9..=0xbf => self.box_op(op),
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
            _ => Err(format!("opcode {} is not supported by this evaluator", spec.name)),
        }
    }

    fn push_got(&mut self, v: Option<Value>, ex: bool) {
        let found = v.is_some();
        self.push(v.unwrap_or(Value::Uint(0)));
        if ex {
            self.push(bool_v(found));
        }
    }

    fn ed25519verify(&mut self) -> OpResult {
        let pk = self.pop_bytes();
        let sig = self.pop_bytes();
        let data = self.pop_bytes();
        let program = self.program;
        let mut h = Sha512_256::new();
        h.update(b"Program");
        h.update(program);
        let mut msg = b"ProgData".to_vec();
        msg.extend_from_slice(&h.finalize());
        msg.extend_from_slice(&data);
        let ok = verify_ed25519(&pk, &sig, &msg)?;
        self.push(bool_v(ok));
        Ok(())
    }

    fn ed25519verify_bare(&mut self) -> OpResult {
        let pk = self.pop_bytes();
        let sig = self.pop_bytes();
        let data = self.pop_bytes();
        let ok = verify_ed25519(&pk, &sig, &data)?;
        self.push(bool_v(ok));
        Ok(())
    }
}

fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn verify_ed25519(pk: &[u8], sig: &[u8], msg: &[u8]) -> Result<bool, String> {
    let pk: [u8; 32] = pk.try_into().map_err(|_| "invalid public key".to_string())?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| "invalid signature".to_string())?;
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&pk) else {
        return Ok(false);
    };
    let sig = ed25519_dalek::Signature::from_bytes(&sig);
    Ok(key.verify_strict(msg, &sig).is_ok())
}

fn pad(b: &[u8], n: usize) -> Vec<u8> {
    let mut v = b.to_vec();
    v.resize(n.max(v.len()), 0);
    v
}

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
    fn field_value(
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

    // ----- resource availability (go-algorand's shared resources) ---------------

    fn available_account(&self, addr: &Address) -> bool {
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

    fn available_asset(&self, asset: u64) -> bool {
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

    fn account_reference(&self, v: &Value) -> Result<(Address, i64), String> {
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

    fn app_reference(&self, r: u64, foreign: bool) -> Result<u64, String> {
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

    fn asset_reference(&self, r: u64, foreign: bool) -> Result<u64, String> {
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

    fn allows_locals(&self, addr: &Address, app: u64) -> bool {
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

    fn locals_reference(&self, acct: &Value, r: u64) -> Result<(Address, u64), String> {
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

    fn holding_reference(&self, acct: &Value, r: u64) -> Result<(Address, u64), String> {
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

    fn mutable_account(&self, acct: &Value) -> Result<Address, String> {
        let (addr, idx) = self.account_reference(acct)?;
        if idx > self.txn().accounts.len() as i64 && self.version < 9 {
            return Err(format!("invalid Account reference for mutation {}", hex(&addr)));
        }
        Ok(addr)
    }

    // ----- state -------------------------------------------------------------

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

    // ----- boxes -------------------------------------------------------------

    fn box_arg_check(name: &[u8], size: u64) -> OpResult {
        if name.is_empty() {
            return Err("box names may not be zero length".into());
        }
        if name.len() > MAX_KEY_LEN {
            return Err(format!(
                "name too long: length was {}, maximum is {MAX_KEY_LEN}",
                name.len()
            ));
        }
        if size > MAX_BOX_SIZE {
            return Err(format!("box size too large: {size}, maximum is {MAX_BOX_SIZE}"));
        }
        Ok(())
    }

    /// go's `availableBox`: reference check and write budget accounting.
    fn available_box(
        &mut self,
        name: &[u8],
        op: u8,
        create_size: u64,
    ) -> Result<Option<Vec<u8>>, String> {
        if self.txn().on_completion == 3 {
            return Err("boxes may not be accessed from ClearState program".into());
        }
        let key = (self.app_id, name.to_vec());
        let mut dirty = *self
            .cx
            .boxes
            .get(&key)
            .ok_or_else(|| format!("invalid Box reference 0x{}", hex(name)))?;
        let content = self.host.box_get(self.app_id, name);
        match op {
            // create
            0 if content.is_some() => {
                let len = content.as_ref().map_or(0, Vec::len) as u64;
                if create_size != len {
                    return Err(format!("box size mismatch {len} {create_size}"));
                }
                return Ok(content);
            }
            // create (new) or write
            0 | 1 => {
                let size = content.as_ref().map_or(create_size, |c| c.len() as u64);
                if !dirty {
                    self.cx.dirty_bytes += size;
                }
                dirty = true;
            }
            // delete
            2 => {
                if dirty {
                    self.cx.dirty_bytes = self
                        .cx
                        .dirty_bytes
                        .saturating_sub(content.as_ref().map_or(0, Vec::len) as u64);
                }
                dirty = false;
            }
            _ => {}
        }
        self.cx.boxes.insert(key, dirty);
        if self.cx.dirty_bytes > self.cx.io_budget {
            return Err(format!(
                "write budget ({}) exceeded {}",
                self.cx.io_budget, self.cx.dirty_bytes
            ));
        }
        Ok(content)
    }

    fn box_op(&mut self, op: u8) -> OpResult {
        const CREATE: u8 = 0;
        const WRITE: u8 = 1;
        const DELETE: u8 = 2;
        const READ: u8 = 3;
        match op {
            0xb9 => {
                let size = self.pop_uint();
                let name = self.pop_bytes();
                Self::box_arg_check(&name, size)?;
                let existing = self.available_box(&name, CREATE, size)?;
                if existing.is_none() {
                    self.host.box_put(self.app_id, &name, vec![0; size as usize])?;
                }
                self.push(bool_v(existing.is_none()));
                Ok(())
            }
            0xba => {
                let len = self.pop_uint();
                let start = self.pop_uint();
                let name = self.pop_bytes();
                Self::box_arg_check(&name, start.saturating_add(len))?;
                let c = self.available_box(&name, READ, 0)?;
                let c = c.ok_or_else(|| format!("no such box 0x{}", hex(&name)))?;
                let out = extract_carefully(&c, start, len)?;
                self.push(Value::Bytes(out));
                Ok(())
            }
            0xbb => {
                let repl = self.pop_bytes();
                let start = self.pop_uint();
                let name = self.pop_bytes();
                Self::box_arg_check(&name, start.saturating_add(repl.len() as u64))?;
                let c = self.available_box(&name, WRITE, 0)?;
                let c = c.ok_or_else(|| format!("no such box 0x{}", hex(&name)))?;
                let out = replace_carefully(&c, &repl, start)?;
                self.host.box_put(self.app_id, &name, out)
            }
            0xbc => {
                let name = self.pop_bytes();
                Self::box_arg_check(&name, 0)?;
                let c = self.available_box(&name, DELETE, 0)?;
                if c.is_some() {
                    self.host.box_del(self.app_id, &name)?;
                }
                self.push(bool_v(c.is_some()));
                Ok(())
            }
            0xbd | 0xbe => {
                let name = self.pop_bytes();
                Self::box_arg_check(&name, 0)?;
                let c = self.available_box(&name, READ, 0)?;
                let found = c.is_some();
                let c = c.unwrap_or_default();
                if op == 0xbd {
                    self.push(Value::Uint(c.len() as u64));
                } else {
                    self.push(Value::Bytes(c));
                }
                self.push(bool_v(found));
                Ok(())
            }
            _ => {
                let value = self.pop_bytes();
                let name = self.pop_bytes();
                Self::box_arg_check(&name, value.len() as u64)?;
                let c = self.available_box(&name, WRITE, value.len() as u64)?;
                if let Some(c) = c
                    && c.len() != value.len()
                {
                    return Err(format!(
                        "attempt to box_put wrong size {} != {}",
                        c.len(),
                        value.len()
                    ));
                }
                self.host.box_put(self.app_id, &name, value)
            }
        }
    }

    // ----- inner transactions --------------------------------------------------

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

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
