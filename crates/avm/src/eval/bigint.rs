//! Minimal unsigned big-integer arithmetic for the byte-math opcodes (`b+`,
//! `b*`, `b/`, `bsqrt`, ...). Operands are at most 64 bytes, results at most
//! 128 bytes, so simple limb-by-limb algorithms are plenty.

use std::cmp::Ordering;

/// Little-endian base-2^32 limbs, no trailing zero limbs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Big(Vec<u32>);

impl Big {
    pub(crate) fn from_be(bytes: &[u8]) -> Big {
        let mut limbs = Vec::with_capacity(bytes.len() / 4 + 1);
        let mut chunk_end = bytes.len();
        while chunk_end > 0 {
            let start = chunk_end.saturating_sub(4);
            let mut v = 0u32;
            for b in &bytes[start..chunk_end] {
                v = (v << 8) | u32::from(*b);
            }
            limbs.push(v);
            chunk_end = start;
        }
        let mut out = Big(limbs);
        out.trim();
        out
    }

    /// Minimal big-endian bytes (empty for zero), like go's `big.Int.Bytes()`.
    pub(crate) fn to_be(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * 4);
        for limb in self.0.iter().rev() {
            out.extend_from_slice(&limb.to_be_bytes());
        }
        let first = out.iter().position(|b| *b != 0).unwrap_or(out.len());
        out.drain(..first);
        out
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bit_len(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(top) => (self.0.len() - 1) * 32 + (32 - top.leading_zeros() as usize),
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 32).is_some_and(|l| (l >> (i % 32)) & 1 == 1)
    }

    pub(crate) fn add(&self, other: &Big) -> Big {
        let n = self.0.len().max(other.0.len());
        let mut out = Vec::with_capacity(n + 1);
        let mut carry = 0u64;
        for i in 0..n {
            let s = u64::from(*self.0.get(i).unwrap_or(&0))
                + u64::from(*other.0.get(i).unwrap_or(&0))
                + carry;
            out.push(s as u32);
            carry = s >> 32;
        }
        out.push(carry as u32);
        let mut b = Big(out);
        b.trim();
        b
    }

    /// `self - other`, or None when negative.
    pub(crate) fn sub(&self, other: &Big) -> Option<Big> {
        if self.cmp_big(other) == Ordering::Less {
            return None;
        }
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let mut d = i64::from(self.0[i]) - i64::from(*other.0.get(i).unwrap_or(&0)) - borrow;
            if d < 0 {
                d += 1 << 32;
                borrow = 1;
            } else {
                borrow = 0;
            }
            out.push(d as u32);
        }
        let mut b = Big(out);
        b.trim();
        Some(b)
    }

    pub(crate) fn mul(&self, other: &Big) -> Big {
        let mut out = vec![0u32; self.0.len() + other.0.len() + 1];
        for (i, a) in self.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, b) in other.0.iter().enumerate() {
                let t = u64::from(*a) * u64::from(*b) + u64::from(out[i + j]) + carry;
                out[i + j] = t as u32;
                carry = t >> 32;
            }
            let mut k = i + other.0.len();
            while carry > 0 {
                let t = u64::from(out[k]) + carry;
                out[k] = t as u32;
                carry = t >> 32;
                k += 1;
            }
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn shl1_or(&mut self, bit: bool) {
        let mut carry = u32::from(bit);
        for limb in self.0.iter_mut() {
            let next = *limb >> 31;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if carry != 0 {
            self.0.push(carry);
        }
    }

    fn set_bit(&mut self, i: usize) {
        let idx = i / 32;
        if self.0.len() <= idx {
            self.0.resize(idx + 1, 0);
        }
        self.0[idx] |= 1 << (i % 32);
    }

    /// Quotient and remainder; None when dividing by zero.
    pub(crate) fn divmod(&self, d: &Big) -> Option<(Big, Big)> {
        if d.is_zero() {
            return None;
        }
        let mut q = Big(Vec::new());
        let mut r = Big(Vec::new());
        for i in (0..self.bit_len()).rev() {
            r.shl1_or(self.bit(i));
            if r.cmp_big(d) != Ordering::Less {
                r = r.sub(d).unwrap_or(Big(Vec::new()));
                q.set_bit(i);
            }
        }
        q.trim();
        r.trim();
        Some((q, r))
    }

    /// Floor of the square root.
    pub(crate) fn sqrt(&self) -> Big {
        // Bit-by-bit: largest r with r*r <= self.
        let mut r = Big(Vec::new());
        let top = self.bit_len().div_ceil(2);
        for i in (0..top).rev() {
            let mut cand = r.clone();
            cand.set_bit(i);
            if cand.mul(&cand).cmp_big(self) != Ordering::Greater {
                r = cand;
            }
        }
        r.trim();
        r
    }

    pub(crate) fn cmp_big(&self, other: &Big) -> Ordering {
        if self.0.len() != other.0.len() {
            return self.0.len().cmp(&other.0.len());
        }
        for i in (0..self.0.len()).rev() {
            match self.0[i].cmp(&other.0[i]) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(v: u128) -> Big {
        Big::from_be(&v.to_be_bytes())
    }

    #[test]
    fn roundtrip_and_ops() {
        assert_eq!(Big::from_be(&[0, 0, 1, 2]).to_be(), vec![1, 2]);
        assert!(Big::from_be(&[0, 0]).to_be().is_empty());
        assert_eq!(b(u64::MAX as u128).add(&b(1)), b(1u128 << 64));
        assert_eq!(b(1 << 70).sub(&b(1)), Some(b((1 << 70) - 1)));
        assert_eq!(b(1).sub(&b(2)), None);
        assert_eq!(b(123456789123).mul(&b(987654321987)), b(123456789123 * 987654321987));
        let (q, r) = b(1_000_000_000_000_000_007).divmod(&b(97)).unwrap();
        assert_eq!((q, r), (b(1_000_000_000_000_000_007 / 97), b(1_000_000_000_000_000_007 % 97)));
        assert_eq!(b(99).sqrt(), b(9));
        assert_eq!(b(100).sqrt(), b(10));
        assert_eq!(b(u128::MAX).sqrt(), b(u64::MAX as u128));
        assert!(b(5).divmod(&b(0)).is_none());
    }
}
