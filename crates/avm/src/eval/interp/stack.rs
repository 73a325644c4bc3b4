//! Constants and pushes (`intcblock intc* bytecblock bytec* pushbytes
//! pushint pushbytess pushints`), stack manipulation (`pop dup dup2 dig bury
//! cover uncover dupn popn swap select`) and the scratch space (`load store
//! loads stores`).

use super::program::{parse_bytes, parse_ints, uvarint};
use super::{Machine, OpResult};
use crate::eval::host::Value;

impl Machine<'_> {
    /// Runs a constant, stack or scratch opcode.
    pub(super) fn exec_stack(&mut self, op: u8) -> OpResult {
        match op {
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
            _ => unreachable!("opcode 0x{op:02x} is not in the stack family"),
        }
    }
}
