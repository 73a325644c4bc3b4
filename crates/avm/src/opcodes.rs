//! The AVM opcode table.
//!
//! One row per (opcode, version-of-change): when an opcode changed cost or
//! stack signature in a later version (e.g. `sha256` got more expensive in v2,
//! `balance` accepts an address in v4), the table holds one row per variant and
//! [`lookup`] / [`by_opcode`] return the newest row whose `version` does not
//! exceed the program's version. The evaluator is meant to reuse this table.
//!
//! Stack signatures use one letter per value, as in go-algorand:
//! `a` any, `b` bytes, `i` uint64, `x` none (the op ends the program),
//! `A` 32-byte address, `I` bigint (bytes up to 64), `T` bool (0/1),
//! `H` 32 bytes, `M` 4-byte method selector, `K` state key (0..=64 bytes),
//! `N` box name (1..=64 bytes). See [`stack_type`].
//!
//! Notes for the evaluator:
//! - `args`/`returns` are the static prototypes the assembler type-checks
//!   with. Ops whose real stack effect depends on immediates or on the call
//!   frame have placeholder prototypes: `dig`, `bury`, `cover`, `uncover`,
//!   `popn`, `dupn`, `frame_dig`, `frame_bury`, `proto`, `retsub`, `match`,
//!   `pushints`, `pushbytess` (see [`OpSpec::trusted`]); `return` and `err`
//!   return `x` (the program ends). `txn`-like ops return `a`: the real type
//!   is the field's (see [`crate::fields`]).
//! - Costs: [`Cost::ByField`] is indexed by the field byte; [`Cost::ByLength`]
//!   measures the byte string `depth` slots below the top *before* the op pops.
//! - The `Labels` immediate (`switch`, `match`) has a one-byte label count;
//!   `Varuints`/`Bytess` (`intcblock`, `pushints`, ...) have a varuint count.
//!   Branch offsets are signed 16-bit big-endian, relative to the end of the
//!   instruction.
//! - [`Mode`] is informational for the assembler (go-algorand checks it at
//!   run time only), as is the min-version of a field versus the op.
//! - Transaction "effects" fields ([`crate::fields::TxnField::effects`]) are
//!   restricted at run time by go-algorand (only `itxn`/`gitxn` before v6).
//! - Version 10 rows (`bn256_*`) exist because go-algorand 3.17 assembles
//!   them under `#pragma version 10`; consensus v38 does not run v10 programs.

use crate::fields::FieldGroup;

/// Highest version the assembler accepts in `#pragma version`.
pub const MAX_VERSION: u8 = 10;
/// Version assumed when a program has no `#pragma version`.
pub const DEFAULT_VERSION: u8 = 1;
/// Largest byte string the AVM handles.
pub const MAX_STRING_SIZE: u64 = 4096;
/// Largest input of the byte-math (`b+`, ...) opcodes.
pub const MAX_BYTE_MATH_SIZE: u64 = 64;

/// How an immediate argument is encoded in the bytecode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImmKind {
    /// One byte, 0..=255 (or a field name when the immediate has a group).
    Uint8,
    /// One signed byte, -128..=127 (`frame_dig`, `frame_bury`).
    Int8,
    /// Two-byte big-endian signed offset relative to the end of the op.
    Label,
    /// A varuint.
    Varuint,
    /// Varuint length followed by the bytes.
    Bytes,
    /// Varuint count followed by that many varuints.
    Varuints,
    /// Varuint count followed by that many length-prefixed byte strings.
    Bytess,
    /// One count byte followed by that many two-byte label offsets.
    Labels,
}

/// An immediate argument of an opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Immediate {
    /// Name used in documentation (`f`, `i`, `target`, ...).
    pub name: &'static str,
    /// Encoding.
    pub kind: ImmKind,
    /// When set, the immediate is a field name from this group (encoded as one byte).
    pub group: Option<FieldGroup>,
}

/// Which program kinds may run an opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Logic signatures and applications.
    Any,
    /// Applications only.
    App,
    /// Logic signatures only.
    Sig,
}

/// Execution cost of an opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// A fixed cost.
    Fixed(u32),
    /// `base + per_chunk * ceil(len / chunk_size)` where `len` is the length of
    /// the byte string `depth` positions below the top of the stack.
    ByLength {
        /// Base cost.
        base: u32,
        /// Cost per chunk.
        per_chunk: u32,
        /// Chunk size in bytes.
        chunk_size: u32,
        /// Stack depth of the measured argument (0 = top).
        depth: u32,
    },
    /// Cost depends on the value of the (only) field immediate: index = field value.
    ByField(&'static [u32]),
}

/// One row of the opcode table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpSpec {
    /// Opcode byte.
    pub opcode: u8,
    /// Mnemonic.
    pub name: &'static str,
    /// Stack arguments, deepest first, as type letters.
    pub args: &'static str,
    /// Stack results, deepest first, as type letters.
    pub returns: &'static str,
    /// Version in which this row takes effect.
    pub version: u8,
    /// Cost.
    pub cost: Cost,
    /// Run modes.
    pub mode: Mode,
    /// Immediate arguments in encoding order.
    pub immediates: &'static [Immediate],
}

impl OpSpec {
    /// Encoded size in bytes, or `None` when it depends on the immediates
    /// (constant blocks, push ops, `switch`/`match`).
    pub fn size(&self) -> Option<usize> {
        let mut n = 1;
        for imm in self.immediates {
            match imm.kind {
                ImmKind::Uint8 | ImmKind::Int8 => n += 1,
                ImmKind::Label => n += 2,
                _ => return None,
            }
        }
        Some(n)
    }

    /// Whether the opcode unconditionally transfers control away from the next
    /// instruction (the assembler stops type tracking after it).
    pub fn deadens(&self) -> bool {
        matches!(self.name, "b" | "callsub" | "retsub" | "err" | "return")
    }

    /// Whether the stack signature is not the whole story (the op's stack effect
    /// depends on immediates or the call frame): `popn`, `dupn`, `pushbytess`,
    /// `pushints`, `retsub`, `match`.
    pub fn trusted(&self) -> bool {
        matches!(self.name, "popn" | "dupn" | "pushbytess" | "pushints" | "retsub" | "match")
    }
}

const fn imm(name: &'static str, kind: ImmKind, group: Option<FieldGroup>) -> Immediate {
    Immediate { name, kind, group }
}

#[allow(clippy::too_many_arguments)]
const fn spec(
    opcode: u8,
    name: &'static str,
    args: &'static str,
    returns: &'static str,
    version: u8,
    cost: Cost,
    mode: Mode,
    immediates: &'static [Immediate],
) -> OpSpec {
    OpSpec { opcode, name, args, returns, version, cost, mode, immediates }
}

/// Every opcode row, in go-algorand's order (rows for later variants follow
/// the original row).
pub static OPS: &[OpSpec] = &[
    spec(0x00, "err", "", "x", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x01, "sha256", "b", "H", 1, Cost::Fixed(7), Mode::Any, &[]),
    spec(0x02, "keccak256", "b", "H", 1, Cost::Fixed(26), Mode::Any, &[]),
    spec(0x03, "sha512_256", "b", "H", 1, Cost::Fixed(9), Mode::Any, &[]),
    spec(0x01, "sha256", "b", "H", 2, Cost::Fixed(35), Mode::Any, &[]),
    spec(0x02, "keccak256", "b", "H", 2, Cost::Fixed(130), Mode::Any, &[]),
    spec(0x03, "sha512_256", "b", "H", 2, Cost::Fixed(45), Mode::Any, &[]),
    spec(0x04, "ed25519verify", "bbb", "T", 1, Cost::Fixed(1900), Mode::Sig, &[]),
    spec(0x04, "ed25519verify", "bbb", "T", 5, Cost::Fixed(1900), Mode::Any, &[]),
    spec(
        0x05,
        "ecdsa_verify",
        "bbbbb",
        "T",
        5,
        Cost::ByField(&[1700, 2500]),
        Mode::Any,
        &[imm("v", ImmKind::Uint8, Some(FieldGroup::EcdsaCurve))],
    ),
    spec(
        0x06,
        "ecdsa_pk_decompress",
        "b",
        "bb",
        5,
        Cost::ByField(&[650, 2400]),
        Mode::Any,
        &[imm("v", ImmKind::Uint8, Some(FieldGroup::EcdsaCurve))],
    ),
    spec(
        0x07,
        "ecdsa_pk_recover",
        "bibb",
        "bb",
        5,
        Cost::Fixed(2000),
        Mode::Any,
        &[imm("v", ImmKind::Uint8, Some(FieldGroup::EcdsaCurve))],
    ),
    spec(0x08, "+", "ii", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x09, "-", "ii", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x0a, "/", "ii", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x0b, "*", "ii", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x0c, "<", "ii", "T", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x0d, ">", "ii", "T", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x0e, "<=", "ii", "T", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x0f, ">=", "ii", "T", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x10, "&&", "ii", "T", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x11, "||", "ii", "T", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x12, "==", "aa", "T", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x13, "!=", "aa", "T", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x14, "!", "i", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x15, "len", "b", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x16, "itob", "i", "b", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x17, "btoi", "b", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x18, "%", "ii", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x19, "|", "ii", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x1a, "&", "ii", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x1b, "^", "ii", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x1c, "~", "i", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x1d, "mulw", "ii", "ii", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x1e, "addw", "ii", "ii", 2, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x1f, "divmodw", "iiii", "iiii", 4, Cost::Fixed(20), Mode::Any, &[]),
    spec(
        0x20,
        "intcblock",
        "",
        "",
        1,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("uint ...", ImmKind::Varuints, None)],
    ),
    spec(0x21, "intc", "", "i", 1, Cost::Fixed(1), Mode::Any, &[imm("i", ImmKind::Uint8, None)]),
    spec(0x22, "intc_0", "", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x23, "intc_1", "", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x24, "intc_2", "", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x25, "intc_3", "", "i", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(
        0x26,
        "bytecblock",
        "",
        "",
        1,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("bytes ...", ImmKind::Bytess, None)],
    ),
    spec(0x27, "bytec", "", "b", 1, Cost::Fixed(1), Mode::Any, &[imm("i", ImmKind::Uint8, None)]),
    spec(0x28, "bytec_0", "", "b", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x29, "bytec_1", "", "b", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x2a, "bytec_2", "", "b", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x2b, "bytec_3", "", "b", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x2c, "arg", "", "b", 1, Cost::Fixed(1), Mode::Sig, &[imm("n", ImmKind::Uint8, None)]),
    spec(0x2d, "arg_0", "", "b", 1, Cost::Fixed(1), Mode::Sig, &[]),
    spec(0x2e, "arg_1", "", "b", 1, Cost::Fixed(1), Mode::Sig, &[]),
    spec(0x2f, "arg_2", "", "b", 1, Cost::Fixed(1), Mode::Sig, &[]),
    spec(0x30, "arg_3", "", "b", 1, Cost::Fixed(1), Mode::Sig, &[]),
    spec(
        0x31,
        "txn",
        "",
        "a",
        1,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::TxnScalar))],
    ),
    spec(
        0x32,
        "global",
        "",
        "a",
        1,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::Global))],
    ),
    spec(
        0x33,
        "gtxn",
        "",
        "a",
        1,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("t", ImmKind::Uint8, None), imm("f", ImmKind::Uint8, Some(FieldGroup::TxnScalar))],
    ),
    spec(0x34, "load", "", "a", 1, Cost::Fixed(1), Mode::Any, &[imm("i", ImmKind::Uint8, None)]),
    spec(0x35, "store", "a", "", 1, Cost::Fixed(1), Mode::Any, &[imm("i", ImmKind::Uint8, None)]),
    spec(
        0x36,
        "txna",
        "",
        "a",
        2,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray)), imm("i", ImmKind::Uint8, None)],
    ),
    spec(
        0x37,
        "gtxna",
        "",
        "a",
        2,
        Cost::Fixed(1),
        Mode::Any,
        &[
            imm("t", ImmKind::Uint8, None),
            imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray)),
            imm("i", ImmKind::Uint8, None),
        ],
    ),
    spec(
        0x38,
        "gtxns",
        "i",
        "a",
        3,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::TxnScalar))],
    ),
    spec(
        0x39,
        "gtxnsa",
        "i",
        "a",
        3,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray)), imm("i", ImmKind::Uint8, None)],
    ),
    spec(
        0x3a,
        "gload",
        "",
        "a",
        4,
        Cost::Fixed(1),
        Mode::App,
        &[imm("t", ImmKind::Uint8, None), imm("i", ImmKind::Uint8, None)],
    ),
    spec(0x3b, "gloads", "i", "a", 4, Cost::Fixed(1), Mode::App, &[imm("i", ImmKind::Uint8, None)]),
    spec(0x3c, "gaid", "", "i", 4, Cost::Fixed(1), Mode::App, &[imm("t", ImmKind::Uint8, None)]),
    spec(0x3d, "gaids", "i", "i", 4, Cost::Fixed(1), Mode::App, &[]),
    spec(0x3e, "loads", "i", "a", 5, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x3f, "stores", "ia", "", 5, Cost::Fixed(1), Mode::Any, &[]),
    spec(
        0x40,
        "bnz",
        "i",
        "",
        1,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("target", ImmKind::Label, None)],
    ),
    spec(0x41, "bz", "i", "", 2, Cost::Fixed(1), Mode::Any, &[imm("target", ImmKind::Label, None)]),
    spec(0x42, "b", "", "", 2, Cost::Fixed(1), Mode::Any, &[imm("target", ImmKind::Label, None)]),
    spec(0x43, "return", "i", "x", 2, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x44, "assert", "i", "", 3, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x45, "bury", "a", "", 8, Cost::Fixed(1), Mode::Any, &[imm("n", ImmKind::Uint8, None)]),
    spec(0x46, "popn", "", "", 8, Cost::Fixed(1), Mode::Any, &[imm("n", ImmKind::Uint8, None)]),
    spec(0x47, "dupn", "a", "", 8, Cost::Fixed(1), Mode::Any, &[imm("n", ImmKind::Uint8, None)]),
    spec(0x48, "pop", "a", "", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x49, "dup", "a", "aa", 1, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x4a, "dup2", "aa", "aaaa", 2, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x4b, "dig", "a", "aa", 3, Cost::Fixed(1), Mode::Any, &[imm("n", ImmKind::Uint8, None)]),
    spec(0x4c, "swap", "aa", "aa", 3, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x4d, "select", "aai", "a", 3, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x4e, "cover", "a", "a", 5, Cost::Fixed(1), Mode::Any, &[imm("n", ImmKind::Uint8, None)]),
    spec(
        0x4f,
        "uncover",
        "a",
        "a",
        5,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("n", ImmKind::Uint8, None)],
    ),
    spec(0x50, "concat", "bb", "b", 2, Cost::Fixed(1), Mode::Any, &[]),
    spec(
        0x51,
        "substring",
        "b",
        "b",
        2,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("s", ImmKind::Uint8, None), imm("e", ImmKind::Uint8, None)],
    ),
    spec(0x52, "substring3", "bii", "b", 2, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x53, "getbit", "ai", "i", 3, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x54, "setbit", "aii", "a", 3, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x55, "getbyte", "bi", "i", 3, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x56, "setbyte", "bii", "b", 3, Cost::Fixed(1), Mode::Any, &[]),
    spec(
        0x57,
        "extract",
        "b",
        "b",
        5,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("s", ImmKind::Uint8, None), imm("l", ImmKind::Uint8, None)],
    ),
    spec(0x58, "extract3", "bii", "b", 5, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x59, "extract_uint16", "bi", "i", 5, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x5a, "extract_uint32", "bi", "i", 5, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x5b, "extract_uint64", "bi", "i", 5, Cost::Fixed(1), Mode::Any, &[]),
    spec(
        0x5c,
        "replace2",
        "bb",
        "b",
        7,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("s", ImmKind::Uint8, None)],
    ),
    spec(0x5d, "replace3", "bib", "b", 7, Cost::Fixed(1), Mode::Any, &[]),
    spec(
        0x5e,
        "base64_decode",
        "b",
        "b",
        7,
        Cost::ByLength { base: 1, per_chunk: 1, chunk_size: 16, depth: 0 },
        Mode::Any,
        &[imm("e", ImmKind::Uint8, Some(FieldGroup::Base64Encoding))],
    ),
    spec(
        0x5f,
        "json_ref",
        "bb",
        "a",
        7,
        Cost::ByLength { base: 25, per_chunk: 2, chunk_size: 7, depth: 1 },
        Mode::Any,
        &[imm("r", ImmKind::Uint8, Some(FieldGroup::JsonRef))],
    ),
    spec(0x60, "balance", "i", "i", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(0x60, "balance", "a", "i", 4, Cost::Fixed(1), Mode::App, &[]),
    spec(0x61, "app_opted_in", "ii", "T", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(0x61, "app_opted_in", "ai", "T", 4, Cost::Fixed(1), Mode::App, &[]),
    spec(0x62, "app_local_get", "ib", "a", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(0x62, "app_local_get", "ab", "a", 4, Cost::Fixed(1), Mode::App, &[]),
    spec(0x63, "app_local_get_ex", "iib", "aT", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(0x63, "app_local_get_ex", "aib", "aT", 4, Cost::Fixed(1), Mode::App, &[]),
    spec(0x64, "app_global_get", "b", "a", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(0x65, "app_global_get_ex", "ib", "aT", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(0x66, "app_local_put", "iba", "", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(0x66, "app_local_put", "aba", "", 4, Cost::Fixed(1), Mode::App, &[]),
    spec(0x67, "app_global_put", "ba", "", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(0x68, "app_local_del", "ib", "", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(0x68, "app_local_del", "ab", "", 4, Cost::Fixed(1), Mode::App, &[]),
    spec(0x69, "app_global_del", "b", "", 2, Cost::Fixed(1), Mode::App, &[]),
    spec(
        0x70,
        "asset_holding_get",
        "ii",
        "aT",
        2,
        Cost::Fixed(1),
        Mode::App,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::AssetHolding))],
    ),
    spec(
        0x70,
        "asset_holding_get",
        "ai",
        "aT",
        4,
        Cost::Fixed(1),
        Mode::App,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::AssetHolding))],
    ),
    spec(
        0x71,
        "asset_params_get",
        "i",
        "aT",
        2,
        Cost::Fixed(1),
        Mode::App,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::AssetParams))],
    ),
    spec(
        0x72,
        "app_params_get",
        "i",
        "aT",
        5,
        Cost::Fixed(1),
        Mode::App,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::AppParams))],
    ),
    spec(
        0x73,
        "acct_params_get",
        "a",
        "aT",
        6,
        Cost::Fixed(1),
        Mode::App,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::AcctParams))],
    ),
    spec(0x78, "min_balance", "i", "i", 3, Cost::Fixed(1), Mode::App, &[]),
    spec(0x78, "min_balance", "a", "i", 4, Cost::Fixed(1), Mode::App, &[]),
    spec(
        0x80,
        "pushbytes",
        "",
        "b",
        3,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("bytes", ImmKind::Bytes, None)],
    ),
    spec(
        0x81,
        "pushint",
        "",
        "i",
        3,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("uint", ImmKind::Varuint, None)],
    ),
    spec(
        0x82,
        "pushbytess",
        "",
        "",
        8,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("bytes ...", ImmKind::Bytess, None)],
    ),
    spec(
        0x83,
        "pushints",
        "",
        "",
        8,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("uint ...", ImmKind::Varuints, None)],
    ),
    spec(0x84, "ed25519verify_bare", "bbb", "T", 7, Cost::Fixed(1900), Mode::Any, &[]),
    spec(
        0x88,
        "callsub",
        "",
        "",
        4,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("target", ImmKind::Label, None)],
    ),
    spec(0x89, "retsub", "", "", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(
        0x8a,
        "proto",
        "",
        "",
        8,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("a", ImmKind::Uint8, None), imm("r", ImmKind::Uint8, None)],
    ),
    spec(
        0x8b,
        "frame_dig",
        "",
        "a",
        8,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("i", ImmKind::Int8, None)],
    ),
    spec(
        0x8c,
        "frame_bury",
        "a",
        "",
        8,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("i", ImmKind::Int8, None)],
    ),
    spec(
        0x8d,
        "switch",
        "i",
        "",
        8,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("target ...", ImmKind::Labels, None)],
    ),
    spec(
        0x8e,
        "match",
        "",
        "",
        8,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("target ...", ImmKind::Labels, None)],
    ),
    spec(0x90, "shl", "ii", "i", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x91, "shr", "ii", "i", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x92, "sqrt", "i", "i", 4, Cost::Fixed(4), Mode::Any, &[]),
    spec(0x93, "bitlen", "a", "i", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x94, "exp", "ii", "i", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x95, "expw", "ii", "ii", 4, Cost::Fixed(10), Mode::Any, &[]),
    spec(0x96, "bsqrt", "b", "b", 6, Cost::Fixed(40), Mode::Any, &[]),
    spec(0x97, "divw", "iii", "i", 6, Cost::Fixed(1), Mode::Any, &[]),
    spec(0x98, "sha3_256", "b", "b", 7, Cost::Fixed(130), Mode::Any, &[]),
    spec(0x99, "bn256_add", "bb", "b", 10, Cost::Fixed(70), Mode::Any, &[]),
    spec(0x9a, "bn256_scalar_mul", "bb", "b", 10, Cost::Fixed(970), Mode::Any, &[]),
    spec(0x9b, "bn256_pairing", "bb", "i", 10, Cost::Fixed(8700), Mode::Any, &[]),
    spec(0xa0, "b+", "II", "b", 4, Cost::Fixed(10), Mode::Any, &[]),
    spec(0xa1, "b-", "II", "I", 4, Cost::Fixed(10), Mode::Any, &[]),
    spec(0xa2, "b/", "II", "I", 4, Cost::Fixed(20), Mode::Any, &[]),
    spec(0xa3, "b*", "II", "b", 4, Cost::Fixed(20), Mode::Any, &[]),
    spec(0xa4, "b<", "II", "T", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0xa5, "b>", "II", "T", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0xa6, "b<=", "II", "T", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0xa7, "b>=", "II", "T", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0xa8, "b==", "II", "T", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0xa9, "b!=", "II", "T", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0xaa, "b%", "bb", "b", 4, Cost::Fixed(20), Mode::Any, &[]),
    spec(0xab, "b|", "bb", "b", 4, Cost::Fixed(6), Mode::Any, &[]),
    spec(0xac, "b&", "bb", "b", 4, Cost::Fixed(6), Mode::Any, &[]),
    spec(0xad, "b^", "bb", "b", 4, Cost::Fixed(6), Mode::Any, &[]),
    spec(0xae, "b~", "b", "b", 4, Cost::Fixed(4), Mode::Any, &[]),
    spec(0xaf, "bzero", "i", "b", 4, Cost::Fixed(1), Mode::Any, &[]),
    spec(0xb0, "log", "b", "", 5, Cost::Fixed(1), Mode::App, &[]),
    spec(0xb1, "itxn_begin", "", "", 5, Cost::Fixed(1), Mode::App, &[]),
    spec(
        0xb2,
        "itxn_field",
        "a",
        "",
        5,
        Cost::Fixed(1),
        Mode::App,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::Txn))],
    ),
    spec(0xb3, "itxn_submit", "", "", 5, Cost::Fixed(1), Mode::App, &[]),
    spec(
        0xb4,
        "itxn",
        "",
        "a",
        5,
        Cost::Fixed(1),
        Mode::App,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::TxnScalar))],
    ),
    spec(
        0xb5,
        "itxna",
        "",
        "a",
        5,
        Cost::Fixed(1),
        Mode::App,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray)), imm("i", ImmKind::Uint8, None)],
    ),
    spec(0xb6, "itxn_next", "", "", 6, Cost::Fixed(1), Mode::App, &[]),
    spec(
        0xb7,
        "gitxn",
        "",
        "a",
        6,
        Cost::Fixed(1),
        Mode::App,
        &[imm("t", ImmKind::Uint8, None), imm("f", ImmKind::Uint8, Some(FieldGroup::Txn))],
    ),
    spec(
        0xb8,
        "gitxna",
        "",
        "a",
        6,
        Cost::Fixed(1),
        Mode::App,
        &[
            imm("t", ImmKind::Uint8, None),
            imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray)),
            imm("i", ImmKind::Uint8, None),
        ],
    ),
    spec(0xb9, "box_create", "Ni", "T", 8, Cost::Fixed(1), Mode::App, &[]),
    spec(0xba, "box_extract", "Nii", "b", 8, Cost::Fixed(1), Mode::App, &[]),
    spec(0xbb, "box_replace", "Nib", "", 8, Cost::Fixed(1), Mode::App, &[]),
    spec(0xbc, "box_del", "N", "T", 8, Cost::Fixed(1), Mode::App, &[]),
    spec(0xbd, "box_len", "N", "iT", 8, Cost::Fixed(1), Mode::App, &[]),
    spec(0xbe, "box_get", "N", "bT", 8, Cost::Fixed(1), Mode::App, &[]),
    spec(0xbf, "box_put", "Nb", "", 8, Cost::Fixed(1), Mode::App, &[]),
    spec(
        0xc0,
        "txnas",
        "i",
        "a",
        5,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray))],
    ),
    spec(
        0xc1,
        "gtxnas",
        "i",
        "a",
        5,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("t", ImmKind::Uint8, None), imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray))],
    ),
    spec(
        0xc2,
        "gtxnsas",
        "ii",
        "a",
        5,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray))],
    ),
    spec(0xc3, "args", "i", "b", 5, Cost::Fixed(1), Mode::Sig, &[]),
    spec(0xc4, "gloadss", "ii", "a", 6, Cost::Fixed(1), Mode::App, &[]),
    spec(
        0xc5,
        "itxnas",
        "i",
        "a",
        6,
        Cost::Fixed(1),
        Mode::App,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray))],
    ),
    spec(
        0xc6,
        "gitxnas",
        "i",
        "a",
        6,
        Cost::Fixed(1),
        Mode::App,
        &[imm("t", ImmKind::Uint8, None), imm("f", ImmKind::Uint8, Some(FieldGroup::TxnArray))],
    ),
    spec(
        0xd0,
        "vrf_verify",
        "bbb",
        "bT",
        7,
        Cost::Fixed(5700),
        Mode::Any,
        &[imm("s", ImmKind::Uint8, Some(FieldGroup::VrfStandard))],
    ),
    spec(
        0xd1,
        "block",
        "i",
        "a",
        7,
        Cost::Fixed(1),
        Mode::Any,
        &[imm("f", ImmKind::Uint8, Some(FieldGroup::Block))],
    ),
];

/// The row for `name` in effect at `version` (None if the opcode does not exist
/// in that version). Version 0 is treated as version 1.
pub fn lookup(name: &str, version: u8) -> Option<&'static OpSpec> {
    let v = version.max(1);
    OPS.iter().filter(|s| s.name == name && s.version <= v).max_by_key(|s| s.version)
}

/// The row for opcode byte `opcode` in effect at `version`.
pub fn by_opcode(opcode: u8, version: u8) -> Option<&'static OpSpec> {
    let v = version.max(1);
    OPS.iter().filter(|s| s.opcode == opcode && s.version <= v).max_by_key(|s| s.version)
}

/// First version in which `name` exists, if any.
pub fn introduced(name: &str) -> Option<u8> {
    OPS.iter().filter(|s| s.name == name).map(|s| s.version).min()
}

/// The kind of value on the AVM stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AvmType {
    /// Nothing (an op that yields nothing / ends the program).
    None,
    /// Unknown: uint64 or bytes.
    Any,
    /// A uint64.
    Uint64,
    /// A byte string.
    Bytes,
}

/// A stack type with bounds (value range for uint64, length range for bytes),
/// as used by go-algorand's assembler type checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackType {
    /// Display name (`uint64`, `[]byte`, `address`, `[5]byte`, `7`, ...).
    pub name: String,
    /// Underlying AVM type.
    pub avm: AvmType,
    /// Inclusive bounds.
    pub bound: (u64, u64),
}

impl StackType {
    /// A type with a derived name (static bounds give `[N]byte` / `N`).
    pub fn new(avm: AvmType, bound: (u64, u64)) -> StackType {
        let name = match avm {
            AvmType::Bytes if bound.0 == bound.1 => format!("[{}]byte", bound.0),
            AvmType::Uint64 if bound.0 == bound.1 => format!("{}", bound.0),
            AvmType::None => "none".to_string(),
            AvmType::Any => "any".to_string(),
            AvmType::Uint64 => "uint64".to_string(),
            AvmType::Bytes => "[]byte".to_string(),
        };
        StackType { name, avm, bound }
    }

    /// A type with an explicit name.
    pub fn named(name: &str, avm: AvmType, bound: (u64, u64)) -> StackType {
        StackType { name: name.to_string(), avm, bound }
    }

    /// Any value.
    pub fn any() -> StackType {
        StackType::named("any", AvmType::Any, (0, 0))
    }

    /// Any uint64.
    pub fn uint64() -> StackType {
        StackType::new(AvmType::Uint64, (0, u64::MAX))
    }

    /// Any byte string.
    pub fn bytes() -> StackType {
        StackType::new(AvmType::Bytes, (0, MAX_STRING_SIZE))
    }

    /// Whether a value of this type may satisfy `expected`.
    pub fn overlaps(&self, expected: &StackType) -> bool {
        if self.avm == AvmType::None || expected.avm == AvmType::None {
            return false;
        }
        if self.avm == AvmType::Any || expected.avm == AvmType::Any {
            return true;
        }
        if self.avm != expected.avm {
            return false;
        }
        self.bound.0 <= expected.bound.1 && self.bound.1 >= expected.bound.0
    }

    /// The union of two types (any if their AVM types differ).
    pub fn union(&self, other: &StackType) -> StackType {
        if self.avm != other.avm {
            return StackType::any();
        }
        StackType::new(self.avm, (self.bound.0.min(other.bound.0), self.bound.1.max(other.bound.1)))
    }

    /// Only the AVM type, with full bounds.
    pub fn widened(&self) -> StackType {
        match self.avm {
            AvmType::Bytes => StackType::bytes(),
            AvmType::Uint64 => StackType::uint64(),
            _ => StackType::any(),
        }
    }

    /// The constant value if the bounds pin it down.
    pub fn constant(&self) -> Option<u64> {
        (self.bound.0 == self.bound.1).then_some(self.bound.0)
    }

    /// Whether this is a concrete uint64 or bytes type.
    pub fn typed(&self) -> bool {
        matches!(self.avm, AvmType::Uint64 | AvmType::Bytes)
    }
}

/// Converts a type letter of [`OpSpec::args`] / [`OpSpec::returns`] (or of a
/// field's type) into a [`StackType`].
pub fn stack_type(letter: char) -> StackType {
    match letter {
        'a' => StackType::any(),
        'b' => StackType::bytes(),
        'i' => StackType::uint64(),
        'x' => StackType::named("none", AvmType::None, (0, 0)),
        'A' => StackType::named("address", AvmType::Bytes, (32, 32)),
        'I' => StackType::named("bigint", AvmType::Bytes, (0, MAX_BYTE_MATH_SIZE)),
        'T' => StackType::named("bool", AvmType::Uint64, (0, 1)),
        'H' => StackType::named("[32]byte", AvmType::Bytes, (32, 32)),
        'M' => StackType::named("method", AvmType::Bytes, (4, 4)),
        'K' => StackType::named("stateKey", AvmType::Bytes, (0, 64)),
        'N' => StackType::named("boxName", AvmType::Bytes, (1, 64)),
        other => panic!("unknown stack type letter {other:?}"),
    }
}

/// Converts a signature string into stack types.
pub fn stack_types(letters: &str) -> Vec<StackType> {
    letters.chars().map(stack_type).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_pick_newest_row() {
        assert_eq!(lookup("sha256", 1).unwrap().cost, Cost::Fixed(7));
        assert_eq!(lookup("sha256", 9).unwrap().cost, Cost::Fixed(35));
        assert_eq!(lookup("balance", 3).unwrap().args, "i");
        assert_eq!(lookup("balance", 4).unwrap().args, "a");
        assert!(lookup("box_get", 7).is_none());
        assert_eq!(lookup("box_get", 8).unwrap().opcode, 0xbe);
        assert!(lookup("bn256_add", 9).is_none());
        assert_eq!(by_opcode(0x8a, 8).unwrap().name, "proto");
    }

    #[test]
    fn every_letter_parses() {
        for s in OPS {
            let _ = stack_types(s.args);
            let _ = stack_types(s.returns);
        }
    }
}
