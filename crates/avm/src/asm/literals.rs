//! Literals: numbers with Go's `strconv` rules, byte literals (hex, base32,
//! base64, quoted strings), checksummed addresses, and byte-sized
//! immediates.

use sha2::{Digest, Sha512_256};

use super::lexer::Token;

// ---------------------------------------------------------------------------
// Number parsing with Go's strconv semantics.

fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let b = if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') { &b[1..] } else { b };
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
pub fn parse_uint_base0(s0: &str) -> Option<u64> {
    if s0.is_empty() {
        return None;
    }
    let b = s0.as_bytes();
    let (base, digits): (u64, &[u8]) = if b[0] == b'0' {
        if b.len() >= 3 && b[1].eq_ignore_ascii_case(&b'b') {
            (2, &b[2..])
        } else if b.len() >= 3 && b[1].eq_ignore_ascii_case(&b'o') {
            (8, &b[2..])
        } else if b.len() >= 3 && b[1].eq_ignore_ascii_case(&b'x') {
            (16, &b[2..])
        } else {
            (8, &b[1..])
        }
    } else {
        (10, b)
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => (c - b'0') as u64,
            b'a'..=b'z' => (c - b'a') as u64 + 10,
            b'A'..=b'Z' => (c - b'A') as u64 + 10,
            _ => return None,
        };
        if d >= base {
            return None;
        }
        n = n.checked_mul(base)?.checked_add(d)?;
    }
    if underscores && !underscore_ok(s0) {
        return None;
    }
    Some(n)
}

/// Go's `strconv.ParseUint(s, 10, 64)`.
pub(super) fn parse_uint_dec(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Go's `strconv.ParseInt(s, 0, 9)`: -256..=255.
pub(super) fn parse_int9(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = parse_uint_base0(rest)?;
    if neg { (u <= 256).then(|| -(u as i64)) } else { (u < 256).then_some(u as i64) }
}

/// Go's `strconv.ParseBool`.
pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Byte literals

const B32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_decode_unpadded(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    if matches!(b.len() % 8, 1 | 3 | 6) {
        return Err("illegal base32 data: bad length".into());
    }
    let mut out = Vec::with_capacity(b.len() * 5 / 8);
    let mut acc: u64 = 0;
    let mut bits = 0;
    for (i, &c) in b.iter().enumerate() {
        let v = B32_ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or_else(|| format!("illegal base32 data at input byte {i}"))?;
        acc = (acc << 5) | v as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// Base32 (RFC 4648 standard alphabet), with or without padding, as go-algorand accepts it.
pub fn base32_decode_any_padding(s: &str) -> Result<Vec<u8>, String> {
    if !s.contains('=') {
        return base32_decode_unpadded(s);
    }
    let b = s.as_bytes();
    if !b.len().is_multiple_of(8) {
        return Err("illegal base32 data: bad padding".into());
    }
    let data = s.trim_end_matches('=');
    let pads = s.len() - data.len();
    if data.contains('=') || !matches!(pads, 1 | 3 | 4 | 6) {
        return Err("illegal base32 data: bad padding".into());
    }
    base32_decode_unpadded(data)
}

fn base32_encode_unpadded(data: &[u8]) -> String {
    let mut out = String::new();
    let mut acc: u64 = 0;
    let mut bits = 0;
    for &byte in data {
        acc = (acc << 8) | byte as u64;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32_ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32_ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    engine.decode(s).map_err(|e| format!("illegal base64 data: {e}"))
}

fn hex_decode(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let val = |c: u8| -> Result<u8, String> {
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| format!("invalid byte: U+{:04X} '{}'", c, c as char))
    };
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks(2) {
        if pair.len() == 1 {
            val(pair[0])?;
            return Err("encoding/hex: odd length hex string".into());
        }
        out.push(val(pair[0])? << 4 | val(pair[1])?);
    }
    Ok(out)
}

/// Parses a double-quoted TEAL string literal (with `\n \r \t \\ \" \xHH` escapes).
pub fn parse_string_literal(input: &str) -> Result<Vec<u8>, String> {
    let b = input.as_bytes();
    if b.len() < 2 || b[0] != b'"' || b[b.len() - 1] != b'"' {
        return Err("no quotes".into());
    }
    let end = b.len() - 1;
    let mut pos = 1;
    let mut escape = false;
    let mut hexseq = false;
    let mut result = Vec::with_capacity(end);
    while pos < end {
        let mut ch = b[pos];
        if ch == b'\\' && !escape {
            if hexseq {
                return Err("escape sequence inside hex number".into());
            }
            escape = true;
            pos += 1;
            continue;
        }
        if escape {
            escape = false;
            ch = match ch {
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'\\' => b'\\',
                b'"' => b'"',
                b'x' => {
                    hexseq = true;
                    pos += 1;
                    continue;
                }
                other => return Err(format!("invalid escape sequence \\{}", other as char)),
            };
        }
        if hexseq {
            hexseq = false;
            if pos >= b.len() - 2 {
                return Err("non-terminated hex sequence".into());
            }
            let h = std::str::from_utf8(&b[pos..pos + 2])
                .map_err(|_| "invalid hex escape".to_string())?;
            if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("invalid hex escape \\x{h}"));
            }
            ch = u8::from_str_radix(h, 16).map_err(|e| e.to_string())?;
            pos += 1;
        }
        result.push(ch);
        pos += 1;
    }
    if escape || hexseq {
        return Err("non-terminated escape sequence".into());
    }
    Ok(result)
}

/// Parses one byte literal starting at `args[0]`. Returns the bytes and the
/// number of tokens consumed; on error the index of the token to blame.
pub(super) fn parse_binary_args(args: &[Token]) -> Result<(Vec<u8>, usize), (usize, String)> {
    let arg = args[0].s.as_str();
    let paren = |arg: &str| -> Result<(usize, usize), (usize, String)> {
        let open = arg.find('(').unwrap_or(0);
        let close =
            arg.find(')').ok_or((0, format!("argument {arg} lacks closing parenthesis")))?;
        if close != arg.len() - 1 {
            return Err((0, format!("argument {arg} must end at first closing parenthesis")));
        }
        Ok((open, close))
    };
    if arg.starts_with("base32(") || arg.starts_with("b32(") {
        let (open, close) = paren(arg)?;
        let val = base32_decode_any_padding(&arg[open + 1..close]).map_err(|e| (0, e))?;
        Ok((val, 1))
    } else if arg.starts_with("base64(") || arg.starts_with("b64(") {
        let (open, close) = paren(arg)?;
        let val = base64_decode(&arg[open + 1..close]).map_err(|e| (0, e))?;
        Ok((val, 1))
    } else if let Some(hex) = arg.strip_prefix("0x") {
        Ok((hex_decode(hex).map_err(|e| (0, e))?, 1))
    } else if arg == "base32" || arg == "b32" {
        if args.len() < 2 {
            return Err((0, format!("{arg} needs byte literal argument")));
        }
        Ok((base32_decode_any_padding(&args[1].s).map_err(|e| (1, e))?, 2))
    } else if arg == "base64" || arg == "b64" {
        if args.len() < 2 {
            return Err((0, format!("{arg} needs byte literal argument")));
        }
        Ok((base64_decode(&args[1].s).map_err(|e| (1, e))?, 2))
    } else if arg.len() > 1 && arg.starts_with('"') && arg.ends_with('"') {
        Ok((parse_string_literal(arg).map_err(|e| (0, e))?, 1))
    } else {
        Err((0, format!("arg did not parse: {arg}")))
    }
}

/// Decodes a checksummed Algorand address into its 32 public-key bytes.
pub fn decode_address(address: &str) -> Result<[u8; 32], String> {
    let decoded = base32_decode_unpadded(address)
        .map_err(|_| format!("failed to decode address {address} to base 32"))?;
    if decoded.len() < 32 {
        return Err(format!("decoded bad addr: {address}"));
    }
    let mut short = [0u8; 32];
    short.copy_from_slice(&decoded[..32]);
    let sum = Sha512_256::digest(short);
    if decoded.len() < 4 || decoded[decoded.len() - 4..] != sum[28..] {
        return Err(format!("address {address} is malformed, checksum verification failed"));
    }
    let mut canonical = short.to_vec();
    canonical.extend_from_slice(&sum[28..]);
    if base32_encode_unpadded(&canonical) != address {
        return Err(format!("address {address} is non-canonical"));
    }
    Ok(short)
}

pub(super) fn byte_imm(value: &str, label: &str) -> Result<u8, String> {
    let v = parse_uint_base0(value)
        .ok_or_else(|| format!("unable to parse {label} \"{value}\" as integer"))?;
    u8::try_from(v).map_err(|_| format!("{label} beyond 255: {v}"))
}

pub(super) fn parse_int8(s: &str) -> Option<i8> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
