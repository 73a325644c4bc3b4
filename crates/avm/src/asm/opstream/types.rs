//! Static stack type checking: what the assembler knows of the stack and the
//! scratch slots ([`Knowledge`]), and each op's prototype refined from it.

use super::OpStream;
use crate::asm::lexer::{Token, rejoin};
use crate::asm::literals::{parse_binary_args, parse_int9, parse_uint_dec};
use crate::fields;
use crate::opcodes::{self, AvmType, OpSpec, StackType};

#[derive(Debug, Clone)]
pub(super) struct Knowledge {
    stack: Vec<StackType>,
    bottom: StackType,
    pub(super) deadcode: bool,
    fp: i64,
    scratch: Vec<StackType>,
}

impl Knowledge {
    pub(super) fn new() -> Knowledge {
        Knowledge {
            stack: Vec::new(),
            bottom: StackType::named("", AvmType::None, (0, 0)),
            deadcode: false,
            fp: -1,
            scratch: vec![StackType::named("0", AvmType::Uint64, (0, 0)); 256],
        }
    }

    fn top(&self) -> StackType {
        self.stack.last().cloned().unwrap_or_else(|| self.bottom.clone())
    }

    fn pop(&mut self) -> StackType {
        self.stack.pop().unwrap_or_else(|| self.bottom.clone())
    }

    pub(super) fn deaden(&mut self) {
        self.stack.clear();
        self.deadcode = true;
    }

    pub(super) fn label(&mut self) {
        if self.deadcode {
            self.reset();
        }
    }

    pub(super) fn reset(&mut self) {
        self.stack.clear();
        self.bottom = StackType::any();
        self.fp = -1;
        self.deadcode = false;
        for s in &mut self.scratch {
            *s = StackType::any();
        }
    }
}

fn any_types(n: usize) -> Vec<StackType> {
    vec![StackType::any(); n]
}

impl OpStream {
    pub(super) fn track_stack(
        &mut self,
        args: &[StackType],
        returns: &[StackType],
        instruction: &str,
        op: &Token,
        imms: &[Token],
    ) {
        if self.known.deadcode {
            return;
        }
        if args.len() > self.known.stack.len() && self.known.bottom.avm == AvmType::None {
            let msg = format!(
                "{} expects {} stack arguments but stack height is {}",
                rejoin(instruction, imms),
                args.len(),
                self.known.stack.len()
            );
            self.type_error(op, msg);
        } else {
            for i in (0..args.len()).rev() {
                let st = self.known.pop();
                if !st.overlaps(&args[i]) {
                    let msg = format!(
                        "{} arg {} wanted type {} got {}",
                        rejoin(instruction, imms),
                        i,
                        args[i].name,
                        st.name
                    );
                    self.type_error(op, msg);
                }
            }
        }
        self.known.stack.extend(returns.iter().cloned());
    }

    /// Replaces the first `any` among the values just pushed by `spec`.
    pub(super) fn returns(&mut self, spec: &OpSpec, replacement: StackType) {
        if self.known.deadcode {
            return;
        }
        let n = spec.returns.len();
        let end = self.known.stack.len();
        let start = end.saturating_sub(n);
        for t in &mut self.known.stack[start..end] {
            if t.avm == AvmType::Any {
                *t = replacement;
                return;
            }
        }
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn refine(
        &mut self,
        name: &str,
        args: &[Token],
    ) -> Result<(Option<Vec<StackType>>, Option<Vec<StackType>>), String> {
        let imm = |i: usize, signed: bool| -> Option<i64> {
            let n = parse_int9(&args.get(i)?.s)?;
            if signed {
                (-128..=127).contains(&n).then_some(n)
            } else {
                (0..=255).contains(&n).then_some(n)
            }
        };
        let pgm = &mut self.known;
        let len = pgm.stack.len();
        let top = len.checked_sub(1);
        Ok(match name {
            "int" => {
                let types = args
                    .iter()
                    .map(|a| match parse_uint_dec(&a.s) {
                        Some(v) => StackType::new(AvmType::Uint64, (v, v)),
                        None => StackType::uint64(),
                    })
                    .collect();
                (None, Some(types))
            }
            "byte" => {
                if args.is_empty() {
                    return Ok((None, Some(vec![StackType::bytes()])));
                }
                let l = parse_binary_args(args).map(|(v, _)| v.len() as u64).unwrap_or(0);
                (None, Some(vec![StackType::named(&format!("[{l}]byte"), AvmType::Bytes, (l, l))]))
            }
            "swap" => {
                let mut swapped = any_types(2);
                if let Some(t) = top {
                    swapped[0] = pgm.stack[t].clone();
                    if t >= 1 {
                        swapped[1] = pgm.stack[t - 1].clone();
                    }
                }
                (None, Some(swapped))
            }
            "dig" => {
                let Some(n) = imm(0, false) else { return Ok((None, None)) };
                let depth = n as usize + 1;
                let mut returns = any_types(depth + 1);
                if len >= depth {
                    let idx = len - depth;
                    for (k, t) in pgm.stack[idx..].iter().enumerate() {
                        returns[k] = t.clone();
                    }
                    returns[depth] = pgm.stack[idx].clone();
                }
                (Some(any_types(depth)), Some(returns))
            }
            "bury" => {
                let Some(n) = imm(0, false) else { return Ok((None, None)) };
                if n == 0 {
                    return Err("bury 0 always fails".into());
                }
                let n = n as usize;
                if len < n + 1 {
                    if pgm.bottom.avm == AvmType::None {
                        return Ok((Some(any_types(n + 1)), None));
                    }
                    return Ok((None, None));
                }
                let idx = len - 1 - n;
                let typ = pgm.top();
                let mut returns: Vec<StackType> = pgm.stack[idx..idx + n].to_vec();
                returns[0] = typ;
                (Some(pgm.stack[idx..].to_vec()), Some(returns))
            }
            "frame_dig" => {
                let Some(n) = imm(0, true) else { return Ok((None, None)) };
                if pgm.fp == -1 {
                    return Ok((None, None));
                }
                let idx = pgm.fp + n;
                if idx < 0 {
                    return Err(format!("frame_dig {n} in sub with {} args", pgm.fp));
                }
                if idx as usize >= len {
                    return Err("frame_dig above stack".into());
                }
                (None, Some(vec![pgm.stack[idx as usize].clone()]))
            }
            "frame_bury" => {
                let Some(n) = imm(0, true) else { return Ok((None, None)) };
                let typ = pgm.top();
                if pgm.fp == -1 {
                    for t in &mut pgm.stack {
                        if *t != typ {
                            *t = StackType::any();
                        }
                    }
                    return Ok((None, None));
                }
                let idx = pgm.fp + n;
                if idx < 0 {
                    return Err(format!("frame_bury {n} in sub with {} args", pgm.fp));
                }
                let t = len as i64 - 1;
                if idx >= t {
                    return Err("frame_bury above stack".into());
                }
                let idx = idx as usize;
                let depth = (t as usize) - idx;
                let mut returns: Vec<StackType> = pgm.stack[idx..idx + depth].to_vec();
                returns[0] = typ;
                (Some(pgm.stack[idx..].to_vec()), Some(returns))
            }
            "==" | "!=" => match top {
                Some(t) => {
                    let w = pgm.stack[t].widened();
                    (Some(vec![w.clone(), w]), None)
                }
                None => (None, None),
            },
            "dup" => match top {
                Some(t) => (None, Some(vec![pgm.stack[t].clone(), pgm.stack[t].clone()])),
                None => (None, None),
            },
            "dup2" => {
                let mut two = any_types(2);
                if let Some(t) = top {
                    two[1] = pgm.stack[t].clone();
                    if t >= 1 {
                        two[0] = pgm.stack[t - 1].clone();
                    }
                }
                let mut r = two.clone();
                r.extend(two);
                (None, Some(r))
            }
            "select" => match top {
                Some(t) if t >= 2 => (None, Some(vec![pgm.stack[t - 1].union(&pgm.stack[t - 2])])),
                _ => (None, None),
            },
            "setbit" => match top {
                Some(t) if t >= 2 => (None, Some(vec![pgm.stack[t - 2].clone()])),
                _ => (None, None),
            },
            "cover" => {
                let Some(n) = imm(0, false) else { return Ok((None, None)) };
                let depth = n as usize + 1;
                let mut returns = any_types(depth);
                if len >= depth {
                    let idx = len - depth;
                    returns[0] = pgm.stack[len - 1].clone();
                    for i in idx..len - 1 {
                        returns[i - idx + 1] = pgm.stack[i].clone();
                    }
                }
                (Some(any_types(depth)), Some(returns))
            }
            "uncover" => {
                let Some(n) = imm(0, false) else { return Ok((None, None)) };
                let depth = n as usize + 1;
                let mut returns = any_types(depth);
                if len >= depth {
                    let idx = len - depth;
                    returns[depth - 1] = pgm.stack[idx].clone();
                    for i in idx + 1..len {
                        returns[i - idx - 1] = pgm.stack[i].clone();
                    }
                }
                (Some(any_types(depth)), Some(returns))
            }
            "b+" => (
                None,
                Some(vec![StackType::new(AvmType::Bytes, (0, opcodes::MAX_BYTE_MATH_SIZE + 1))]),
            ),
            "b*" => (
                None,
                Some(vec![StackType::new(AvmType::Bytes, (0, opcodes::MAX_BYTE_MATH_SIZE * 2))]),
            ),
            "itxn_field" => {
                if args.len() != 1 {
                    return Ok((None, None));
                }
                match fields::txn_field(&args[0].s) {
                    Some((_, f)) => (Some(vec![opcodes::stack_type(f.ty)]), None),
                    None => (None, None),
                }
            }
            "store" => {
                let Some(i) = imm(0, false) else { return Ok((None, None)) };
                if let Some(t) = top {
                    pgm.scratch[i as usize] = pgm.stack[t].clone();
                }
                (None, None)
            }
            "stores" => {
                let Some(t) = top else { return Ok((None, None)) };
                if t >= 1
                    && let Some(idx) = pgm.stack[t - 1].constant()
                {
                    // go-algorand indexes the 256 slots with the constant directly.
                    if let Some(slot) = pgm.scratch.get_mut(idx as usize) {
                        *slot = pgm.stack[t].clone();
                    }
                    return Ok((None, None));
                }
                let tt = pgm.stack[t].clone();
                for s in &mut pgm.scratch {
                    *s = s.union(&tt);
                }
                (None, None)
            }
            "load" => {
                let Some(i) = imm(0, false) else { return Ok((None, None)) };
                (None, Some(vec![pgm.scratch[i as usize].clone()]))
            }
            "loads" => {
                let Some(t) = top else { return Ok((None, None)) };
                if let Some(v) = pgm.stack[t].constant() {
                    if let Some(s) = pgm.scratch.get(v as usize) {
                        return Ok((None, Some(vec![s.clone()])));
                    }
                    return Ok((None, None));
                }
                let first = pgm.scratch[0].clone();
                if pgm.scratch.iter().all(|s| *s == first) {
                    (None, Some(vec![first]))
                } else {
                    (None, None)
                }
            }
            "proto" => {
                let (Some(a), Some(_)) = (imm(0, false), imm(1, false)) else {
                    return Ok((None, None));
                };
                if !pgm.stack.is_empty() || pgm.bottom.avm != AvmType::Any {
                    return Err("proto must be unreachable from previous PC".into());
                }
                pgm.stack = any_types(a as usize);
                pgm.fp = a;
                (None, None)
            }
            "popn" => {
                let Some(n) = imm(0, false) else { return Ok((None, None)) };
                (Some(any_types(n as usize)), None)
            }
            "dupn" => {
                let Some(n) = imm(0, false) else { return Ok((None, None)) };
                let Some(t) = top else { return Ok((None, None)) };
                (None, Some(vec![pgm.stack[t].clone(); n as usize + 1]))
            }
            "pushbytess" => (None, Some(vec![StackType::bytes(); args.len()])),
            "pushints" => (None, Some(vec![StackType::uint64(); args.len()])),
            "bzero" => (
                Some(vec![StackType::new(AvmType::Uint64, (0, opcodes::MAX_STRING_SIZE))]),
                Some(vec![StackType::bytes()]),
            ),
            _ => (None, None),
        })
    }
}
