//! Constants: `int`/`byte` literals and `intc`/`bytec` references, the
//! pooling by use count from v4 (single-use constants become `pushint` /
//! `pushbytes`), and the `intcblock`/`bytecblock` put in front of the program.

use super::OpStream;
use crate::asm::literals::hex;
use crate::asm::{varuint, write_varuint};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConstKind {
    Int,
    Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ConstVal {
    Int(u64),
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone)]
pub(super) struct ConstRef {
    value: ConstVal,
    position: usize,
}

impl OpStream {
    pub(super) fn write_intc(&mut self, idx: usize) -> Result<(), String> {
        match idx {
            0..=3 => self.pending.push(self.op("intc_0").opcode + idx as u8),
            _ => {
                if idx > 0xff {
                    return Err("cannot have more than 256 int constants".into());
                }
                self.pending.push(self.op("intc").opcode);
                self.pending.push(idx as u8);
            }
        }
        if idx >= self.intc.len() {
            return Err(format!("intc {idx} is not defined"));
        }
        Ok(())
    }

    pub(super) fn write_bytec(&mut self, idx: usize) -> Result<(), String> {
        match idx {
            0..=3 => self.pending.push(self.op("bytec_0").opcode + idx as u8),
            _ => {
                if idx > 0xff {
                    return Err("cannot have more than 256 byte constants".into());
                }
                self.pending.push(self.op("bytec").opcode);
                self.pending.push(idx as u8);
            }
        }
        if idx >= self.bytec.len() {
            return Err(format!("bytec {idx} is not defined"));
        }
        Ok(())
    }

    pub(super) fn int_literal(&mut self, val: u64) -> Result<(), String> {
        self.has_pseudo_int = true;
        let idx = match self.intc.iter().position(|v| *v == val) {
            Some(i) => i,
            None => {
                if self.cnt_intc_block > 0 {
                    return Err(format!("value {val} does not appear in existing intcblock"));
                }
                self.intc.push(val);
                self.intc.len() - 1
            }
        };
        self.intc_refs.push(ConstRef { value: ConstVal::Int(val), position: self.pending.len() });
        self.write_intc(idx)
    }

    pub(super) fn byte_literal(&mut self, val: Vec<u8>) -> Result<(), String> {
        self.has_pseudo_byte = true;
        let idx = match self.bytec.iter().position(|v| *v == val) {
            Some(i) => i,
            None => {
                if self.cnt_bytec_block > 0 {
                    return Err(format!(
                        "value 0x{} does not appear in existing bytecblock",
                        hex(&val)
                    ));
                }
                self.bytec.push(val.clone());
                self.bytec.len() - 1
            }
        };
        self.bytec_refs
            .push(ConstRef { value: ConstVal::Bytes(val), position: self.pending.len() });
        self.write_bytec(idx)
    }

    pub(super) fn optimize_constants(
        &mut self,
        kind: ConstKind,
        mut refs: Vec<ConstRef>,
        block: Vec<ConstVal>,
    ) -> Vec<ConstVal> {
        let mut freqs: Vec<(ConstVal, usize)> = block.into_iter().map(|v| (v, 0)).collect();
        for r in &refs {
            if let Some(f) = freqs.iter_mut().find(|f| f.0 == r.value) {
                f.1 += 1;
            }
        }
        // stable: equal frequencies keep first-use order
        freqs.sort_by_key(|f| std::cmp::Reverse(f.1));
        refs.sort_by_key(|r| std::cmp::Reverse(r.position));
        let (c0, c, push) = match kind {
            ConstKind::Int => {
                (self.op("intc_0").opcode, self.op("intc").opcode, self.op("pushint").opcode)
            }
            ConstKind::Bytes => {
                (self.op("bytec_0").opcode, self.op("bytec").opcode, self.op("pushbytes").opcode)
            }
        };
        for r in &refs {
            let Some(new_index) = freqs.iter().position(|f| f.0 == r.value) else { continue };
            let singleton = freqs[new_index].1 == 1;
            let new_bytes = if singleton {
                let mut nb = vec![push];
                match &r.value {
                    ConstVal::Int(v) => write_varuint(&mut nb, *v),
                    ConstVal::Bytes(b) => {
                        write_varuint(&mut nb, b.len() as u64);
                        nb.extend_from_slice(b);
                    }
                }
                nb
            } else if new_index < 4 {
                vec![c0 + new_index as u8]
            } else {
                vec![c, new_index as u8]
            };
            let pos = r.position;
            let cur = self.pending[pos];
            let cur_len = if cur >= c0 && cur < c0 + 4 { 1 } else { 2 };
            self.pending.splice(pos..pos + cur_len, new_bytes.iter().copied());
            let delta = new_bytes.len() as i64 - cur_len as i64;
            if delta == 0 {
                continue;
            }
            let shift = |p: &mut usize| {
                if *p > pos {
                    *p = (*p as i64 + delta) as usize;
                }
            };
            for r2 in self.intc_refs.iter_mut().chain(self.bytec_refs.iter_mut()) {
                shift(&mut r2.position);
            }
            for v in self.labels.values_mut() {
                shift(v);
            }
            for lr in &mut self.label_refs {
                if lr.position > pos {
                    lr.position = (lr.position as i64 + delta) as usize;
                    lr.offset_position = (lr.offset_position as i64 + delta) as usize;
                }
            }
        }
        freqs.into_iter().take_while(|f| f.1 != 1).map(|f| f.0).collect()
    }

    pub(super) fn prepend_cblocks(&mut self) -> Vec<u8> {
        let mut out = varuint(self.version);
        if !self.intc.is_empty() && self.cnt_intc_block == 0 {
            out.push(self.op("intcblock").opcode);
            write_varuint(&mut out, self.intc.len() as u64);
            for v in &self.intc {
                write_varuint(&mut out, *v);
            }
        }
        if !self.bytec.is_empty() && self.cnt_bytec_block == 0 {
            out.push(self.op("bytecblock").opcode);
            write_varuint(&mut out, self.bytec.len() as u64);
            for b in &self.bytec {
                write_varuint(&mut out, b.len() as u64);
                out.extend_from_slice(b);
            }
        }
        out.extend_from_slice(&self.pending);
        out
    }
}
