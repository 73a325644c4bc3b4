//! Algorand addresses.
//!
//! An address is the base32 encoding (RFC 4648 alphabet, upper case, no padding) of a
//! 32-byte ed25519 public key followed by the last 4 bytes of its SHA-512/256 digest,
//! which gives 58 characters. [`Address::from_str`] accepts exactly what go-algorand's
//! `basics.UnmarshalChecksumAddress` accepts: the right length, only upper-case base32
//! characters, zero padding bits and a matching checksum.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha512_256};

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Length of an address in characters.
pub const ADDRESS_LEN: usize = 58;
const CHECKSUM_LEN: usize = 4;

/// A valid Algorand address (the public key it encodes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 32]);

/// Why a string is not an Algorand address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not 58 characters long.
    #[error("must be 58 characters long, got {0}")]
    Length(usize),
    /// A character outside `A-Z2-7`; lower case is refused as algod refuses it.
    #[error("character {ch:?} at position {position} is not upper-case base32 (A-Z, 2-7)")]
    Character {
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        ch: char,
    },
    /// The two trailing padding bits are not zero, so the text is not canonical.
    #[error("is not canonically encoded (non-zero trailing bits)")]
    NonCanonical,
    /// The last four bytes are not the checksum of the public key.
    #[error("checksum does not match (mistyped address?)")]
    Checksum,
}

impl Address {
    /// The address of a raw 32-byte public key.
    pub const fn from_public_key(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// The 32-byte public key.
    pub const fn public_key(&self) -> &[u8; 32] {
        &self.0
    }

    fn checksum(key: &[u8; 32]) -> [u8; CHECKSUM_LEN] {
        let digest = Sha512_256::digest(key);
        let mut out = [0u8; CHECKSUM_LEN];
        out.copy_from_slice(&digest[digest.len() - CHECKSUM_LEN..]);
        out
    }
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != ADDRESS_LEN {
            return Err(AddressError::Length(chars.len()));
        }
        // 58 characters carry 290 bits: 36 bytes plus 2 padding bits that must be zero.
        let mut bytes = [0u8; 32 + CHECKSUM_LEN];
        let mut acc: u32 = 0;
        let mut bits = 0u32;
        let mut out = 0usize;
        for (position, &ch) in chars.iter().enumerate() {
            let value = match ch {
                'A'..='Z' => ch as u32 - 'A' as u32,
                '2'..='7' => ch as u32 - '2' as u32 + 26,
                _ => return Err(AddressError::Character { position, ch }),
            };
            acc = (acc << 5) | value;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes[out] = (acc >> bits) as u8;
                out += 1;
                acc &= (1 << bits) - 1;
            }
        }
        if acc != 0 {
            return Err(AddressError::NonCanonical);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes[..32]);
        if bytes[32..] != Self::checksum(&key) {
            return Err(AddressError::Checksum);
        }
        Ok(Self(key))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = [0u8; 32 + CHECKSUM_LEN];
        bytes[..32].copy_from_slice(&self.0);
        bytes[32..].copy_from_slice(&Self::checksum(&self.0));
        let mut text = String::with_capacity(ADDRESS_LEN);
        let mut acc: u32 = 0;
        let mut bits = 0u32;
        for byte in bytes {
            acc = (acc << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                text.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
            }
            acc &= (1 << bits) - 1;
        }
        if bits > 0 {
            text.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
        }
        f.write_str(&text)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(|e| serde::de::Error::custom(format!("not an Algorand address: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The zero address and a well-known address (the TestNet dispenser's), both checked
    // against algod.
    const ZERO: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAY5HFKQ";
    const KNOWN: &str = "GD64YIY3TWGDMCNPP553DZPPR6LDUSFQOIJVFDPPXWEG3FVOJCCDBBHU5A";

    #[test]
    fn round_trips_valid_addresses() {
        for text in [ZERO, KNOWN] {
            let address: Address = text.parse().expect(text);
            assert_eq!(address.to_string(), text);
        }
        assert_eq!(ZERO.parse::<Address>().unwrap().public_key(), &[0u8; 32]);
    }

    #[test]
    fn every_public_key_round_trips() {
        for seed in 0u8..=255 {
            let key: [u8; 32] =
                std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8));
            let address = Address::from_public_key(key);
            let text = address.to_string();
            assert_eq!(text.len(), ADDRESS_LEN);
            assert_eq!(text.parse::<Address>().unwrap(), address);
        }
    }

    #[test]
    fn refuses_a_bad_checksum() {
        let mut text = KNOWN.to_string();
        text.replace_range(57..58, "I"); // changes a data bit, keeps padding zero
        assert_eq!(text.parse::<Address>(), Err(AddressError::Checksum));
        // Flipping a key character breaks the checksum too.
        let mut text = KNOWN.to_string();
        text.replace_range(0..1, "H");
        assert_eq!(text.parse::<Address>(), Err(AddressError::Checksum));
    }

    #[test]
    fn refuses_wrong_lengths() {
        assert_eq!("".parse::<Address>(), Err(AddressError::Length(0)));
        assert_eq!(KNOWN[..57].parse::<Address>(), Err(AddressError::Length(57)));
        assert_eq!(format!("{KNOWN}A").parse::<Address>(), Err(AddressError::Length(59)));
    }

    #[test]
    fn refuses_lower_case_and_foreign_characters() {
        let lower = KNOWN.to_lowercase();
        assert_eq!(lower.parse::<Address>(), Err(AddressError::Character { position: 0, ch: 'g' }));
        let mut text = KNOWN.to_string();
        text.replace_range(5..6, "1");
        assert_eq!(text.parse::<Address>(), Err(AddressError::Character { position: 5, ch: '1' }));
        let padded = format!("{}=", &KNOWN[..57]);
        assert!(matches!(padded.parse::<Address>(), Err(AddressError::Character { .. })));
    }

    #[test]
    fn refuses_non_canonical_padding_bits() {
        // The last character carries 3 data bits and 2 padding bits; 'B' sets a padding bit.
        let mut text = ZERO.to_string();
        let last = text.pop().unwrap();
        let bumped = ALPHABET[(ALPHABET.iter().position(|&c| c as char == last).unwrap() + 1) % 32];
        text.push(bumped as char);
        assert_eq!(text.parse::<Address>(), Err(AddressError::NonCanonical));
    }

    #[test]
    fn serde_uses_the_text_form_and_validates() {
        let json = format!("\"{KNOWN}\"");
        let address: Address = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&address).unwrap(), json);
        let err = serde_json::from_str::<Address>("\"nope\"").unwrap_err();
        assert!(err.to_string().contains("not an Algorand address"), "{err}");
    }
}
