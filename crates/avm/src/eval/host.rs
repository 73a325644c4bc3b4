//! The host interface: everything the evaluator needs from the ledger.
//!
//! See the [module documentation](super) for the division of labour between
//! the evaluator and the host.

use std::fmt;

/// A 32-byte Algorand address (public key or application account).
pub type Address = [u8; 32];

/// An AVM stack value: a uint64 or a byte string (at most 4096 bytes).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// A uint64.
    Uint(u64),
    /// A byte string.
    Bytes(Vec<u8>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Uint(u) => write!(f, "{u}"),
            Value::Bytes(b) => {
                write!(f, "0x")?;
                for byte in b {
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl Value {
    /// Whether this is a byte string.
    pub fn is_bytes(&self) -> bool {
        matches!(self, Value::Bytes(_))
    }
    /// go-algorand's type name (`uint64` / `[]byte`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Uint(_) => "uint64",
            Value::Bytes(_) => "[]byte",
        }
    }
}

/// Transaction type (`Type` / `TypeEnum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TxnType {
    /// Unknown / unset (TypeEnum 0, Type "").
    #[default]
    Unknown,
    /// `pay`
    Pay,
    /// `keyreg`
    Keyreg,
    /// `acfg`
    Acfg,
    /// `axfer`
    Axfer,
    /// `afrz`
    Afrz,
    /// `appl`
    Appl,
}

impl TxnType {
    /// The wire name (`pay`, `appl`, ...); empty for unknown.
    pub fn as_str(self) -> &'static str {
        match self {
            TxnType::Unknown => "",
            TxnType::Pay => "pay",
            TxnType::Keyreg => "keyreg",
            TxnType::Acfg => "acfg",
            TxnType::Axfer => "axfer",
            TxnType::Afrz => "afrz",
            TxnType::Appl => "appl",
        }
    }
    /// `TypeEnum` value.
    pub fn enum_value(self) -> u64 {
        self as u64
    }
    /// From a `TypeEnum` value.
    pub fn from_enum(v: u64) -> Option<TxnType> {
        Some(match v {
            1 => TxnType::Pay,
            2 => TxnType::Keyreg,
            3 => TxnType::Acfg,
            4 => TxnType::Axfer,
            5 => TxnType::Afrz,
            6 => TxnType::Appl,
            _ => return None,
        })
    }
    /// From a wire name.
    pub fn from_name(s: &[u8]) -> Option<TxnType> {
        Some(match s {
            b"pay" => TxnType::Pay,
            b"keyreg" => TxnType::Keyreg,
            b"acfg" => TxnType::Acfg,
            b"axfer" => TxnType::Axfer,
            b"afrz" => TxnType::Afrz,
            b"appl" => TxnType::Appl,
            _ => return None,
        })
    }
}

/// A box reference of an application call (`apbx`): `index` 0 means the
/// called app, otherwise `Applications[index]` (1-based into `foreign_apps`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoxRef {
    /// Index into the foreign apps (0 = the called app).
    pub index: u64,
    /// Box name.
    pub name: Vec<u8>,
}

/// Every transaction field the AVM exposes (plus the "apply data" effects
/// fields), as a plain struct. Unset address fields are the zero address,
/// unset byte fields are empty. The host builds one per transaction of the
/// group; the evaluator fills the effects (`logs`, `inner`, created ids) of
/// the application calls it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    /// `Sender`
    pub sender: Address,
    /// `Fee`
    pub fee: u64,
    /// `FirstValid`
    pub first_valid: u64,
    /// `LastValid`
    pub last_valid: u64,
    /// `Note`
    pub note: Vec<u8>,
    /// `Lease` (zero = none)
    pub lease: [u8; 32],
    /// `RekeyTo`
    pub rekey_to: Address,
    /// `Type` / `TypeEnum`
    pub ty: TxnType,
    /// `GroupID` of the group this transaction belongs to (zero if alone).
    pub group: [u8; 32],
    /// `TxID`: computed by the host (the evaluator does not encode msgpack).
    pub txid: [u8; 32],
    // --- payment
    /// `Receiver`
    pub receiver: Address,
    /// `Amount`
    pub amount: u64,
    /// `CloseRemainderTo`
    pub close_remainder_to: Address,
    // --- keyreg
    /// `VotePK`
    pub vote_pk: [u8; 32],
    /// `SelectionPK`
    pub selection_pk: [u8; 32],
    /// `StateProofPK` (64 bytes when set)
    pub state_proof_pk: Vec<u8>,
    /// `VoteFirst`
    pub vote_first: u64,
    /// `VoteLast`
    pub vote_last: u64,
    /// `VoteKeyDilution`
    pub vote_key_dilution: u64,
    /// `Nonparticipation`
    pub nonparticipation: bool,
    // --- asset transfer
    /// `XferAsset`
    pub xfer_asset: u64,
    /// `AssetAmount`
    pub asset_amount: u64,
    /// `AssetSender` (clawback source)
    pub asset_sender: Address,
    /// `AssetReceiver`
    pub asset_receiver: Address,
    /// `AssetCloseTo`
    pub asset_close_to: Address,
    // --- asset config
    /// `ConfigAsset`
    pub config_asset: u64,
    /// `ConfigAssetTotal`
    pub config_asset_total: u64,
    /// `ConfigAssetDecimals`
    pub config_asset_decimals: u64,
    /// `ConfigAssetDefaultFrozen`
    pub config_asset_default_frozen: bool,
    /// `ConfigAssetUnitName`
    pub config_asset_unit_name: Vec<u8>,
    /// `ConfigAssetName`
    pub config_asset_name: Vec<u8>,
    /// `ConfigAssetURL`
    pub config_asset_url: Vec<u8>,
    /// `ConfigAssetMetadataHash` (empty or 32 bytes)
    pub config_asset_metadata_hash: Vec<u8>,
    /// `ConfigAssetManager`
    pub config_asset_manager: Address,
    /// `ConfigAssetReserve`
    pub config_asset_reserve: Address,
    /// `ConfigAssetFreeze`
    pub config_asset_freeze: Address,
    /// `ConfigAssetClawback`
    pub config_asset_clawback: Address,
    // --- asset freeze
    /// `FreezeAsset`
    pub freeze_asset: u64,
    /// `FreezeAssetAccount`
    pub freeze_asset_account: Address,
    /// `FreezeAssetFrozen`
    pub freeze_asset_frozen: bool,
    // --- application call
    /// `ApplicationID` (0 = creation)
    pub application_id: u64,
    /// `OnCompletion` (0 NoOp, 1 OptIn, 2 CloseOut, 3 ClearState, 4 Update, 5 Delete)
    pub on_completion: u64,
    /// `ApplicationArgs`
    pub application_args: Vec<Vec<u8>>,
    /// `Accounts` (the foreign accounts; `Accounts[0]` in TEAL is the sender)
    pub accounts: Vec<Address>,
    /// `Assets`
    pub foreign_assets: Vec<u64>,
    /// `Applications` (the foreign apps; `Applications[0]` in TEAL is the called app)
    pub foreign_apps: Vec<u64>,
    /// Box references.
    pub boxes: Vec<BoxRef>,
    /// `ApprovalProgram`
    pub approval_program: Vec<u8>,
    /// `ClearStateProgram`
    pub clear_state_program: Vec<u8>,
    /// `GlobalNumUint`
    pub global_num_uint: u64,
    /// `GlobalNumByteSlice`
    pub global_num_byte_slice: u64,
    /// `LocalNumUint`
    pub local_num_uint: u64,
    /// `LocalNumByteSlice`
    pub local_num_byte_slice: u64,
    /// `ExtraProgramPages`
    pub extra_program_pages: u64,
    // --- effects (ApplyData)
    /// `Logs` of this transaction (filled once it has run).
    pub logs: Vec<Vec<u8>>,
    /// `CreatedAssetID`
    pub created_asset_id: u64,
    /// `CreatedApplicationID`
    pub created_application_id: u64,
    /// Inner transactions this transaction issued (filled once it has run).
    pub inner: Vec<Txn>,
}

/// Parameters of an asset (`asset_params_get`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetParams {
    /// `AssetTotal`
    pub total: u64,
    /// `AssetDecimals`
    pub decimals: u64,
    /// `AssetDefaultFrozen`
    pub default_frozen: bool,
    /// `AssetUnitName`
    pub unit_name: Vec<u8>,
    /// `AssetName`
    pub name: Vec<u8>,
    /// `AssetURL`
    pub url: Vec<u8>,
    /// `AssetMetadataHash` (empty or 32 bytes; read as 32 bytes)
    pub metadata_hash: Vec<u8>,
    /// `AssetManager`
    pub manager: Address,
    /// `AssetReserve`
    pub reserve: Address,
    /// `AssetFreeze`
    pub freeze: Address,
    /// `AssetClawback`
    pub clawback: Address,
    /// `AssetCreator`
    pub creator: Address,
}

/// An account's holding of an asset (`asset_holding_get`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssetHolding {
    /// `AssetBalance`
    pub amount: u64,
    /// `AssetFrozen`
    pub frozen: bool,
}

/// Parameters of an application (`app_params_get`, `global CreatorAddress`,
/// state schema limits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppParams {
    /// `AppApprovalProgram`
    pub approval_program: Vec<u8>,
    /// `AppClearStateProgram`
    pub clear_state_program: Vec<u8>,
    /// `AppGlobalNumUint`
    pub global_num_uint: u64,
    /// `AppGlobalNumByteSlice`
    pub global_num_byte_slice: u64,
    /// `AppLocalNumUint`
    pub local_num_uint: u64,
    /// `AppLocalNumByteSlice`
    pub local_num_byte_slice: u64,
    /// `AppExtraProgramPages`
    pub extra_program_pages: u64,
    /// `AppCreator`
    pub creator: Address,
}

/// What `balance`, `min_balance` and `acct_params_get` read about an account.
/// For an account that does not exist, return `AccountInfo::default()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountInfo {
    /// MicroAlgo balance (`balance`, `AcctBalance`); 0 = no such account.
    pub balance: u64,
    /// Minimum balance (`min_balance`, `AcctMinBalance`).
    pub min_balance: u64,
    /// `AcctAuthAddr` (zero if not rekeyed).
    pub auth_addr: Address,
    /// `AcctTotalNumUint`
    pub total_num_uint: u64,
    /// `AcctTotalNumByteSlice`
    pub total_num_byte_slice: u64,
    /// `AcctTotalExtraAppPages`
    pub total_extra_app_pages: u64,
    /// `AcctTotalAppsCreated`
    pub total_apps_created: u64,
    /// `AcctTotalAppsOptedIn`
    pub total_apps_opted_in: u64,
    /// `AcctTotalAssetsCreated`
    pub total_assets_created: u64,
    /// `AcctTotalAssets`
    pub total_assets: u64,
    /// `AcctTotalBoxes`
    pub total_boxes: u64,
    /// `AcctTotalBoxBytes`
    pub total_box_bytes: u64,
}

/// Block-level and consensus values for `global` (fixed for a group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Globals {
    /// `MinTxnFee` (1000)
    pub min_txn_fee: u64,
    /// `MinBalance` (100000)
    pub min_balance: u64,
    /// `MaxTxnLife` (1000)
    pub max_txn_life: u64,
    /// `LogicSigVersion` of the protocol (9 for this evaluator)
    pub logic_sig_version: u64,
    /// `Round`: the round being evaluated.
    pub round: u64,
    /// `LatestTimestamp`: timestamp of the previous block.
    pub latest_timestamp: u64,
}

impl Default for Globals {
    fn default() -> Globals {
        Globals {
            min_txn_fee: 1000,
            min_balance: 100_000,
            max_txn_life: 1000,
            logic_sig_version: 9,
            round: 1,
            latest_timestamp: 0,
        }
    }
}

/// The ledger as the evaluator sees it. All methods act on the *current*
/// state of the (uncommitted) block, including earlier transactions of the
/// group and inner transactions already executed.
///
/// Methods that return `Result<_, String>` fail the program with that message
/// (as go-algorand's ledger errors do). The host must make each top-level
/// transaction group atomic: when the evaluator returns an error (or the
/// program rejects) the host discards every change made through this trait
/// for the whole group.
pub trait Host {
    /// Account data; `AccountInfo::default()` when the account does not exist.
    fn account(&self, addr: &Address) -> AccountInfo;
    /// Whether `addr` is opted in to `app`.
    fn opted_in(&self, addr: &Address, app: u64) -> bool;
    /// `addr`'s holding of `asset` (None: not opted in).
    fn asset_holding(&self, addr: &Address, asset: u64) -> Option<AssetHolding>;
    /// Asset parameters (None: no such asset).
    fn asset_params(&self, asset: u64) -> Option<AssetParams>;
    /// App parameters (None: no such app).
    fn app_params(&self, app: u64) -> Option<AppParams>;

    /// A global state value of `app`.
    fn global_get(&self, app: u64, key: &[u8]) -> Option<Value>;
    /// Stores a global value. The host enforces the app's global schema
    /// (number of uint / byte-slice entries), as go-algorand's ledger does.
    fn global_put(&mut self, app: u64, key: &[u8], value: Value) -> Result<(), String>;
    /// Deletes a global value (no-op when absent).
    fn global_del(&mut self, app: u64, key: &[u8]) -> Result<(), String>;
    /// A local state value of (`addr`, `app`). Fails when `addr` is not opted
    /// in to `app` (go: "cannot fetch key, ADDR has not opted in to app N").
    fn local_get(&self, addr: &Address, app: u64, key: &[u8]) -> Result<Option<Value>, String>;
    /// Stores a local value. Fails when `addr` is not opted in, or the local
    /// schema is exceeded.
    fn local_put(
        &mut self,
        addr: &Address,
        app: u64,
        key: &[u8],
        value: Value,
    ) -> Result<(), String>;
    /// Deletes a local value. Fails when `addr` is not opted in.
    fn local_del(&mut self, addr: &Address, app: u64, key: &[u8]) -> Result<(), String>;

    /// Content of box `name` of `app`.
    fn box_get(&self, app: u64, name: &[u8]) -> Option<Vec<u8>>;
    /// Creates or overwrites a box (the evaluator has checked references,
    /// sizes and the write budget). The host charges the app account's minimum
    /// balance, which go-algorand checks at the end of the transaction.
    fn box_put(&mut self, app: u64, name: &[u8], value: Vec<u8>) -> Result<(), String>;
    /// Deletes a box (the evaluator only calls it for an existing box).
    fn box_del(&mut self, app: u64, name: &[u8]) -> Result<(), String>;

    /// Executes an inner transaction group issued by `app` right away, in
    /// order, as go-algorand's `Perform` does: checks (balances, opt-ins,
    /// asset roles, min balances at the end of the outer transaction), moves
    /// the funds and fills the effects (`created_asset_id`, ...) of each txn.
    /// Fees were already checked by the evaluator against the group's fee
    /// credit; the host debits `fee` from each sender. It may also fill `txid`
    /// and `group` of the inner transactions (read back by `itxn TxID` /
    /// `itxn GroupID`; the evaluator leaves them zero). Any error fails the
    /// calling program.
    fn submit_inner(&mut self, app: u64, group: &mut [Txn]) -> Result<(), String>;

    /// `FirstValidTime`: timestamp of block `round`, if the host has it.
    fn block_timestamp(&self, round: u64) -> Option<u64> {
        let _ = round;
        None
    }
}
