//! Named immediates ("fields") of AVM opcodes: transaction fields, global
//! fields, asset/app/account parameter fields and the small enumerations used
//! by `ecdsa_*`, `base64_decode`, `json_ref`, `vrf_verify` and `block`.
//!
//! Every field has its encoded byte (its position in the group), the stack
//! type it yields (a type letter, see [`crate::opcodes::stack_type`]) and the
//! first TEAL version in which it may be used (0 means "always").

/// A group of field names that an opcode immediate draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldGroup {
    /// Every transaction field, scalar and array (`itxn_field`, `gitxn`).
    Txn,
    /// Scalar transaction fields (`txn`, `gtxn`, `gtxns`, `itxn`).
    TxnScalar,
    /// Array transaction fields (`txna`, `gtxna`, `txnas`, ...).
    TxnArray,
    /// `global` fields.
    Global,
    /// `asset_holding_get` fields.
    AssetHolding,
    /// `asset_params_get` fields.
    AssetParams,
    /// `app_params_get` fields.
    AppParams,
    /// `acct_params_get` fields.
    AcctParams,
    /// Curves of `ecdsa_*`.
    EcdsaCurve,
    /// Encodings of `base64_decode`.
    Base64Encoding,
    /// Return types of `json_ref`.
    JsonRef,
    /// Standards of `vrf_verify`.
    VrfStandard,
    /// Fields of `block`.
    Block,
}

/// One transaction field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnField {
    /// Field name as written in TEAL.
    pub name: &'static str,
    /// Stack type letter of the value (see [`crate::opcodes::stack_type`]).
    pub ty: char,
    /// Whether this is an array field (needs an index).
    pub array: bool,
    /// First version where `txn`/`gtxn`/... may read it (0 = always).
    pub version: u8,
    /// First version where `itxn_field` may set it (0 = never settable).
    pub itxn_version: u8,
    /// Field describes transaction effects (ApplyData), e.g. `Logs`.
    pub effects: bool,
}

const fn tf(
    name: &'static str,
    ty: char,
    array: bool,
    version: u8,
    itxn_version: u8,
    effects: bool,
) -> TxnField {
    TxnField { name, ty, array, version, itxn_version, effects }
}

/// All transaction fields, indexed by their encoded value.
pub const TXN_FIELDS: &[TxnField] = &[
    tf("Sender", 'A', false, 0, 5, false),
    tf("Fee", 'i', false, 0, 5, false),
    tf("FirstValid", 'i', false, 0, 0, false),
    tf("FirstValidTime", 'i', false, 7, 0, false),
    tf("LastValid", 'i', false, 0, 0, false),
    tf("Note", 'b', false, 0, 6, false),
    tf("Lease", 'H', false, 0, 0, false),
    tf("Receiver", 'A', false, 0, 5, false),
    tf("Amount", 'i', false, 0, 5, false),
    tf("CloseRemainderTo", 'A', false, 0, 5, false),
    tf("VotePK", 'H', false, 0, 6, false),
    tf("SelectionPK", 'H', false, 0, 6, false),
    tf("VoteFirst", 'i', false, 0, 6, false),
    tf("VoteLast", 'i', false, 0, 6, false),
    tf("VoteKeyDilution", 'i', false, 0, 6, false),
    tf("Type", 'b', false, 0, 5, false),
    tf("TypeEnum", 'i', false, 0, 5, false),
    tf("XferAsset", 'i', false, 0, 5, false),
    tf("AssetAmount", 'i', false, 0, 5, false),
    tf("AssetSender", 'A', false, 0, 5, false),
    tf("AssetReceiver", 'A', false, 0, 5, false),
    tf("AssetCloseTo", 'A', false, 0, 5, false),
    tf("GroupIndex", 'i', false, 0, 0, false),
    tf("TxID", 'H', false, 0, 0, false),
    tf("ApplicationID", 'i', false, 2, 6, false),
    tf("OnCompletion", 'i', false, 2, 6, false),
    tf("ApplicationArgs", 'b', true, 2, 6, false),
    tf("NumAppArgs", 'i', false, 2, 0, false),
    tf("Accounts", 'A', true, 2, 6, false),
    tf("NumAccounts", 'i', false, 2, 0, false),
    tf("ApprovalProgram", 'b', false, 2, 6, false),
    tf("ClearStateProgram", 'b', false, 2, 6, false),
    tf("RekeyTo", 'A', false, 2, 6, false),
    tf("ConfigAsset", 'i', false, 2, 5, false),
    tf("ConfigAssetTotal", 'i', false, 2, 5, false),
    tf("ConfigAssetDecimals", 'i', false, 2, 5, false),
    tf("ConfigAssetDefaultFrozen", 'T', false, 2, 5, false),
    tf("ConfigAssetUnitName", 'b', false, 2, 5, false),
    tf("ConfigAssetName", 'b', false, 2, 5, false),
    tf("ConfigAssetURL", 'b', false, 2, 5, false),
    tf("ConfigAssetMetadataHash", 'H', false, 2, 5, false),
    tf("ConfigAssetManager", 'A', false, 2, 5, false),
    tf("ConfigAssetReserve", 'A', false, 2, 5, false),
    tf("ConfigAssetFreeze", 'A', false, 2, 5, false),
    tf("ConfigAssetClawback", 'A', false, 2, 5, false),
    tf("FreezeAsset", 'i', false, 2, 5, false),
    tf("FreezeAssetAccount", 'A', false, 2, 5, false),
    tf("FreezeAssetFrozen", 'T', false, 2, 5, false),
    tf("Assets", 'i', true, 3, 6, false),
    tf("NumAssets", 'i', false, 3, 0, false),
    tf("Applications", 'i', true, 3, 6, false),
    tf("NumApplications", 'i', false, 3, 0, false),
    tf("GlobalNumUint", 'i', false, 3, 6, false),
    tf("GlobalNumByteSlice", 'i', false, 3, 6, false),
    tf("LocalNumUint", 'i', false, 3, 6, false),
    tf("LocalNumByteSlice", 'i', false, 3, 6, false),
    tf("ExtraProgramPages", 'i', false, 4, 6, false),
    tf("Nonparticipation", 'T', false, 5, 6, false),
    tf("Logs", 'b', true, 5, 0, true),
    tf("NumLogs", 'i', false, 5, 0, true),
    tf("CreatedAssetID", 'i', false, 5, 0, true),
    tf("CreatedApplicationID", 'i', false, 5, 0, true),
    tf("LastLog", 'b', false, 6, 0, true),
    tf("StateProofPK", 'b', false, 6, 6, false),
    tf("ApprovalProgramPages", 'b', true, 7, 7, false),
    tf("NumApprovalProgramPages", 'i', false, 7, 0, false),
    tf("ClearStateProgramPages", 'b', true, 7, 7, false),
    tf("NumClearStateProgramPages", 'i', false, 7, 0, false),
];

/// A simple (non-transaction) field: name, stack type letter, min version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimpleField {
    /// Field name as written in TEAL.
    pub name: &'static str,
    /// Stack type letter of the value ('a' when the opcode does not refine it).
    pub ty: char,
    /// First version where the field is available.
    pub version: u8,
    /// Only usable in application mode (informational, for the evaluator).
    pub app_only: bool,
}

const fn sf(name: &'static str, ty: char, version: u8) -> SimpleField {
    SimpleField { name, ty, version, app_only: false }
}

const fn sfa(name: &'static str, ty: char, version: u8) -> SimpleField {
    SimpleField { name, ty, version, app_only: true }
}

/// `global` fields, indexed by encoded value.
pub const GLOBAL_FIELDS: &[SimpleField] = &[
    sf("MinTxnFee", 'i', 0),
    sf("MinBalance", 'i', 0),
    sf("MaxTxnLife", 'i', 0),
    sf("ZeroAddress", 'A', 0),
    sf("GroupSize", 'i', 0),
    sf("LogicSigVersion", 'i', 2),
    sfa("Round", 'i', 2),
    sfa("LatestTimestamp", 'i', 2),
    sfa("CurrentApplicationID", 'i', 2),
    sfa("CreatorAddress", 'A', 3),
    sfa("CurrentApplicationAddress", 'A', 5),
    sf("GroupID", 'H', 5),
    sf("OpcodeBudget", 'i', 6),
    sfa("CallerApplicationID", 'i', 6),
    sfa("CallerApplicationAddress", 'A', 6),
];

/// `asset_holding_get` fields.
pub const ASSET_HOLDING_FIELDS: &[SimpleField] =
    &[sf("AssetBalance", 'i', 2), sf("AssetFrozen", 'T', 2)];

/// `asset_params_get` fields.
pub const ASSET_PARAMS_FIELDS: &[SimpleField] = &[
    sf("AssetTotal", 'i', 2),
    sf("AssetDecimals", 'i', 2),
    sf("AssetDefaultFrozen", 'T', 2),
    sf("AssetUnitName", 'b', 2),
    sf("AssetName", 'b', 2),
    sf("AssetURL", 'b', 2),
    sf("AssetMetadataHash", 'H', 2),
    sf("AssetManager", 'A', 2),
    sf("AssetReserve", 'A', 2),
    sf("AssetFreeze", 'A', 2),
    sf("AssetClawback", 'A', 2),
    sf("AssetCreator", 'A', 5),
];

/// `app_params_get` fields.
pub const APP_PARAMS_FIELDS: &[SimpleField] = &[
    sf("AppApprovalProgram", 'b', 5),
    sf("AppClearStateProgram", 'b', 5),
    sf("AppGlobalNumUint", 'i', 5),
    sf("AppGlobalNumByteSlice", 'i', 5),
    sf("AppLocalNumUint", 'i', 5),
    sf("AppLocalNumByteSlice", 'i', 5),
    sf("AppExtraProgramPages", 'i', 5),
    sf("AppCreator", 'A', 5),
    sf("AppAddress", 'A', 5),
];

/// `acct_params_get` fields.
pub const ACCT_PARAMS_FIELDS: &[SimpleField] = &[
    sf("AcctBalance", 'i', 6),
    sf("AcctMinBalance", 'i', 6),
    sf("AcctAuthAddr", 'A', 6),
    sf("AcctTotalNumUint", 'i', 8),
    sf("AcctTotalNumByteSlice", 'i', 8),
    sf("AcctTotalExtraAppPages", 'i', 8),
    sf("AcctTotalAppsCreated", 'i', 8),
    sf("AcctTotalAppsOptedIn", 'i', 8),
    sf("AcctTotalAssetsCreated", 'i', 8),
    sf("AcctTotalAssets", 'i', 8),
    sf("AcctTotalBoxes", 'i', 8),
    sf("AcctTotalBoxBytes", 'i', 8),
];

/// `ecdsa_*` curves. Untyped ('a').
pub const ECDSA_CURVES: &[SimpleField] = &[sf("Secp256k1", 'a', 5), sf("Secp256r1", 'a', 7)];

/// `base64_decode` encodings. Untyped.
pub const BASE64_ENCODINGS: &[SimpleField] =
    &[sf("URLEncoding", 'a', 6), sf("StdEncoding", 'a', 6)];

/// `json_ref` return types.
pub const JSON_REF_TYPES: &[SimpleField] =
    &[sf("JSONString", 'b', 7), sf("JSONUint64", 'i', 7), sf("JSONObject", 'b', 7)];

/// `vrf_verify` standards. Untyped.
pub const VRF_STANDARDS: &[SimpleField] = &[sf("VrfAlgorand", 'a', 7)];

/// `block` fields.
pub const BLOCK_FIELDS: &[SimpleField] = &[sf("BlkSeed", 'b', 7), sf("BlkTimestamp", 'i', 7)];

/// Transaction type names usable as `int` constants (value = index).
pub const TXN_TYPE_NAMES: &[&str] = &["unknown", "pay", "keyreg", "acfg", "axfer", "afrz", "appl"];

/// Friendly transaction type names usable as `int` constants (value = index + 1).
pub const TXN_TYPE_DESCRIPTIONS: &[&str] = &[
    "Payment",
    "KeyRegistration",
    "AssetConfig",
    "AssetTransfer",
    "AssetFreeze",
    "ApplicationCall",
];

/// OnCompletion names usable as `int` constants (value = index).
pub const ON_COMPLETION_NAMES: &[&str] =
    &["NoOp", "OptIn", "CloseOut", "ClearState", "UpdateApplication", "DeleteApplication"];

/// The result of looking a field name up in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// Encoded byte.
    pub value: u8,
    /// Stack type letter of the value.
    pub ty: char,
    /// First version where the field may be read.
    pub version: u8,
}

fn simple(list: &[SimpleField], name: &str) -> Option<FieldInfo> {
    list.iter().position(|f| f.name == name).map(|i| FieldInfo {
        value: i as u8,
        ty: list[i].ty,
        version: list[i].version,
    })
}

impl FieldGroup {
    /// Looks `name` up in this group (respecting the scalar/array split of
    /// transaction fields).
    pub fn lookup(self, name: &str) -> Option<FieldInfo> {
        match self {
            FieldGroup::Txn | FieldGroup::TxnScalar | FieldGroup::TxnArray => {
                let i = TXN_FIELDS.iter().position(|f| f.name == name)?;
                let f = &TXN_FIELDS[i];
                let ok = match self {
                    FieldGroup::TxnScalar => !f.array,
                    FieldGroup::TxnArray => f.array,
                    _ => true,
                };
                ok.then_some(FieldInfo { value: i as u8, ty: f.ty, version: f.version })
            }
            FieldGroup::Global => simple(GLOBAL_FIELDS, name),
            FieldGroup::AssetHolding => simple(ASSET_HOLDING_FIELDS, name),
            FieldGroup::AssetParams => simple(ASSET_PARAMS_FIELDS, name),
            FieldGroup::AppParams => simple(APP_PARAMS_FIELDS, name),
            FieldGroup::AcctParams => simple(ACCT_PARAMS_FIELDS, name),
            FieldGroup::EcdsaCurve => simple(ECDSA_CURVES, name),
            FieldGroup::Base64Encoding => simple(BASE64_ENCODINGS, name),
            FieldGroup::JsonRef => simple(JSON_REF_TYPES, name),
            FieldGroup::VrfStandard => simple(VRF_STANDARDS, name),
            FieldGroup::Block => simple(BLOCK_FIELDS, name),
        }
    }

    /// All names of the group, in encoding order (array/scalar filtered for
    /// transaction groups).
    pub fn names(self) -> Vec<&'static str> {
        match self {
            FieldGroup::Txn => TXN_FIELDS.iter().map(|f| f.name).collect(),
            FieldGroup::TxnScalar => {
                TXN_FIELDS.iter().filter(|f| !f.array).map(|f| f.name).collect()
            }
            FieldGroup::TxnArray => TXN_FIELDS.iter().filter(|f| f.array).map(|f| f.name).collect(),
            other => other.simple_list().iter().map(|f| f.name).collect(),
        }
    }

    fn simple_list(self) -> &'static [SimpleField] {
        match self {
            FieldGroup::Global => GLOBAL_FIELDS,
            FieldGroup::AssetHolding => ASSET_HOLDING_FIELDS,
            FieldGroup::AssetParams => ASSET_PARAMS_FIELDS,
            FieldGroup::AppParams => APP_PARAMS_FIELDS,
            FieldGroup::AcctParams => ACCT_PARAMS_FIELDS,
            FieldGroup::EcdsaCurve => ECDSA_CURVES,
            FieldGroup::Base64Encoding => BASE64_ENCODINGS,
            FieldGroup::JsonRef => JSON_REF_TYPES,
            FieldGroup::VrfStandard => VRF_STANDARDS,
            FieldGroup::Block => BLOCK_FIELDS,
            FieldGroup::Txn | FieldGroup::TxnScalar | FieldGroup::TxnArray => &[],
        }
    }
}

/// Looks up a transaction field by name (any kind).
pub fn txn_field(name: &str) -> Option<(u8, &'static TxnField)> {
    TXN_FIELDS.iter().position(|f| f.name == name).map(|i| (i as u8, &TXN_FIELDS[i]))
}

/// Named integer constants accepted by the `int` pseudo-op (`pay`, `appl`,
/// `NoOp`, `OptIn`, `Payment`, ...).
pub fn named_int_constant(name: &str) -> Option<u64> {
    if let Some(i) = TXN_TYPE_NAMES.iter().position(|n| *n == name) {
        return Some(i as u64);
    }
    if let Some(i) = TXN_TYPE_DESCRIPTIONS.iter().position(|n| *n == name) {
        return Some(i as u64 + 1);
    }
    if name == "Unknown type. Invalid transaction" {
        return Some(0);
    }
    ON_COMPLETION_NAMES.iter().position(|n| *n == name).map(|i| i as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_numbers() {
        assert_eq!(FieldGroup::TxnScalar.lookup("Sender").unwrap().value, 0);
        assert_eq!(FieldGroup::TxnScalar.lookup("NumClearStateProgramPages").unwrap().value, 67);
        assert!(FieldGroup::TxnScalar.lookup("Accounts").is_none());
        assert_eq!(FieldGroup::TxnArray.lookup("Accounts").unwrap().value, 28);
        assert_eq!(FieldGroup::Global.lookup("CallerApplicationAddress").unwrap().value, 14);
        assert_eq!(FieldGroup::AcctParams.lookup("AcctTotalBoxBytes").unwrap().value, 11);
        assert_eq!(named_int_constant("appl"), Some(6));
        assert_eq!(named_int_constant("AssetTransfer"), Some(4));
        assert_eq!(named_int_constant("DeleteApplication"), Some(5));
    }
}
