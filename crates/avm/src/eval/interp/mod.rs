//! The interpreter proper: decoding, the step loop, costs and every opcode.
//!
//! This module holds what does not depend on the opcode: the machine,
//! [`eval_app`], the step loop (argument types, costs, stack checks), the
//! helpers shared by several families, and the dispatch of each opcode to
//! its family's module:
//!
//! * `flow`: `err`, branches, `return`, `assert`, subroutines, `switch`/`match`;
//! * `stack`: constants, pushes, stack manipulation and scratch space;
//! * `arith`: integer, wide and byte math;
//! * `bytes`: byte-string ops;
//! * `crypto`: hashes and signature checks;
//! * `txn`: transaction and global fields, group scratch and created ids;
//! * `state`: app, asset and account state;
//! * `boxes`: boxes and the box I/O budget;
//! * `inner`: inner transactions and `log`.
//!
//! Beside them, `program` decodes program bytes and runs the static check,
//! `resources` decides what a program may reference, and `group` holds the
//! [`GroupContext`].

mod arith;
mod boxes;
mod bytes;
mod crypto;
mod flow;
mod group;
mod inner;
mod program;
mod resources;
mod stack;
mod state;
mod txn;

use std::collections::BTreeMap;

use super::host::{Address, Host, Txn, Value};
use crate::opcodes::{Cost, OpSpec, by_opcode};
use program::{check, instr_size, uvarint};

pub use group::{GroupContext, app_address};

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

/// Opcodes that exist in go-algorand v9 but that this evaluator refuses.
const UNSUPPORTED: &[&str] =
    &["ecdsa_verify", "ecdsa_pk_decompress", "ecdsa_pk_recover", "vrf_verify", "block", "json_ref"];

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

fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn pad(b: &[u8], n: usize) -> Vec<u8> {
    let mut v = b.to_vec();
    v.resize(n.max(v.len()), 0);
    v
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

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
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

    /// Runs one opcode by handing it to the module of its family. Each
    /// pattern here lists exactly the opcodes of that family's own `match`.
    fn exec(&mut self, op: u8, spec: &OpSpec) -> OpResult {
        if UNSUPPORTED.contains(&spec.name) {
            return Err(format!("opcode {} is not supported by this evaluator", spec.name));
        }
        match op {
            0x00 | 0x40..=0x44 | 0x88..=0x8e => self.exec_flow(op),
            0x20..=0x2b | 0x34 | 0x35 | 0x3e | 0x3f | 0x45..=0x4f | 0x80..=0x83 => {
                self.exec_stack(op)
            }
            0x08..=0x14 | 0x18..=0x1f | 0x90..=0x97 | 0xa0..=0xae => self.exec_arith(op),
            0x15..=0x17 | 0x50..=0x5e | 0xaf => self.exec_bytes(op),
            0x01..=0x04 | 0x84 | 0x98 => self.exec_crypto(op),
            0x31..=0x33 | 0x36..=0x3d | 0xc0..=0xc2 | 0xc4 => self.exec_txn(op),
            0x60..=0x69 | 0x70..=0x73 | 0x78 => self.exec_state(op),
            0xb9..=0xbf => self.box_op(op),
            0xb0..=0xb8 | 0xc5 | 0xc6 => self.exec_inner(op),
            _ => Err(format!("opcode {} is not supported by this evaluator", spec.name)),
        }
    }
}
