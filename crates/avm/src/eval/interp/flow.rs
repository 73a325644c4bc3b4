//! Flow control: `err`, the branches (`b bz bnz`), `return`, `assert`,
//! subroutines (`callsub retsub proto frame_dig frame_bury`) and `switch` /
//! `match`.

use super::{Frame, Machine, OpResult};
use crate::eval::host::Value;

impl Machine<'_> {
    /// Runs a flow-control opcode.
    pub(super) fn exec_flow(&mut self, op: u8) -> OpResult {
        match op {
            0x00 => Err("err opcode executed".into()),
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
            _ => unreachable!("opcode 0x{op:02x} is not in the flow family"),
        }
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
}
