//! The op stream: the assembler's state while it walks the source, statement
//! by statement (macro expansion, labels, mnemonic resolution including the
//! immediate-count pseudo-ops), the branch label fixups, and the finished
//! program with its constant blocks in front.
//!
//! The rest of the work is in the child modules: `encode` (each op and its
//! immediates), `constants` (int/byte constants and their pooling),
//! `directives` (`#pragma`, `#define`) and `types` (static stack types).

mod constants;
mod directives;
mod encode;
mod types;

use std::collections::{HashMap, HashSet};

use super::LineError;
use super::lexer::{Token, err_at, tokens_from_line};
use crate::opcodes::{self, OpSpec, StackType};
use constants::{ConstKind, ConstRef, ConstVal};
use types::Knowledge;

/// First version in which the assembler pools constants by frequency.
const OPTIMIZE_CONSTANTS_VERSION: u64 = 4;
/// First version allowing backward branches.
const BACK_BRANCH_VERSION: u64 = 4;
/// Marker for "no `#pragma version` seen yet".
const NO_VERSION: u64 = u64::MAX;

#[derive(Debug, Clone)]
struct LabelRef {
    position: usize,
    label: Token,
    offset_position: usize,
}

/// What a mnemonic resolved to.
#[derive(Debug, Clone, Copy)]
enum Handler {
    Int,
    Byte,
    Addr,
    Method,
    Spec(&'static OpSpec),
}

pub(super) struct OpStream {
    pub(super) version: u64,
    pub(super) errors: Vec<LineError>,
    pub(super) program: Vec<u8>,
    pending: Vec<u8>,
    intc: Vec<u64>,
    intc_refs: Vec<ConstRef>,
    cnt_intc_block: usize,
    has_pseudo_int: bool,
    bytec: Vec<Vec<u8>>,
    bytec_refs: Vec<ConstRef>,
    cnt_bytec_block: usize,
    has_pseudo_byte: bool,
    known: Knowledge,
    type_tracking: bool,
    source_line: usize,
    labels: HashMap<String, usize>,
    label_refs: Vec<LabelRef>,
    macros: HashMap<String, Vec<Token>>,
}

type AsmResult = Result<(), LineError>;

/// Pseudo-ops that pick a real opcode by their number of immediates.
fn pseudo_variants(name: &str) -> Option<&'static [(usize, &'static str)]> {
    Some(match name {
        "txn" => &[(1, "txn"), (2, "txna")],
        "gtxn" => &[(2, "gtxn"), (3, "gtxna")],
        "gtxns" => &[(1, "gtxns"), (2, "gtxnsa")],
        "extract" => &[(0, "extract3"), (2, "extract")],
        "replace" => &[(0, "replace3"), (1, "replace2")],
        _ => return None,
    })
}

fn is_pseudo_name(name: &str) -> bool {
    matches!(name, "int" | "byte" | "addr" | "method") || pseudo_variants(name).is_some()
}

fn join_ints_on_or(singular: &str, list: &[usize]) -> String {
    if list.len() == 1 {
        return match list[0] {
            0 => format!("no {singular}s"),
            1 => format!("1 {singular}"),
            n => format!("{n} {singular}s"),
        };
    }
    let mut l = list.to_vec();
    l.sort_unstable();
    let parts: Vec<String> = l.iter().map(|n| n.to_string()).collect();
    format!("{} {singular}s", parts.join(" or "))
}

impl OpStream {
    pub(super) fn new() -> OpStream {
        OpStream {
            version: NO_VERSION,
            errors: Vec::new(),
            program: Vec::new(),
            pending: Vec::new(),
            intc: Vec::new(),
            intc_refs: Vec::new(),
            cnt_intc_block: 0,
            has_pseudo_int: false,
            bytec: Vec::new(),
            bytec_refs: Vec::new(),
            cnt_bytec_block: 0,
            has_pseudo_byte: false,
            known: Knowledge::new(),
            type_tracking: true,
            source_line: 0,
            labels: HashMap::new(),
            label_refs: Vec::new(),
            macros: HashMap::new(),
        }
    }

    fn v8(&self) -> u8 {
        u8::try_from(self.version).unwrap_or(u8::MAX)
    }

    fn op(&self, name: &str) -> &'static OpSpec {
        opcodes::lookup(name, self.v8())
            .unwrap_or_else(|| opcodes::lookup(name, opcodes::MAX_VERSION).expect(name))
    }

    fn has_op(&self, name: &str) -> bool {
        opcodes::lookup(name, self.v8()).is_some()
    }

    fn record(&mut self, e: LineError) {
        self.errors.push(e);
    }

    fn type_error(&mut self, t: &Token, msg: String) {
        if self.type_tracking {
            self.record(err_at(t, msg));
        }
    }

    pub(super) fn assemble(&mut self, text: &str) {
        if text.trim().is_empty() {
            self.record(LineError {
                line: 0,
                column: 0,
                message: "Cannot assemble empty program text".into(),
            });
            return;
        }
        let mut lines: Vec<&str> = text.split('\n').collect();
        if text.ends_with('\n') {
            lines.pop();
        }
        for raw in lines {
            self.source_line += 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let tokens = tokens_from_line(line, self.source_line);
            if let Some(first) = tokens.first()
                && first.s.starts_with('#')
            {
                let directive = &first.s[1..];
                let r = match directive {
                    "pragma" => self.pragma(&tokens),
                    "define" => self.define(&tokens),
                    _ => Err(err_at(first, format!("unknown directive: {directive}"))),
                };
                if let Err(e) = r {
                    self.record(e);
                }
                continue;
            }
            let mut rest = tokens;
            loop {
                let (current, next) = self.next_statement(rest);
                if current.is_empty() && next.is_empty() {
                    break;
                }
                rest = next;
                if current.is_empty() {
                    continue;
                }
                self.statement(current);
            }
        }
        if self.version >= OPTIMIZE_CONSTANTS_VERSION {
            if self.cnt_intc_block == 0 {
                let refs = std::mem::take(&mut self.intc_refs);
                let block: Vec<ConstVal> = self.intc.iter().map(|v| ConstVal::Int(*v)).collect();
                let out = self.optimize_constants(ConstKind::Int, refs, block);
                self.intc = out
                    .into_iter()
                    .filter_map(|v| match v {
                        ConstVal::Int(i) => Some(i),
                        ConstVal::Bytes(_) => None,
                    })
                    .collect();
            }
            if self.cnt_bytec_block == 0 {
                let refs = std::mem::take(&mut self.bytec_refs);
                let block: Vec<ConstVal> =
                    self.bytec.iter().map(|v| ConstVal::Bytes(v.clone())).collect();
                let out = self.optimize_constants(ConstKind::Bytes, refs, block);
                self.bytec = out
                    .into_iter()
                    .filter_map(|v| match v {
                        ConstVal::Bytes(b) => Some(b),
                        ConstVal::Int(_) => None,
                    })
                    .collect();
            }
        }
        self.resolve_labels();
        self.program = self.prepend_cblocks();
    }

    fn next_statement(&self, mut tokens: Vec<Token>) -> (Vec<Token>, Vec<Token>) {
        let mut i = 0usize;
        let mut expansions = 0usize;
        while i < tokens.len() {
            if let Some(repl) = self.macros.get(&tokens[i].s) {
                expansions += 1;
                if expansions > 100_000 {
                    break;
                }
                let mut out: Vec<Token> = tokens[..i].to_vec();
                out.extend(repl[1..].iter().cloned());
                out.extend(tokens[i + 1..].iter().cloned());
                tokens = out;
                continue;
            }
            if tokens[i].s == ";" {
                let rest = tokens.split_off(i + 1);
                tokens.pop();
                return (tokens, rest);
            }
            i += 1;
        }
        (tokens, Vec::new())
    }

    fn statement(&mut self, mut current: Vec<Token>) {
        if self.version == NO_VERSION {
            self.version = opcodes::DEFAULT_VERSION as u64;
            self.recheck_macro_names();
        }
        let opstring = current[0].s.clone();
        if let Some(label) = opstring.strip_suffix(':') {
            if self.macros.contains_key(label) {
                let e = err_at(
                    &current[0],
                    format!("Cannot create label with same name as macro: {label}"),
                );
                self.record(e);
            } else {
                if self.labels.contains_key(label) {
                    let e = err_at(&current[0], format!("duplicate label \"{label}\""));
                    self.record(e);
                }
                self.labels.insert(label.to_string(), self.pending.len());
                self.known.label();
            }
            current.remove(0);
            if current.is_empty() {
                return;
            }
        }
        let mnemonic = current[0].clone();
        let args: Vec<Token> = current[1..].to_vec();
        let Some((handler, name, expanded)) = self.get_spec(&mnemonic, args.len()) else {
            return;
        };
        let (mut targs, mut trets) = match handler {
            Handler::Int => (vec![], opcodes::stack_types("i")),
            Handler::Byte | Handler::Addr | Handler::Method => (vec![], opcodes::stack_types("b")),
            Handler::Spec(s) => (opcodes::stack_types(s.args), opcodes::stack_types(s.returns)),
        };
        let refine_name = match handler {
            Handler::Int => "int",
            Handler::Byte => "byte",
            Handler::Addr | Handler::Method => "",
            Handler::Spec(s) => s.name,
        };
        match self.refine(refine_name, &args) {
            Ok((a, r)) => {
                if let Some(a) = a {
                    targs = a;
                }
                if let Some(r) = r {
                    trets = r;
                }
            }
            Err(msg) => self.type_error(&mnemonic, msg),
        }
        self.track_stack(&targs, &trets, &expanded, &mnemonic, &args);
        let r = match handler {
            Handler::Int => self.asm_int(&mnemonic, &args),
            Handler::Byte => self.asm_byte(&mnemonic, &args),
            Handler::Addr => self.asm_addr(&mnemonic, &args),
            Handler::Method => self.asm_method(&mnemonic, &args),
            Handler::Spec(s) => self.asm_spec(s, &name, &mnemonic, &args),
        };
        if let Err(e) = r {
            self.record(e);
        }
        if let Handler::Spec(s) = handler {
            if s.deadens() {
                self.known.deaden();
            }
            if s.name == "callsub" {
                self.known.label();
            }
        }
    }

    /// Resolves a mnemonic; returns the handler, the name to report and the
    /// name used in type errors.
    fn get_spec(&mut self, mnemonic: &Token, argc: usize) -> Option<(Handler, String, String)> {
        let name = mnemonic.s.as_str();
        match name {
            "int" => return Some((Handler::Int, name.into(), expanded(name, argc))),
            "byte" => return Some((Handler::Byte, name.into(), expanded(name, argc))),
            "addr" => return Some((Handler::Addr, name.into(), expanded(name, argc))),
            "method" => return Some((Handler::Method, name.into(), expanded(name, argc))),
            _ => {}
        }
        if let Some(variants) = pseudo_variants(name) {
            let Some(&(_, real)) = variants.iter().find(|(n, _)| *n == argc) else {
                let counts: Vec<usize> = variants.iter().map(|(n, _)| *n).collect();
                let e = err_at(
                    mnemonic,
                    format!("{name} expects {}", join_ints_on_or("immediate argument", &counts)),
                );
                self.record(e);
                // go-algorand keeps tracking types with a merged prototype when
                // all variants agree (txn, gtxn, gtxns all push one value).
                if matches!(name, "txn" | "gtxn" | "gtxns") {
                    let args = if name == "gtxns" { opcodes::stack_types("i") } else { vec![] };
                    let rets = vec![StackType::any()];
                    self.track_stack(&args, &rets, name, mnemonic, &[]);
                }
                return None;
            };
            let spec = self.op(real);
            if spec.version as u64 > self.version {
                let e = err_at(
                    mnemonic,
                    format!(
                        "{name} opcode with {} was introduced in v{}",
                        join_ints_on_or("immediate", &[argc]),
                        spec.version
                    ),
                );
                self.record(e);
            }
            return Some((Handler::Spec(spec), name.into(), expanded(name, argc)));
        }
        if let Some(spec) = opcodes::lookup(name, self.v8()) {
            return Some((Handler::Spec(spec), name.into(), name.into()));
        }
        let msg = match opcodes::introduced(name) {
            Some(first) if first as u64 > self.version.max(1) => {
                format!("{name} opcode was introduced in v{first}")
            }
            _ => format!("unknown opcode: {name}"),
        };
        self.record(err_at(mnemonic, msg));
        None
    }

    // ----- labels --------------------------------------------------------

    fn resolve_labels(&mut self) {
        let mut reported = HashSet::new();
        let refs = std::mem::take(&mut self.label_refs);
        for lr in &refs {
            let Some(&dest) = self.labels.get(&lr.label.s) else {
                if reported.insert(lr.label.s.clone()) {
                    let e = err_at(
                        &lr.label,
                        format!("reference to undefined label \"{}\"", lr.label.s),
                    );
                    self.record(e);
                }
                continue;
            };
            if self.version <= 1 && dest == self.pending.len() {
                let e = err_at(&lr.label, format!("label \"{}\" is too far away", lr.label.s));
                self.record(e);
            }
            if self.version < BACK_BRANCH_VERSION && dest < lr.offset_position {
                let e = err_at(
                    &lr.label,
                    format!(
                        "label \"{}\" is a back reference, back jump support was introduced in v4",
                        lr.label.s
                    ),
                );
                self.record(e);
                continue;
            }
            let jump = dest as i64 - lr.offset_position as i64;
            if jump > 0x7fff {
                let e = err_at(&lr.label, format!("label \"{}\" is too far away", lr.label.s));
                self.record(e);
                continue;
            }
            self.pending[lr.position] = (jump >> 8) as u8;
            self.pending[lr.position + 1] = jump as u8;
        }
        self.label_refs = refs;
    }

    fn add_label_ref(&mut self, position: usize, label: &Token, offset_position: usize) {
        self.label_refs.push(LabelRef { position, label: label.clone(), offset_position });
    }
}

/// `name`, or `name with N immediates` for immediate-count pseudo-ops.
fn pseudo_qualified(name: &str, argc: usize) -> String {
    if pseudo_variants(name).is_some() {
        format!("{name} with {}", join_ints_on_or("immediate", &[argc]))
    } else {
        name.to_string()
    }
}

fn expanded(name: &str, argc: usize) -> String {
    if argc == 0 { format!("{name} without immediates") } else { name.to_string() }
}
