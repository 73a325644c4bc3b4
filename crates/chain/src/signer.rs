//! Keys the server signs with, and the signing of groups.
//!
//! A [`Keyring`] holds the accounts the server may sign for: on the devnet its dev
//! accounts (whose keys are public by design), elsewhere only the platform's own
//! operator key. A group whose senders are not all in the keyring cannot be signed
//! here; the error names the missing address.

use std::collections::HashMap;

use algonaut::core::ToMsgPack;
use algonaut::transaction::Transaction;
use algonaut::transaction::account::Account;
use algonaut::transaction::group::TransactionGroup;
use bitfox_domain::Address;
use bitfox_domain::chain::SignedGroup;

/// Why a group could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// No key for this sender is held by the server.
    #[error("the server holds no key for {0}")]
    MissingKey(Address),
    /// The group could not be formed or encoded.
    #[error("signing failed: {0}")]
    Encoding(String),
}

/// Accounts the server signs for.
#[derive(Default, Clone)]
pub struct Keyring {
    accounts: HashMap<Address, Account>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Addresses only: keys never reach a log.
        f.debug_set().entries(self.accounts.keys().map(ToString::to_string)).finish()
    }
}

fn domain_address(account: &Account) -> Address {
    Address::from_public_key(account.address().0)
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `account`; returns its address.
    pub fn insert(&mut self, account: Account) -> Address {
        let address = domain_address(&account);
        self.accounts.insert(address, account);
        address
    }

    /// Whether the server can sign for `address`.
    pub fn holds(&self, address: &Address) -> bool {
        self.accounts.contains_key(address)
    }

    /// The addresses held.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.accounts.keys()
    }

    /// Groups `txns` (when there are several), signs each with its sender's key and
    /// returns the bytes to send; `txid` is the last transaction's (the app call's).
    pub fn sign_group(&self, txns: Vec<Transaction>) -> Result<SignedGroup, SignError> {
        let encoding = |e: &dyn std::fmt::Display| SignError::Encoding(e.to_string());
        let txns = if txns.len() > 1 {
            TransactionGroup::try_from(txns).map_err(|e| encoding(&e))?.into_transactions()
        } else {
            txns
        };
        let mut bytes = Vec::new();
        let mut txid = String::new();
        for txn in txns {
            let sender = Address::from_public_key(txn.sender().0);
            let account = self.accounts.get(&sender).ok_or(SignError::MissingKey(sender))?;
            let signed = account.sign(txn).map_err(|e| encoding(&e))?;
            txid = signed.transaction_id().as_str().to_owned();
            bytes.extend(signed.to_msg_pack().map_err(|e| encoding(&e))?);
        }
        Ok(SignedGroup { bytes, txid })
    }
}
