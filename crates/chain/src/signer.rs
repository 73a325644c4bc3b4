//! Keys the server signs with, and the signing of groups.
//!
//! A [`Keyring`] holds the accounts the server may sign for: on the devnet its dev
//! accounts (whose keys are public by design), elsewhere only the platform's own
//! operator key. A group whose senders are not all in the keyring cannot be signed
//! here; the error names the missing address.

use std::collections::HashMap;

use algonaut::core::ToMsgPack;
use algonaut::transaction::account::Account;
use algonaut::transaction::group::TransactionGroup;
use algonaut::transaction::{SignedTransaction, Transaction};
use bitfox_domain::Address;
use bitfox_domain::chain::{SignedGroup, UnsignedGroup, UnsignedTxn};

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

    /// Groups `txns` (see [`group`]), signs each with its sender's key and returns the
    /// bytes to send; `txid` is the last transaction's (the app call's).
    pub fn sign_group(&self, txns: Vec<Transaction>) -> Result<SignedGroup, SignError> {
        self.sign_grouped(group(txns)?)
    }

    /// Signs transactions already grouped. Each is wrapped in the canonical signed
    /// envelope `{"sig", "txn"}` — byte for byte what py-algorand-sdk and wallets send
    /// (algonaut's own envelope adds a `sgnr: nil` entry that go-algorand tolerates).
    pub fn sign_grouped(&self, txns: Vec<Transaction>) -> Result<SignedGroup, SignError> {
        use algonaut::transaction::transaction::TransactionSignature;
        let mut bytes = Vec::new();
        let mut txid = String::new();
        for txn in txns {
            let sender = Address::from_public_key(txn.sender().0);
            let account = self.accounts.get(&sender).ok_or(SignError::MissingKey(sender))?;
            let body = txn.to_msg_pack().map_err(|e| encoding(&e))?;
            let signed = account.sign(txn).map_err(|e| encoding(&e))?;
            let TransactionSignature::Single(sig) = signed.sig() else {
                return Err(SignError::Encoding("expected a single signature".into()));
            };
            txid = signed.transaction_id().as_str().to_owned();
            bytes.extend_from_slice(&envelope(&sig.0, &body));
        }
        Ok(SignedGroup { bytes, txid })
    }
}

/// The canonical msgpack of `{"sig": sig, "txn": <txn>}` (keys sorted, as Algorand
/// encodes), with `txn` already encoded.
pub fn envelope(sig: &[u8; 64], txn: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(txn.len() + 76);
    out.extend_from_slice(&[0x82, 0xa3, b's', b'i', b'g', 0xc4, 0x40]);
    out.extend_from_slice(sig);
    out.extend_from_slice(&[0xa3, b't', b'x', b'n']);
    out.extend_from_slice(txn);
    out
}

fn encoding(e: &dyn std::fmt::Display) -> SignError {
    SignError::Encoding(e.to_string())
}

/// Assigns the group id when there are several transactions (one stays ungrouped).
pub fn group(txns: Vec<Transaction>) -> Result<Vec<Transaction>, SignError> {
    if txns.len() > 1 {
        Ok(TransactionGroup::try_from(txns).map_err(|e| encoding(&e))?.into_transactions())
    } else {
        Ok(txns)
    }
}

/// What a transaction does, in words, for the person asked to sign it.
pub fn describe(txn: &Transaction) -> String {
    use algonaut::transaction::transaction::TransactionType;
    let sender = Address::from_public_key(txn.sender().0);
    let fee = txn.fee.0;
    match &txn.txn_type {
        TransactionType::Payment(p) => format!(
            "pay {} microAlgos from {sender} to {} (fee {fee})",
            p.amount.0,
            Address::from_public_key(p.receiver.0)
        ),
        TransactionType::ApplicationCallTransaction(call) => {
            let head = call.app_arguments.as_ref().and_then(|a| a.first());
            let method = head
                .and_then(|h| bitfox_contract::abi::method_name(h))
                .unwrap_or("an unknown method");
            let app = call.app_id.map_or(0, |a| a.0);
            format!("call {method} of app {app} from {sender} (fee {fee}, covers inner payments)")
        }
        _ => format!("a transaction from {sender} (fee {fee})"),
    }
}

/// The grouped `txns` as a wallet is shown them.
pub fn unsigned(txns: &[Transaction]) -> Result<UnsignedGroup, SignError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let transactions = txns
        .iter()
        .map(|txn| {
            Ok(UnsignedTxn {
                txn: b64.encode(txn.to_msg_pack().map_err(|e| encoding(&e))?),
                txid: txn.id().map_err(|e| encoding(&e))?.0,
                signer: Address::from_public_key(txn.sender().0),
                description: describe(txn),
            })
        })
        .collect::<Result<_, SignError>>()?;
    Ok(UnsignedGroup { transactions })
}

/// Checks the signed transactions a wallet sent back for `unsigned`: one per
/// transaction, in order, each exactly the transaction asked for (same id) and carrying
/// a valid single signature of its sender. Returns the group to journal and send.
pub fn accept_signed(unsigned: &UnsignedGroup, signed: &[Vec<u8>]) -> Result<SignedGroup, String> {
    use algonaut::transaction::transaction::TransactionSignature;
    use base64::Engine;
    use ed25519_dalek::{Signature, VerifyingKey};

    if signed.len() != unsigned.transactions.len() {
        return Err(format!(
            "expected {} signed transactions, got {}",
            unsigned.transactions.len(),
            signed.len()
        ));
    }
    let mut bytes = Vec::new();
    for (i, (raw, asked)) in signed.iter().zip(&unsigned.transactions).enumerate() {
        let stxn: SignedTransaction = rmp_serde::from_slice(raw)
            .map_err(|e| format!("transaction {i} is not a signed transaction: {e}"))?;
        let txid = stxn.transaction_id().as_str();
        if txid != asked.txid {
            return Err(format!(
                "transaction {i} is {txid}, not the transaction asked for ({})",
                asked.txid
            ));
        }
        if stxn.auth_address().is_some() {
            return Err(format!(
                "transaction {i} is signed for a rekeyed account, which is not supported"
            ));
        }
        let TransactionSignature::Single(sig) = stxn.sig() else {
            return Err(format!("transaction {i} must carry a single-key signature"));
        };
        let message = stxn.transaction().bytes_to_sign().map_err(|e| e.to_string())?;
        let key = VerifyingKey::from_bytes(asked.signer.public_key())
            .map_err(|e| format!("transaction {i}: {e}"))?;
        key.verify_strict(&message, &Signature::from_bytes(&sig.0))
            .map_err(|_| format!("transaction {i}: the signature is not {}'s", asked.signer))?;
        // Send the canonical envelope of exactly the transaction asked for, whatever else
        // the wallet's bytes carried.
        let body = base64::engine::general_purpose::STANDARD
            .decode(&asked.txn)
            .map_err(|e| format!("transaction {i}: {e}"))?;
        bytes.extend_from_slice(&envelope(&sig.0, &body));
    }
    let txid = unsigned.transactions.last().map(|t| t.txid.clone()).unwrap_or_default();
    Ok(SignedGroup { bytes, txid })
}
