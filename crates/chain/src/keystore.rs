//! The server-managed keystore: accounts the server signs for on real networks (the
//! platform's operator key, managed accounts), encrypted at rest.
//!
//! One JSON file; each entry holds an address, a label and the account's 32-byte seed
//! sealed with ChaCha20-Poly1305 under a 32-byte key from configuration
//! (`chain.keystore_key`, base64), a fresh random nonce per entry and the address as
//! associated data (an entry cannot be moved to another address). Without the key the
//! file reveals addresses and labels only; a wrong key or a changed byte is refused.
//! Seeds and keys never reach a log or an API answer.

use std::path::{Path, PathBuf};

use algonaut::transaction::account::Account;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bitfox_domain::Address;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};

/// Why the keystore could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("keystore key: {0}")]
    Key(String),
    #[error("keystore {path}: {reason}")]
    File { path: String, reason: String },
    #[error(
        "keystore entry {address} does not open with this key (wrong key, or the file was changed)"
    )]
    Sealed { address: String },
    #[error("the keystore already holds {0}")]
    Duplicate(String),
}

/// The keystore's encryption key.
pub struct KeystoreKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for KeystoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeystoreKey(..)")
    }
}

impl KeystoreKey {
    /// Parses the base64 of 32 random bytes (`head -c 32 /dev/urandom | base64`).
    pub fn from_base64(text: &str) -> Result<Self, KeystoreError> {
        let bytes = B64.decode(text.trim()).map_err(|_| KeystoreError::Key("not base64".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| KeystoreError::Key(format!("{} bytes, expected 32", b.len())))?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.0.expose_secret()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    address: String,
    label: String,
    nonce: String,
    sealed_seed: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    accounts: Vec<Entry>,
}

/// A keystore file.
#[derive(Debug)]
pub struct Keystore {
    path: PathBuf,
    file: File,
}

impl Keystore {
    /// Opens the keystore at `path` (empty if the file does not exist yet).
    pub fn open(path: &Path) -> Result<Self, KeystoreError> {
        let failed =
            |reason: String| KeystoreError::File { path: path.display().to_string(), reason };
        let file = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| failed(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                File { version: 1, accounts: vec![] }
            }
            Err(e) => return Err(failed(e.to_string())),
        };
        Ok(Self { path: path.to_owned(), file })
    }

    /// Addresses and labels (no secret needed).
    pub fn entries(&self) -> Vec<(String, String)> {
        self.file.accounts.iter().map(|e| (e.address.clone(), e.label.clone())).collect()
    }

    /// Seals `account` under `key` with `label` and writes the file (owner-only
    /// permissions on Unix). Returns its address.
    pub fn add(
        &mut self,
        key: &KeystoreKey,
        account: &Account,
        label: &str,
    ) -> Result<Address, KeystoreError> {
        let address = Address::from_public_key(account.address().0);
        let text = address.to_string();
        if self.file.accounts.iter().any(|e| e.address == text) {
            return Err(KeystoreError::Duplicate(text));
        }
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let seed = account.seed();
        let sealed = key
            .cipher()
            .encrypt(&nonce, Payload { msg: &seed, aad: address.public_key() })
            .map_err(|_| KeystoreError::Key("encryption failed".into()))?;
        self.file.accounts.push(Entry {
            address: text,
            label: label.to_owned(),
            nonce: B64.encode(nonce),
            sealed_seed: B64.encode(sealed),
        });
        self.file.version = 1;
        self.write()?;
        Ok(address)
    }

    fn write(&self) -> Result<(), KeystoreError> {
        let failed = |e: std::io::Error| KeystoreError::File {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let text = serde_json::to_string_pretty(&self.file).unwrap_or_default();
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text + "\n").map_err(failed)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                .map_err(failed)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(failed)
    }

    /// Opens every entry with `key`: `(label, account)` pairs.
    pub fn unlock(&self, key: &KeystoreKey) -> Result<Vec<(String, Account)>, KeystoreError> {
        let cipher = key.cipher();
        self.file
            .accounts
            .iter()
            .map(|e| {
                let sealed = || KeystoreError::Sealed { address: e.address.clone() };
                let address: Address = e.address.parse().map_err(|_| sealed())?;
                let nonce =
                    B64.decode(&e.nonce).ok().filter(|n| n.len() == 12).ok_or_else(sealed)?;
                let data = B64.decode(&e.sealed_seed).map_err(|_| sealed())?;
                let seed = cipher
                    .decrypt(
                        Nonce::from_slice(&nonce),
                        Payload { msg: &data, aad: address.public_key() },
                    )
                    .map_err(|_| sealed())?;
                let seed: [u8; 32] = seed.try_into().map_err(|_| sealed())?;
                let account = Account::from_seed(seed);
                if Address::from_public_key(account.address().0) != address {
                    return Err(sealed());
                }
                Ok((e.label.clone(), account))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> KeystoreKey {
        KeystoreKey::from_base64(&B64.encode([byte; 32])).unwrap()
    }

    #[test]
    fn accounts_round_trip_sealed_and_refuse_a_wrong_key_or_a_changed_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keystore.json");
        let mut store = Keystore::open(&path).unwrap();
        let account = Account::from_seed([9; 32]);
        let address = store.add(&key(1), &account, "operator").unwrap();
        assert!(matches!(store.add(&key(1), &account, "again"), Err(KeystoreError::Duplicate(_))));

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&address.to_string()) && text.contains("operator"));
        assert!(!text.contains(&B64.encode([9u8; 32])), "the seed is not stored in the clear");
        for word in account.mnemonic().split(' ') {
            assert!(!text.contains(&format!("\"{word}\"")));
        }

        let reopened = Keystore::open(&path).unwrap();
        let unlocked = reopened.unlock(&key(1)).unwrap();
        assert_eq!(unlocked.len(), 1);
        assert_eq!((unlocked[0].0.as_str(), unlocked[0].1.seed()), ("operator", [9; 32]));
        assert!(matches!(reopened.unlock(&key(2)), Err(KeystoreError::Sealed { .. })));

        // Move the sealed seed to another address: the associated data refuses it.
        let other = Address::from_public_key(Account::from_seed([8; 32]).address().0);
        std::fs::write(&path, text.replace(&address.to_string(), &other.to_string())).unwrap();
        assert!(matches!(
            Keystore::open(&path).unwrap().unlock(&key(1)),
            Err(KeystoreError::Sealed { .. })
        ));
        assert!(matches!(KeystoreKey::from_base64("c2hvcnQ="), Err(KeystoreError::Key(_))));
    }
}
