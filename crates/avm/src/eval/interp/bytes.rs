//! Byte-string ops: `len itob btoi concat substring substring3 getbit setbit
//! getbyte setbyte extract extract3 extract_uint16/32/64 replace2 replace3
//! base64_decode bzero`.

use super::{MAX_STRING_SIZE, Machine, OpResult, extract_carefully, replace_carefully};
use crate::eval::host::Value;

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

impl Machine<'_> {
    /// Runs a byte-string opcode.
    pub(super) fn exec_bytes(&mut self, op: u8) -> OpResult {
        match op {
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
            0xaf => {
                let n = self.pop_uint();
                if n > MAX_STRING_SIZE as u64 {
                    return Err("bzero attempted to create a too large string".into());
                }
                self.push(Value::Bytes(vec![0; n as usize]));
                Ok(())
            }
            _ => unreachable!("opcode 0x{op:02x} is not in the bytes family"),
        }
    }
}
