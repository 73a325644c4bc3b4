//! Decoding of program bytes (varuints, constant blocks, instruction sizes)
//! and the static `check` go-algorand runs before evaluation.

use super::EvalError;
use crate::opcodes::{Cost, ImmKind, Mode, OpSpec, by_opcode};

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

pub(super) fn parse_ints(p: &[u8], pos: usize) -> Result<(Vec<u64>, usize), String> {
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

pub(super) fn parse_bytes(p: &[u8], pos: usize) -> Result<(Vec<Vec<u8>>, usize), String> {
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
pub(super) fn instr_size(p: &[u8], pc: usize, spec: &OpSpec) -> Result<usize, String> {
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

/// Static checks go-algorand runs before evaluation (`check`): every opcode
/// legal for the version and mode, immediates inside the program, branch
/// targets inside the program and on instruction boundaries, and for v1-v3
/// the static cost limit.
pub(super) fn check(program: &[u8], version: u64, budget: i64) -> Result<(), EvalError> {
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
