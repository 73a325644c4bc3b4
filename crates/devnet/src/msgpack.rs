//! The subset of MessagePack that Algorand uses, with its canonical encoding.
//!
//! Algorand signs and hashes the *canonical* encoding of an object: maps with their keys
//! sorted, empty (zero) values omitted, integers and lengths in their shortest form, byte
//! strings as `bin`. [`Value::encode`] writes exactly that for values built in canonical
//! order; [`decode`] reads any well-formed MessagePack, so that objects from any SDK can be
//! decoded and then re-encoded canonically.

use std::fmt;

/// A MessagePack value.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    /// `nil`.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// A non-negative integer.
    Uint(u64),
    /// A negative integer.
    Int(i64),
    /// A `bin` byte string.
    Bytes(Vec<u8>),
    /// A `str` string.
    Str(String),
    /// An array.
    Array(Vec<Value>),
    /// A map, in the order read or built.
    Map(Vec<(Value, Value)>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nil => f.write_str("nil"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Uint(n) => write!(f, "{n}"),
            Self::Int(n) => write!(f, "{n}"),
            Self::Bytes(b) => {
                write!(f, "0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
            }
            Self::Str(s) => write!(f, "{s:?}"),
            Self::Array(items) => f.debug_list().entries(items).finish(),
            Self::Map(entries) => {
                f.debug_map().entries(entries.iter().map(|(k, v)| (k, v))).finish()
            }
        }
    }
}

/// Why bytes are not the MessagePack expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside a value.
    #[error("msgpack: unexpected end of input")]
    Eof,
    /// A type byte Algorand never uses (floats, extensions).
    #[error("msgpack: unsupported type byte 0x{0:02x}")]
    Unsupported(u8),
    /// A `str` that is not UTF-8.
    #[error("msgpack: string is not UTF-8")]
    Utf8,
    /// Nesting deeper than any Algorand object.
    #[error("msgpack: nested too deeply")]
    TooDeep,
    /// Bytes left after the value.
    #[error("msgpack: {0} trailing bytes")]
    Trailing(usize),
}

const MAX_DEPTH: usize = 64;

/// Decodes one value that must fill `bytes` exactly.
pub fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = reader.value(0)?;
    match bytes.len() - reader.pos {
        0 => Ok(value),
        n => Err(DecodeError::Trailing(n)),
    }
}

/// Decodes consecutive values (e.g. concatenated signed transactions).
pub fn decode_stream(bytes: &[u8]) -> Result<Vec<Value>, DecodeError> {
    let mut reader = Reader { bytes, pos: 0 };
    let mut out = Vec::new();
    while reader.pos < bytes.len() {
        out.push(reader.value(0)?);
    }
    Ok(out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Eof)?;
        let slice = self.bytes.get(self.pos..end).ok_or(DecodeError::Eof)?;
        self.pos = end;
        Ok(slice)
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn len(&mut self, n: usize) -> Result<usize, DecodeError> {
        usize::try_from(self.uint(n)?).map_err(|_| DecodeError::Eof)
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        let tag = self.take(1)?[0];
        Ok(match tag {
            0x00..=0x7f => Value::Uint(u64::from(tag)),
            0x80..=0x8f => self.map(usize::from(tag & 0x0f), depth)?,
            0x90..=0x9f => self.array(usize::from(tag & 0x0f), depth)?,
            0xa0..=0xbf => self.str(usize::from(tag & 0x1f))?,
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 => {
                let n = self.len(1)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            0xc5 => {
                let n = self.len(2)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            0xc6 => {
                let n = self.len(4)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            0xcc => Value::Uint(self.uint(1)?),
            0xcd => Value::Uint(self.uint(2)?),
            0xce => Value::Uint(self.uint(4)?),
            0xcf => Value::Uint(self.uint(8)?),
            0xd0 => Value::Int(i64::from(self.take(1)?[0] as i8)),
            0xd1 => Value::Int(i64::from(self.uint(2)? as u16 as i16)),
            0xd2 => Value::Int(i64::from(self.uint(4)? as u32 as i32)),
            0xd3 => Value::Int(self.uint(8)? as i64),
            0xd9 => {
                let n = self.len(1)?;
                self.str(n)?
            }
            0xda => {
                let n = self.len(2)?;
                self.str(n)?
            }
            0xdb => {
                let n = self.len(4)?;
                self.str(n)?
            }
            0xdc => {
                let n = self.len(2)?;
                self.array(n, depth)?
            }
            0xdd => {
                let n = self.len(4)?;
                self.array(n, depth)?
            }
            0xde => {
                let n = self.len(2)?;
                self.map(n, depth)?
            }
            0xdf => {
                let n = self.len(4)?;
                self.map(n, depth)?
            }
            0xe0..=0xff => Value::Int(i64::from(tag as i8)),
            other => return Err(DecodeError::Unsupported(other)),
        })
    }

    fn str(&mut self, n: usize) -> Result<Value, DecodeError> {
        let bytes = self.take(n)?.to_vec();
        String::from_utf8(bytes).map(Value::Str).map_err(|_| DecodeError::Utf8)
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Value, DecodeError> {
        // Each element takes at least one byte: refuse lengths the input cannot hold.
        if n > self.bytes.len() - self.pos {
            return Err(DecodeError::Eof);
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value, DecodeError> {
        if n.saturating_mul(2) > self.bytes.len() - self.pos {
            return Err(DecodeError::Eof);
        }
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let key = self.value(depth + 1)?;
            let value = self.value(depth + 1)?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

impl Value {
    /// Encodes the value (maps in the order they hold).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    /// Appends the encoding to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Nil => out.push(0xc0),
            Self::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
            Self::Uint(n) => write_uint(out, *n),
            Self::Int(n) => {
                if let Ok(u) = u64::try_from(*n) {
                    write_uint(out, u);
                } else if *n >= -32 {
                    out.push(*n as i8 as u8);
                } else if *n >= i64::from(i8::MIN) {
                    out.push(0xd0);
                    out.push(*n as i8 as u8);
                } else if *n >= i64::from(i16::MIN) {
                    out.push(0xd1);
                    out.extend_from_slice(&(*n as i16).to_be_bytes());
                } else if *n >= i64::from(i32::MIN) {
                    out.push(0xd2);
                    out.extend_from_slice(&(*n as i32).to_be_bytes());
                } else {
                    out.push(0xd3);
                    out.extend_from_slice(&n.to_be_bytes());
                }
            }
            Self::Bytes(b) => {
                write_len(out, b.len(), None, [0xc4, 0xc5, 0xc6]);
                out.extend_from_slice(b);
            }
            Self::Str(s) => {
                write_len(out, s.len(), Some((0xa0, 31)), [0xd9, 0xda, 0xdb]);
                out.extend_from_slice(s.as_bytes());
            }
            Self::Array(items) => {
                write_len(out, items.len(), Some((0x90, 15)), [0, 0xdc, 0xdd]);
                for item in items {
                    item.write(out);
                }
            }
            Self::Map(entries) => {
                write_len(out, entries.len(), Some((0x80, 15)), [0, 0xde, 0xdf]);
                for (k, v) in entries {
                    k.write(out);
                    v.write(out);
                }
            }
        }
    }

    /// Whether the value is "empty" in Algorand's sense (omitted from canonical maps).
    /// Fixed-size fields (addresses, digests) whose zero value is omitted must be passed
    /// as [`Value::Nil`] by the caller: 32 zero bytes are not empty for a byte string.
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Nil => true,
            Self::Bool(b) => !b,
            Self::Uint(n) => *n == 0,
            Self::Int(n) => *n == 0,
            Self::Bytes(b) => b.is_empty(),
            Self::Str(s) => s.is_empty(),
            Self::Array(items) => items.is_empty(),
            Self::Map(entries) => entries.is_empty(),
        }
    }

    /// A canonical map from `(key, value)` pairs: empty values dropped, keys sorted.
    pub fn canonical_map(entries: Vec<(&str, Value)>) -> Self {
        let mut entries: Vec<(&str, Value)> =
            entries.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        Self::Map(entries.into_iter().map(|(k, v)| (Self::Str(k.to_owned()), v)).collect())
    }
}

fn write_uint(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= u64::from(u8::MAX) {
        out.extend_from_slice(&[0xcc, n as u8]);
    } else if n <= u64::from(u16::MAX) {
        out.push(0xcd);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u64::from(u32::MAX) {
        out.push(0xce);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Writes a length header: a fix form `(base, max)` if given and it fits, else the 8-,
/// 16- or 32-bit form (`tags[0] == 0` means the type has no 8-bit form).
fn write_len(out: &mut Vec<u8>, len: usize, fix: Option<(u8, usize)>, tags: [u8; 3]) {
    match fix {
        Some((base, max)) if len <= max => out.push(base | len as u8),
        _ if tags[0] != 0 && len <= usize::from(u8::MAX) => {
            out.extend_from_slice(&[tags[0], len as u8])
        }
        _ if len <= usize::from(u16::MAX) => {
            out.push(tags[1]);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(tags[2]);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_use_the_shortest_form() {
        for (n, bytes) in [
            (0u64, vec![0x00]),
            (127, vec![0x7f]),
            (128, vec![0xcc, 0x80]),
            (255, vec![0xcc, 0xff]),
            (256, vec![0xcd, 0x01, 0x00]),
            (65_536, vec![0xce, 0, 1, 0, 0]),
            (u64::MAX, vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        ] {
            assert_eq!(Value::Uint(n).encode(), bytes, "{n}");
            assert_eq!(decode(&bytes).unwrap(), Value::Uint(n));
        }
        for n in [-1i64, -32, -33, -128, -129, -40_000, -3_000_000_000, i64::MIN] {
            assert_eq!(decode(&Value::Int(n).encode()).unwrap(), Value::Int(n), "{n}");
        }
    }

    #[test]
    fn round_trips_nested_values() {
        let value = Value::Map(vec![
            (
                Value::Str("a".into()),
                Value::Array(vec![Value::Bool(true), Value::Nil, Value::Bytes(vec![1; 300])]),
            ),
            (Value::Str("s".repeat(40)), Value::Str("x".repeat(70_000))),
        ]);
        assert_eq!(decode(&value.encode()).unwrap(), value);
    }

    #[test]
    fn canonical_maps_sort_keys_and_drop_empty_values() {
        let map = Value::canonical_map(vec![
            ("snd", Value::Bytes(vec![1; 32])),
            ("amt", Value::Uint(5)),
            ("fee", Value::Uint(0)),
            ("note", Value::Bytes(vec![])),
            ("close", Value::Nil),
            ("lx", Value::Bytes(vec![0; 32])),
        ]);
        let Value::Map(entries) = &map else { panic!() };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(
            keys,
            vec![Value::Str("amt".into()), Value::Str("lx".into()), Value::Str("snd".into())]
        );
    }

    #[test]
    fn refuses_bad_input() {
        assert_eq!(decode(&[0xc4, 5, 1]), Err(DecodeError::Eof));
        assert_eq!(decode(&[0xca, 0, 0, 0, 0]), Err(DecodeError::Unsupported(0xca)));
        assert_eq!(decode(&[0x01, 0x02]), Err(DecodeError::Trailing(1)));
        assert_eq!(decode(&[0xa1, 0xff]), Err(DecodeError::Utf8));
        assert_eq!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]), Err(DecodeError::Eof));
        let mut deep = vec![0x91; 100];
        deep.push(0xc0);
        assert_eq!(decode(&deep), Err(DecodeError::TooDeep));
        assert_eq!(decode_stream(&[0x01, 0x02]).unwrap(), vec![Value::Uint(1), Value::Uint(2)]);
    }
}
