//! The devnet node: genesis, blocks made on demand and their persistence.
//!
//! Like algod's DevMode, every accepted group is sealed into its own block at once. A
//! block's timestamp is the wall clock plus an offset that tests (and users) can move
//! forward (`POST /v2/devmode/blocks/offset/{seconds}`), and never goes backwards.
//!
//! Blocks are stored in SQLite as the raw signed transactions they hold; opening a node
//! replays them from genesis, so a restart keeps the chain exactly (evaluation is
//! deterministic given the same blocks and timestamps).

use std::collections::HashMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use bitfox_domain::Address;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha512_256};

use crate::ledger::{ApplyData, Consensus, EvalError, Network, State, apply_group_at};
use crate::txn::{SignedTxn, Transaction, TxnKind};

/// The devnet's genesis id.
pub const GENESIS_ID: &str = "bitfox-devnet-v1";
/// How many funded dev accounts genesis creates.
pub const DEV_ACCOUNTS: u8 = 10;
/// Each dev account's genesis balance: 1,000,000 Algo.
pub const DEV_BALANCE: u64 = 1_000_000_000_000;
/// The dispenser's genesis balance: 1,000,000,000 Algo.
pub const DISPENSER_BALANCE: u64 = 1_000_000_000_000_000;
/// Transactions counted before the first block: created asset and app ids start above it.
pub const GENESIS_TXN_COUNTER: u64 = 1_000;

/// A dev account: its key is derived from a fixed, public seed, so it is for
/// development only.
#[derive(Clone)]
pub struct DevAccount {
    /// The signing key.
    pub key: SigningKey,
}

impl DevAccount {
    /// Dev account `index` (the dispenser is `u8::MAX`): its seed is
    /// `SHA-512/256("bitfox-devnet-dev-account" || index)`.
    pub fn new(index: u8) -> Self {
        let mut hasher = Sha512_256::new();
        hasher.update(b"bitfox-devnet-dev-account");
        hasher.update([index]);
        Self { key: SigningKey::from_bytes(&hasher.finalize().into()) }
    }

    /// The dispenser, which funds new accounts.
    pub fn dispenser() -> Self {
        Self::new(u8::MAX)
    }

    /// The account's address.
    pub fn address(&self) -> Address {
        Address::from_public_key(self.key.verifying_key().to_bytes())
    }

    /// Signs `txn` with this account's key (as its sender, or as the key it was rekeyed
    /// to).
    pub fn sign(&self, txn: Transaction) -> SignedTxn {
        use ed25519_dalek::Signer;
        let sig = self.key.sign(&txn.signing_bytes()).to_bytes();
        let auth_addr = (txn.sender != self.address()).then(|| self.address());
        SignedTxn { txn, sig: Some(sig), auth_addr }
    }
}

/// An unsigned transaction for this devnet: the minimum fee, valid for the longest window
/// starting at `first_valid`, and `note` to tell apart otherwise identical transactions.
pub fn transaction(sender: Address, first_valid: u64, note: Vec<u8>, kind: TxnKind) -> Transaction {
    let net = network();
    let consensus = Consensus::default();
    Transaction {
        sender,
        fee: consensus.min_txn_fee,
        first_valid,
        last_valid: first_valid + consensus.max_txn_life,
        note,
        genesis_id: net.genesis_id,
        genesis_hash: Some(net.genesis_hash),
        group: None,
        lease: None,
        rekey_to: None,
        kind,
    }
}

impl std::fmt::Debug for DevAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DevAccount({})", self.address())
    }
}

/// The genesis accounts: the dev accounts and the dispenser.
pub fn genesis_allocation() -> Vec<(Address, u64)> {
    let mut out: Vec<(Address, u64)> =
        (0..DEV_ACCOUNTS).map(|i| (DevAccount::new(i).address(), DEV_BALANCE)).collect();
    out.push((DevAccount::dispenser().address(), DISPENSER_BALANCE));
    out
}

/// The network identity: the genesis hash commits to the genesis id and allocation.
pub fn network() -> Network {
    let mut hasher = Sha512_256::new();
    hasher.update(GENESIS_ID.as_bytes());
    for (address, balance) in genesis_allocation() {
        hasher.update(address.public_key());
        hasher.update(balance.to_be_bytes());
    }
    Network { genesis_id: GENESIS_ID.to_owned(), genesis_hash: hasher.finalize().into() }
}

/// A transaction as confirmed in a block.
#[derive(Debug, Clone)]
pub struct Confirmed {
    /// The transaction's id.
    pub txid: String,
    /// The transaction.
    pub stxn: SignedTxn,
    /// What applying it produced.
    pub apply: ApplyData,
    /// The block it is in.
    pub round: u64,
    /// Its position in the block.
    pub index: usize,
}

/// A block's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The round.
    pub round: u64,
    /// Unix seconds.
    pub timestamp: u64,
}

/// Why a node could not be opened or a block stored.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The block store failed.
    #[error("devnet block store: {0}")]
    Store(String),
    /// A stored block no longer evaluates (the store was tampered with or the rules changed).
    #[error("stored block {round} does not replay: {error}")]
    Replay {
        /// The round.
        round: u64,
        /// Why.
        error: EvalError,
    },
}

fn store_err(e: impl std::fmt::Display) -> NodeError {
    NodeError::Store(e.to_string())
}

#[derive(QueryableByName)]
struct StoredBlock {
    #[diesel(sql_type = BigInt)]
    round: i64,
    #[diesel(sql_type = BigInt)]
    timestamp: i64,
    #[diesel(sql_type = Binary)]
    txns: Vec<u8>,
}

/// The node.
pub struct Node {
    consensus: Consensus,
    network: Network,
    state: State,
    headers: Vec<Header>,
    txns: Vec<Confirmed>,
    by_id: HashMap<String, usize>,
    offset_secs: u64,
    dispensed: u64,
    /// The block store (in a mutex only so that the node can be shared for reading
    /// across threads: it is used by the writer alone).
    db: Option<std::sync::Mutex<SqliteConnection>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("round", &self.round())
            .field("persistent", &self.db.is_some())
            .finish()
    }
}

fn wall_clock() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Node {
    /// A node at genesis, kept in memory only.
    pub fn in_memory() -> Self {
        let mut state = State { txn_counter: GENESIS_TXN_COUNTER, ..State::default() };
        for (address, balance) in genesis_allocation() {
            state.accounts.entry(address).or_default().balance = balance;
        }
        Self {
            consensus: Consensus::default(),
            network: network(),
            state,
            headers: vec![Header { round: 0, timestamp: wall_clock() }],
            txns: Vec::new(),
            by_id: HashMap::new(),
            offset_secs: 0,
            dispensed: 0,
            db: None,
        }
    }

    /// Opens (creating if needed) the node stored at `path`, replaying its blocks.
    pub fn open(path: &Path) -> Result<Self, NodeError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(store_err)?;
        }
        let url = path.to_str().ok_or_else(|| store_err("path is not UTF-8"))?;
        let mut db = SqliteConnection::establish(url).map_err(store_err)?;
        db.batch_execute(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS blocks (
                 round INTEGER PRIMARY KEY NOT NULL,
                 timestamp INTEGER NOT NULL,
                 txns BLOB NOT NULL
             );
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);",
        )
        .map_err(store_err)?;
        let stored: Vec<StoredBlock> =
            diesel::sql_query("SELECT round, timestamp, txns FROM blocks ORDER BY round")
                .load(&mut db)
                .map_err(store_err)?;
        let mut node = Self::in_memory();
        #[derive(QueryableByName)]
        struct Meta {
            #[diesel(sql_type = BigInt)]
            value: i64,
        }
        let genesis: Vec<Meta> =
            diesel::sql_query("SELECT value FROM meta WHERE key = 'genesis_timestamp'")
                .load(&mut db)
                .map_err(store_err)?;
        match genesis.first() {
            Some(meta) => node.headers[0].timestamp = u64::try_from(meta.value).unwrap_or(0),
            None => {
                diesel::sql_query("INSERT INTO meta (key, value) VALUES ('genesis_timestamp', ?)")
                    .bind::<BigInt, _>(i64::try_from(node.headers[0].timestamp).unwrap_or(0))
                    .execute(&mut db)
                    .map_err(store_err)?;
            }
        }
        for block in stored {
            let round = u64::try_from(block.round).unwrap_or(0);
            let group = SignedTxn::decode_group(&block.txns)
                .map_err(|e| NodeError::Replay { round, error: EvalError::Txn(e) })?;
            node.seal(group, u64::try_from(block.timestamp).unwrap_or(0))
                .map_err(|error| NodeError::Replay { round, error })?;
        }
        node.db = Some(std::sync::Mutex::new(db));
        Ok(node)
    }

    /// The latest round.
    pub fn round(&self) -> u64 {
        self.headers.last().map_or(0, |h| h.round)
    }

    /// The latest block's header.
    pub fn latest(&self) -> Header {
        *self.headers.last().unwrap_or(&Header { round: 0, timestamp: 0 })
    }

    /// The header of `round`, if it exists.
    pub fn header(&self, round: u64) -> Option<Header> {
        self.headers.get(usize::try_from(round).ok()?).copied()
    }

    /// The network identity.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The consensus parameters.
    pub fn consensus(&self) -> &Consensus {
        &self.consensus
    }

    /// The ledger state at the latest round.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Seconds added to the wall clock for new blocks.
    pub fn offset(&self) -> u64 {
        self.offset_secs
    }

    /// Sets the seconds added to the wall clock for new blocks (time only moves forward:
    /// a block is never older than the one before it).
    pub fn set_offset(&mut self, seconds: u64) {
        self.offset_secs = seconds;
    }

    /// A confirmed transaction by id.
    pub fn confirmed(&self, txid: &str) -> Option<&Confirmed> {
        self.by_id.get(txid).map(|i| &self.txns[*i])
    }

    /// Every confirmed transaction, oldest first.
    pub fn transactions(&self) -> &[Confirmed] {
        &self.txns
    }

    /// Decodes, evaluates and seals a group (concatenated signed transactions, as
    /// `POST /v2/transactions` receives them) into a new block; returns the first
    /// transaction's id.
    pub fn submit(&mut self, raw: &[u8]) -> Result<String, EvalError> {
        let group = SignedTxn::decode_group(raw)?;
        self.submit_decoded(group, raw)
    }

    /// [`Node::submit`] for `group`, decoded from `raw` by the caller (outside any lock).
    pub fn submit_decoded(
        &mut self,
        group: Vec<SignedTxn>,
        raw: &[u8],
    ) -> Result<String, EvalError> {
        let timestamp = self.latest().timestamp.max(wall_clock().saturating_add(self.offset_secs));
        let first = self.txns.len();
        let round = self.seal(group, timestamp)?;
        let txid = self.txns[first].txid.clone();
        if let Some(db) = &mut self.db {
            let db = db.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
            // The bytes as received: they decoded into exactly this group, so replaying
            // them rebuilds it.
            let bytes = raw.to_vec();
            let stored =
                diesel::sql_query("INSERT INTO blocks (round, timestamp, txns) VALUES (?, ?, ?)")
                    .bind::<BigInt, _>(i64::try_from(round).unwrap_or(i64::MAX))
                    .bind::<BigInt, _>(i64::try_from(timestamp).unwrap_or(i64::MAX))
                    .bind::<Binary, _>(bytes)
                    .execute(db);
            if let Err(e) = stored {
                // Keep memory and disk in step: a block that cannot be stored is undone.
                self.undo_last();
                return Err(EvalError::Group(format!("devnet could not store the block: {e}")));
            }
        }
        Ok(txid)
    }

    /// A signed payment of `amount` from the dispenser to `receiver`, valid from the next
    /// round (submit it with [`Node::submit`]).
    pub fn dispense(&mut self, receiver: Address, amount: u64) -> Vec<u8> {
        self.dispensed += 1;
        let dispenser = DevAccount::dispenser();
        let note = format!("bitfox-devnet dispenser #{}", self.dispensed).into_bytes();
        let kind = TxnKind::Payment { receiver: Some(receiver), amount, close_to: None };
        dispenser.sign(transaction(dispenser.address(), self.round() + 1, note, kind)).encode()
    }

    fn seal(&mut self, group: Vec<SignedTxn>, timestamp: u64) -> Result<u64, EvalError> {
        let round = self.round() + 1;
        let latest = self.latest().timestamp;
        let applied =
            apply_group_at(&mut self.state, &self.consensus, &self.network, round, latest, &group)?;
        self.headers.push(Header { round, timestamp });
        for (index, (stxn, apply)) in group.into_iter().zip(applied).enumerate() {
            let txid = stxn.txn.id();
            self.by_id.insert(txid.clone(), self.txns.len());
            self.txns.push(Confirmed { txid, stxn, apply, round, index });
        }
        Ok(round)
    }

    fn undo_last(&mut self) {
        // Rebuild from the stored blocks: rare (disk failure), so simplicity wins.
        let round = self.round();
        self.txns.retain(|t| t.round < round);
        self.headers.pop();
        let blocks: Vec<(Vec<SignedTxn>, u64)> = self
            .headers
            .iter()
            .skip(1)
            .map(|h| {
                let txns = self
                    .txns
                    .iter()
                    .filter(|t| t.round == h.round)
                    .map(|t| t.stxn.clone())
                    .collect();
                (txns, h.timestamp)
            })
            .collect();
        let mut fresh = Self::in_memory();
        fresh.headers[0] = self.headers[0];
        for (group, timestamp) in blocks {
            // These blocks were accepted before, in the same order.
            let _ = fresh.seal(group, timestamp);
        }
        fresh.offset_secs = self.offset_secs;
        fresh.db = self.db.take();
        *self = fresh;
    }
}
