//! Algorand transactions: decoding from MessagePack, canonical re-encoding, ids and
//! signatures.
//!
//! Only the transaction types the devnet supports are modelled; a field this module does
//! not know is refused rather than dropped, because dropping it would change the
//! transaction's id and signature. Key registration, multisig and logic signatures are
//! decoded far enough to be refused with a clear "not supported on devnet" error.

use std::collections::BTreeMap;

use bitfox_domain::Address;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha512_256};

use crate::msgpack::{self, Value};

/// A 32-byte digest (transaction id, group id, genesis hash).
pub type Digest32 = [u8; 32];

/// Why a transaction was refused while decoding or checking it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxnError {
    /// Not MessagePack.
    #[error(transparent)]
    Msgpack(#[from] msgpack::DecodeError),
    /// A field with the wrong type or size.
    #[error("field {field}: {problem}")]
    Field {
        /// The msgpack key.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A field this node does not know.
    #[error("unknown field {0}")]
    UnknownField(String),
    /// A transaction type or signature kind the devnet refuses.
    #[error("{0} is not supported on devnet")]
    Unsupported(String),
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// No signature at all.
    #[error("transaction is not signed")]
    Unsigned,
}

fn field_err(field: &str, problem: impl Into<String>) -> TxnError {
    TxnError::Field { field: field.to_owned(), problem: problem.into() }
}

/// The fields of a msgpack map, taken one by one; whatever is left at the end is an
/// unknown field.
struct Fields(BTreeMap<String, Value>);

impl Fields {
    fn new(value: Value, what: &str) -> Result<Self, TxnError> {
        let Value::Map(entries) = value else {
            return Err(field_err(what, "must be a map"));
        };
        let mut map = BTreeMap::new();
        for (key, value) in entries {
            let Value::Str(key) = key else {
                return Err(field_err(what, "map keys must be strings"));
            };
            if map.insert(key.clone(), value).is_some() {
                return Err(field_err(&key, "appears twice"));
            }
        }
        Ok(Self(map))
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key).filter(|v| *v != Value::Nil)
    }

    fn uint(&mut self, key: &str) -> Result<u64, TxnError> {
        match self.take(key) {
            None => Ok(0),
            Some(Value::Uint(n)) => Ok(n),
            Some(_) => Err(field_err(key, "must be an unsigned integer")),
        }
    }

    fn boolean(&mut self, key: &str) -> Result<bool, TxnError> {
        match self.take(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => Err(field_err(key, "must be a boolean")),
        }
    }

    fn bytes(&mut self, key: &str) -> Result<Vec<u8>, TxnError> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Bytes(b)) => Ok(b),
            Some(_) => Err(field_err(key, "must be a byte string")),
        }
    }

    fn string(&mut self, key: &str) -> Result<String, TxnError> {
        match self.take(key) {
            None => Ok(String::new()),
            Some(Value::Str(s)) => Ok(s),
            Some(_) => Err(field_err(key, "must be a string")),
        }
    }

    fn fixed<const N: usize>(&mut self, key: &str) -> Result<Option<[u8; N]>, TxnError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bytes(b)) => {
                let array: [u8; N] =
                    b.try_into().map_err(|_| field_err(key, format!("must be {N} bytes")))?;
                Ok((array != [0u8; N]).then_some(array))
            }
            Some(_) => Err(field_err(key, "must be a byte string")),
        }
    }

    fn address(&mut self, key: &str) -> Result<Option<Address>, TxnError> {
        Ok(self.fixed::<32>(key)?.map(Address::from_public_key))
    }

    fn array(&mut self, key: &str) -> Result<Vec<Value>, TxnError> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(field_err(key, "must be an array")),
        }
    }

    fn finish(self) -> Result<(), TxnError> {
        match self.0.into_keys().next() {
            None => Ok(()),
            Some(key) => Err(TxnError::UnknownField(key)),
        }
    }
}

/// Asset parameters (`apar`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetParams {
    pub total: u64,
    pub decimals: u64,
    pub default_frozen: bool,
    pub unit_name: String,
    pub asset_name: String,
    pub url: String,
    pub metadata_hash: Option<Digest32>,
    pub manager: Option<Address>,
    pub reserve: Option<Address>,
    pub freeze: Option<Address>,
    pub clawback: Option<Address>,
}

/// A state schema (`apgs` / `apls`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateSchema {
    pub num_uint: u64,
    pub num_byte_slice: u64,
}

/// A box reference (`apbx`): an index into the foreign apps (0 = this app) and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxRef {
    pub app_index: u64,
    pub name: Vec<u8>,
}

/// What an application call does on completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnComplete {
    #[default]
    NoOp,
    OptIn,
    CloseOut,
    ClearState,
    UpdateApplication,
    DeleteApplication,
}

impl OnComplete {
    /// The numeric value used on the wire and in TEAL.
    pub const fn as_u64(self) -> u64 {
        match self {
            Self::NoOp => 0,
            Self::OptIn => 1,
            Self::CloseOut => 2,
            Self::ClearState => 3,
            Self::UpdateApplication => 4,
            Self::DeleteApplication => 5,
        }
    }

    fn from_u64(n: u64) -> Option<Self> {
        Some(match n {
            0 => Self::NoOp,
            1 => Self::OptIn,
            2 => Self::CloseOut,
            3 => Self::ClearState,
            4 => Self::UpdateApplication,
            5 => Self::DeleteApplication,
            _ => return None,
        })
    }
}

/// An application call (`appl`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppCall {
    pub app_id: u64,
    pub on_complete: OnComplete,
    pub args: Vec<Vec<u8>>,
    pub accounts: Vec<Address>,
    pub foreign_apps: Vec<u64>,
    pub foreign_assets: Vec<u64>,
    pub approval_program: Vec<u8>,
    pub clear_program: Vec<u8>,
    pub global_schema: StateSchema,
    pub local_schema: StateSchema,
    pub extra_pages: u64,
    pub boxes: Vec<BoxRef>,
}

/// The type-specific part of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnKind {
    /// `pay`.
    Payment { receiver: Option<Address>, amount: u64, close_to: Option<Address> },
    /// `acfg`: create (`asset_id` 0), reconfigure, or destroy (`params` `None`).
    AssetConfig { asset_id: u64, params: Option<AssetParams> },
    /// `axfer`: opt-in, transfer, close-out or clawback (`asset_sender`).
    AssetTransfer {
        asset_id: u64,
        amount: u64,
        asset_sender: Option<Address>,
        receiver: Option<Address>,
        close_to: Option<Address>,
    },
    /// `afrz`.
    AssetFreeze { account: Option<Address>, asset_id: u64, frozen: bool },
    /// `appl`.
    AppCall(AppCall),
}

impl TxnKind {
    /// The wire name of the type.
    pub const fn type_name(&self) -> &'static str {
        match self {
            Self::Payment { .. } => "pay",
            Self::AssetConfig { .. } => "acfg",
            Self::AssetTransfer { .. } => "axfer",
            Self::AssetFreeze { .. } => "afrz",
            Self::AppCall(_) => "appl",
        }
    }
}

/// A transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub sender: Address,
    pub fee: u64,
    pub first_valid: u64,
    pub last_valid: u64,
    pub note: Vec<u8>,
    pub genesis_id: String,
    pub genesis_hash: Option<Digest32>,
    pub group: Option<Digest32>,
    pub lease: Option<Digest32>,
    pub rekey_to: Option<Address>,
    pub kind: TxnKind,
}

fn addr_value(a: Option<Address>) -> Value {
    a.map_or(Value::Nil, |a| Value::Bytes(a.public_key().to_vec()))
}

fn digest_value(d: Option<Digest32>) -> Value {
    d.map_or(Value::Nil, |d| Value::Bytes(d.to_vec()))
}

fn schema_value(s: StateSchema) -> Value {
    Value::canonical_map(vec![
        ("nbs", Value::Uint(s.num_byte_slice)),
        ("nui", Value::Uint(s.num_uint)),
    ])
}

fn parse_schema(value: Option<Value>, key: &str) -> Result<StateSchema, TxnError> {
    let Some(value) = value else { return Ok(StateSchema::default()) };
    let mut f = Fields::new(value, key)?;
    let schema = StateSchema { num_uint: f.uint("nui")?, num_byte_slice: f.uint("nbs")? };
    f.finish()?;
    Ok(schema)
}

impl Transaction {
    /// Decodes a transaction from its msgpack map.
    pub fn from_value(value: Value) -> Result<Self, TxnError> {
        let mut f = Fields::new(value, "txn")?;
        let kind_name = f.string("type")?;
        let sender = f.address("snd")?.ok_or_else(|| field_err("snd", "is required"))?;
        let header = (
            f.uint("fee")?,
            f.uint("fv")?,
            f.uint("lv")?,
            f.bytes("note")?,
            f.string("gen")?,
            f.fixed::<32>("gh")?,
            f.fixed::<32>("grp")?,
            f.fixed::<32>("lx")?,
            f.address("rekey")?,
        );
        let kind = match kind_name.as_str() {
            "pay" => TxnKind::Payment {
                receiver: f.address("rcv")?,
                amount: f.uint("amt")?,
                close_to: f.address("close")?,
            },
            "acfg" => {
                let asset_id = f.uint("caid")?;
                let params = match f.take("apar") {
                    None => None,
                    Some(value) => {
                        let mut p = Fields::new(value, "apar")?;
                        let params = AssetParams {
                            total: p.uint("t")?,
                            decimals: p.uint("dc")?,
                            default_frozen: p.boolean("df")?,
                            unit_name: p.string("un")?,
                            asset_name: p.string("an")?,
                            url: p.string("au")?,
                            metadata_hash: p.fixed::<32>("am")?,
                            manager: p.address("m")?,
                            reserve: p.address("r")?,
                            freeze: p.address("f")?,
                            clawback: p.address("c")?,
                        };
                        p.finish()?;
                        (params != AssetParams::default()).then_some(params)
                    }
                };
                TxnKind::AssetConfig { asset_id, params }
            }
            "axfer" => TxnKind::AssetTransfer {
                asset_id: f.uint("xaid")?,
                amount: f.uint("aamt")?,
                asset_sender: f.address("asnd")?,
                receiver: f.address("arcv")?,
                close_to: f.address("aclose")?,
            },
            "afrz" => TxnKind::AssetFreeze {
                account: f.address("fadd")?,
                asset_id: f.uint("faid")?,
                frozen: f.boolean("afrz")?,
            },
            "appl" => {
                let on_complete = f.uint("apan")?;
                let app = AppCall {
                    app_id: f.uint("apid")?,
                    on_complete: OnComplete::from_u64(on_complete)
                        .ok_or_else(|| field_err("apan", "must be 0 to 5"))?,
                    args: f
                        .array("apaa")?
                        .into_iter()
                        .map(|v| match v {
                            Value::Bytes(b) => Ok(b),
                            Value::Nil => Ok(Vec::new()),
                            _ => Err(field_err("apaa", "must hold byte strings")),
                        })
                        .collect::<Result<_, _>>()?,
                    accounts: f
                        .array("apat")?
                        .into_iter()
                        .map(|v| match v {
                            Value::Bytes(b) => <[u8; 32]>::try_from(b)
                                .map(Address::from_public_key)
                                .map_err(|_| field_err("apat", "must hold 32-byte addresses")),
                            _ => Err(field_err("apat", "must hold 32-byte addresses")),
                        })
                        .collect::<Result<_, _>>()?,
                    foreign_apps: uints(f.array("apfa")?, "apfa")?,
                    foreign_assets: uints(f.array("apas")?, "apas")?,
                    approval_program: f.bytes("apap")?,
                    clear_program: f.bytes("apsu")?,
                    global_schema: parse_schema(f.take("apgs"), "apgs")?,
                    local_schema: parse_schema(f.take("apls"), "apls")?,
                    extra_pages: f.uint("apep")?,
                    boxes: f
                        .array("apbx")?
                        .into_iter()
                        .map(|v| {
                            let mut b = Fields::new(v, "apbx")?;
                            let r = BoxRef { app_index: b.uint("i")?, name: b.bytes("n")? };
                            b.finish()?;
                            Ok(r)
                        })
                        .collect::<Result<_, TxnError>>()?,
                };
                TxnKind::AppCall(app)
            }
            "keyreg" => return Err(TxnError::Unsupported("key registration".into())),
            "stpf" | "hb" => {
                return Err(TxnError::Unsupported(format!("transaction type {kind_name}")));
            }
            "" => return Err(field_err("type", "is required")),
            other => return Err(field_err("type", format!("unknown transaction type {other:?}"))),
        };
        f.finish()?;
        let (fee, first_valid, last_valid, note, genesis_id, genesis_hash, group, lease, rekey_to) =
            header;
        Ok(Self {
            sender,
            fee,
            first_valid,
            last_valid,
            note,
            genesis_id,
            genesis_hash,
            group,
            lease,
            rekey_to,
            kind,
        })
    }

    /// The canonical msgpack map.
    pub fn to_value(&self) -> Value {
        let mut fields = vec![
            ("snd", addr_value(Some(self.sender))),
            ("fee", Value::Uint(self.fee)),
            ("fv", Value::Uint(self.first_valid)),
            ("lv", Value::Uint(self.last_valid)),
            ("note", Value::Bytes(self.note.clone())),
            ("gen", Value::Str(self.genesis_id.clone())),
            ("gh", digest_value(self.genesis_hash)),
            ("grp", digest_value(self.group)),
            ("lx", digest_value(self.lease)),
            ("rekey", addr_value(self.rekey_to)),
            ("type", Value::Str(self.kind.type_name().to_owned())),
        ];
        match &self.kind {
            TxnKind::Payment { receiver, amount, close_to } => fields.extend([
                ("rcv", addr_value(*receiver)),
                ("amt", Value::Uint(*amount)),
                ("close", addr_value(*close_to)),
            ]),
            TxnKind::AssetConfig { asset_id, params } => {
                fields.push(("caid", Value::Uint(*asset_id)));
                if let Some(p) = params {
                    fields.push((
                        "apar",
                        Value::canonical_map(vec![
                            ("t", Value::Uint(p.total)),
                            ("dc", Value::Uint(p.decimals)),
                            ("df", Value::Bool(p.default_frozen)),
                            ("un", Value::Str(p.unit_name.clone())),
                            ("an", Value::Str(p.asset_name.clone())),
                            ("au", Value::Str(p.url.clone())),
                            ("am", digest_value(p.metadata_hash)),
                            ("m", addr_value(p.manager)),
                            ("r", addr_value(p.reserve)),
                            ("f", addr_value(p.freeze)),
                            ("c", addr_value(p.clawback)),
                        ]),
                    ));
                }
            }
            TxnKind::AssetTransfer { asset_id, amount, asset_sender, receiver, close_to } => fields
                .extend([
                    ("xaid", Value::Uint(*asset_id)),
                    ("aamt", Value::Uint(*amount)),
                    ("asnd", addr_value(*asset_sender)),
                    ("arcv", addr_value(*receiver)),
                    ("aclose", addr_value(*close_to)),
                ]),
            TxnKind::AssetFreeze { account, asset_id, frozen } => fields.extend([
                ("fadd", addr_value(*account)),
                ("faid", Value::Uint(*asset_id)),
                ("afrz", Value::Bool(*frozen)),
            ]),
            TxnKind::AppCall(app) => fields.extend([
                ("apid", Value::Uint(app.app_id)),
                ("apan", Value::Uint(app.on_complete.as_u64())),
                ("apaa", Value::Array(app.args.iter().map(|a| Value::Bytes(a.clone())).collect())),
                ("apat", Value::Array(app.accounts.iter().map(|a| addr_value(Some(*a))).collect())),
                ("apfa", Value::Array(app.foreign_apps.iter().map(|n| Value::Uint(*n)).collect())),
                (
                    "apas",
                    Value::Array(app.foreign_assets.iter().map(|n| Value::Uint(*n)).collect()),
                ),
                ("apap", Value::Bytes(app.approval_program.clone())),
                ("apsu", Value::Bytes(app.clear_program.clone())),
                ("apgs", schema_value(app.global_schema)),
                ("apls", schema_value(app.local_schema)),
                ("apep", Value::Uint(app.extra_pages)),
                (
                    "apbx",
                    Value::Array(
                        app.boxes
                            .iter()
                            .map(|b| {
                                Value::canonical_map(vec![
                                    ("i", Value::Uint(b.app_index)),
                                    ("n", Value::Bytes(b.name.clone())),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ]),
        }
        Value::canonical_map(fields)
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        self.to_value().encode()
    }

    /// The bytes that are signed and hashed: `"TX"` followed by the canonical encoding.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut bytes = b"TX".to_vec();
        self.to_value().write(&mut bytes);
        bytes
    }

    /// The raw transaction id: SHA-512/256 of the signing bytes.
    pub fn id_bytes(&self) -> Digest32 {
        Sha512_256::digest(self.signing_bytes()).into()
    }

    /// The transaction id as algod shows it (base32, 52 characters).
    pub fn id(&self) -> String {
        base32_nopad(&self.id_bytes())
    }
}

fn uints(items: Vec<Value>, key: &str) -> Result<Vec<u64>, TxnError> {
    items
        .into_iter()
        .map(|v| match v {
            Value::Uint(n) => Ok(n),
            Value::Nil => Ok(0),
            _ => Err(field_err(key, "must hold unsigned integers")),
        })
        .collect()
}

/// The group id of transactions with ids `ids`: SHA-512/256 of `"TG"` followed by the
/// canonical encoding of `{"txlist": [id, ...]}`.
pub fn group_id(ids: &[Digest32]) -> Digest32 {
    let list = Value::canonical_map(vec![(
        "txlist",
        Value::Array(ids.iter().map(|id| Value::Bytes(id.to_vec())).collect()),
    )]);
    let mut bytes = b"TG".to_vec();
    list.write(&mut bytes);
    Sha512_256::digest(bytes).into()
}

/// RFC 4648 base32 without padding (transaction ids).
pub fn base32_nopad(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A signed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTxn {
    pub txn: Transaction,
    pub sig: Option<[u8; 64]>,
    /// The authorising address, when it differs from the sender (rekeyed accounts).
    pub auth_addr: Option<Address>,
}

impl SignedTxn {
    /// Decodes a signed transaction from its msgpack map. Multisig and logic signatures
    /// are refused.
    pub fn from_value(value: Value) -> Result<Self, TxnError> {
        let mut f = Fields::new(value, "signed transaction")?;
        if f.take("msig").is_some() {
            return Err(TxnError::Unsupported("multisig".into()));
        }
        if f.take("lsig").is_some() {
            return Err(TxnError::Unsupported("logic signature".into()));
        }
        let sig = f.fixed::<64>("sig")?;
        // algonaut writes `sgnr: nil`; `take` treats nil as absent, as algod does.
        let auth_addr = f.address("sgnr")?;
        let txn = f.take("txn").ok_or_else(|| field_err("txn", "is required"))?;
        let txn = Transaction::from_value(txn)?;
        f.finish()?;
        Ok(Self { txn, sig, auth_addr })
    }

    /// Decodes one signed transaction from bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, TxnError> {
        Self::from_value(msgpack::decode(bytes)?)
    }

    /// Decodes concatenated signed transactions (the body of a raw submit).
    pub fn decode_group(bytes: &[u8]) -> Result<Vec<Self>, TxnError> {
        msgpack::decode_stream(bytes)?.into_iter().map(Self::from_value).collect()
    }

    /// The canonical msgpack map.
    pub fn to_value(&self) -> Value {
        Value::canonical_map(vec![
            ("sig", self.sig.map_or(Value::Nil, |s| Value::Bytes(s.to_vec()))),
            ("sgnr", addr_value(self.auth_addr)),
            ("txn", self.txn.to_value()),
        ])
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        self.to_value().encode()
    }

    /// The key that must have signed: the auth address if given, else the sender.
    pub fn signer(&self) -> Address {
        self.auth_addr.unwrap_or(self.txn.sender)
    }

    /// Checks the ed25519 signature against [`SignedTxn::signer`].
    pub fn verify(&self) -> Result<(), TxnError> {
        let sig = self.sig.ok_or(TxnError::Unsigned)?;
        let key = VerifyingKey::from_bytes(self.signer().public_key())
            .map_err(|_| TxnError::BadSignature)?;
        key.verify(&self.txn.signing_bytes(), &Signature::from_bytes(&sig))
            .map_err(|_| TxnError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Address {
        Address::from_public_key([n; 32])
    }

    fn payment() -> Transaction {
        Transaction {
            sender: addr(1),
            fee: 1000,
            first_valid: 1,
            last_valid: 1001,
            note: b"hello".to_vec(),
            genesis_id: "bitfox-devnet-v1".into(),
            genesis_hash: Some([9; 32]),
            group: None,
            lease: None,
            rekey_to: None,
            kind: TxnKind::Payment { receiver: Some(addr(2)), amount: 5_000, close_to: None },
        }
    }

    #[test]
    fn round_trips_through_canonical_msgpack() {
        let txn = payment();
        let decoded = Transaction::from_value(msgpack::decode(&txn.encode()).unwrap()).unwrap();
        assert_eq!(decoded, txn);
        assert_eq!(txn.id().len(), 52);
    }

    #[test]
    fn refuses_unknown_fields_and_unsupported_kinds() {
        let Value::Map(mut entries) = payment().to_value() else { panic!() };
        entries.push((Value::Str("zzz".into()), Value::Uint(1)));
        assert_eq!(
            Transaction::from_value(Value::Map(entries)),
            Err(TxnError::UnknownField("zzz".into()))
        );
        let keyreg = Value::canonical_map(vec![
            ("snd", Value::Bytes(vec![1; 32])),
            ("type", Value::Str("keyreg".into())),
        ]);
        assert_eq!(
            Transaction::from_value(keyreg),
            Err(TxnError::Unsupported("key registration".into()))
        );
    }

    #[test]
    fn nil_signer_is_accepted_and_dropped() {
        let stxn = Value::Map(vec![
            (Value::Str("sgnr".into()), Value::Nil),
            (Value::Str("txn".into()), payment().to_value()),
        ]);
        let decoded = SignedTxn::from_value(stxn).unwrap();
        assert_eq!(decoded.auth_addr, None);
        assert_eq!(decoded.verify(), Err(TxnError::Unsigned));
    }
}
