//! Arithmetic: integer math, comparisons, logic and bit ops, wide math
//! (`mulw addw divmodw divw expw`), `exp sqrt bitlen shl shr`, and byte math
//! (`b+ b- b* b/ b% b< b> b<= b>= b== b!= b| b& b^ b~ bsqrt`).

use super::{MAX_BYTE_MATH_SIZE, Machine, OpResult, bool_v};
use crate::eval::bigint::Big;
use crate::eval::host::Value;

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
    /// Runs an integer or byte math opcode.
    pub(super) fn exec_arith(&mut self, op: u8) -> OpResult {
        match op {
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
            _ => unreachable!("opcode 0x{op:02x} is not in the arith family"),
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
}
