//! The contract deployer (`bitfox deploy`).
//!
//! It compiles the TEAL through the target node's `/v2/teal/compile` (so the bytes are
//! the node's own), creates the application with the schema, extra page and
//! `create(address,uint64)void` call the contract expects, pays the app account its
//! minimum balance, and writes a manifest (genesis, and per contract version: app id, app
//! address, program hashes). It is idempotent: with a manifest for the same network
//! (genesis hash) whose newest app still runs the same program, it changes nothing. The
//! contract is immutable, so a newer contract version is deployed as a new app and
//! appended to the manifest; the older apps stay listed, because what lives on them (open
//! rentals, listings, clusters) is still served there. An older version than the
//! manifest's newest is refused. MainNet needs an explicit flag, and a dry run only
//! prints what would be sent.

use std::path::{Path, PathBuf};

use algonaut::Algod;
use algonaut::core::{Address, AppId, MicroAlgos};
use algonaut::transaction::account::Account;
use algonaut::transaction::transaction::StateSchema;
use algonaut::transaction::{CreateApplication, Pay};
use algonaut::{SourceMap, core::CompiledTeal};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bitfox_contract::mbr::APP_MIN_BALANCE;
use bitfox_contract::program::{CREATE, EXTRA_PAGES, GLOBAL_SCHEMA};
use bitfox_contract::selector;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512_256};

pub use bitfox_contract::program::{APPROVAL_TEAL, CLEAR_TEAL, VERSION as CONTRACT_VERSION, v1};

/// What to deploy, and where.
#[derive(Debug, Clone)]
pub struct Plan {
    /// A name for the network (`devnet`, `localnet`, `testnet`, `mainnet`), used in the
    /// manifest's file name.
    pub network: String,
    /// Approval program source (TEAL).
    pub approval: String,
    /// Clear-state program source (TEAL).
    pub clear: String,
    /// The contract version `approval` is ([`bitfox_contract::program::VERSION`] for
    /// the one this build ships).
    pub contract_version: u32,
    /// Where the platform fee goes.
    pub treasury: Address,
    /// Platform fee in basis points (the contract refuses more than 2000).
    pub fee_bps: u64,
    /// The manifest file.
    pub manifest: PathBuf,
    /// Print, do not send.
    pub dry_run: bool,
    /// Allow deploying to MainNet.
    pub allow_mainnet: bool,
}

/// The deployments of one network, as written to the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub network: String,
    pub genesis_id: String,
    /// Base64, as algod shows it.
    pub genesis_hash: String,
    /// Every contract version deployed there, oldest first; the last is where new
    /// listings and clusters go.
    pub versions: Vec<AppVersion>,
}

impl Manifest {
    /// The newest version.
    pub fn newest(&self) -> &AppVersion {
        // Never empty: a manifest is written with the version it deployed.
        self.versions.last().expect("a manifest lists at least one version")
    }

    /// The newest version's app id.
    pub fn app_id(&self) -> u64 {
        self.newest().app_id
    }
}

/// One contract version's app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppVersion {
    pub contract_version: u32,
    pub app_id: u64,
    pub app_address: String,
    /// Hex SHA-512/256 of the approval and clear bytecode.
    pub approval_hash: String,
    pub clear_hash: String,
    pub admin: String,
    pub treasury: String,
    pub fee_bps: u64,
    pub created_round: u64,
}

/// A manifest as written before contract versions: one app, which ran version 1.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SingleApp {
    network: String,
    genesis_id: String,
    genesis_hash: String,
    app_id: u64,
    app_address: String,
    approval_hash: String,
    clear_hash: String,
    admin: String,
    treasury: String,
    fee_bps: u64,
    created_round: u64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ManifestFile {
    Versions(Manifest),
    Single(SingleApp),
}

impl From<ManifestFile> for Manifest {
    fn from(file: ManifestFile) -> Self {
        match file {
            ManifestFile::Versions(m) => m,
            ManifestFile::Single(s) => Manifest {
                network: s.network,
                genesis_id: s.genesis_id,
                genesis_hash: s.genesis_hash,
                versions: vec![AppVersion {
                    contract_version: 1,
                    app_id: s.app_id,
                    app_address: s.app_address,
                    approval_hash: s.approval_hash,
                    clear_hash: s.clear_hash,
                    admin: s.admin,
                    treasury: s.treasury,
                    fee_bps: s.fee_bps,
                    created_round: s.created_round,
                }],
            },
        }
    }
}

/// What the deployer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The app was created and funded.
    Deployed(Manifest),
    /// The manifest's app already runs this program: nothing sent.
    AlreadyDeployed(Manifest),
    /// Dry run: what would be sent.
    WouldDeploy(Vec<String>),
}

/// Why a deployment did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The node or the client failed.
    #[error("algod: {0}")]
    Node(String),
    /// The target is MainNet and the flag was not given.
    #[error("refusing to deploy to MainNet ({0}) without --allow-mainnet")]
    MainNet(String),
    /// The manifest's newest app runs another program of the same or a newer contract
    /// version than the one offered: deploying it would move new listings backwards.
    #[error(
        "app {app_id} on {network} runs contract version {deployed}, which is not older than \
         the version {offered} offered; nothing deployed (manifest {manifest})"
    )]
    NotNewer {
        /// The newest deployed app.
        app_id: u64,
        /// Its contract version.
        deployed: u32,
        /// The version offered.
        offered: u32,
        /// The network.
        network: String,
        /// The manifest path.
        manifest: String,
    },
    /// The manifest could not be read or written.
    #[error("manifest {path}: {reason}")]
    Manifest {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

fn node(e: impl std::fmt::Debug) -> DeployError {
    DeployError::Node(format!("{e:?}"))
}

fn hash_hex(bytes: &[u8]) -> String {
    Sha512_256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The address of application `app_id`'s account, as the SDK's type.
pub fn app_address(app_id: u64) -> Address {
    Address(*bitfox_contract::app_address(app_id).public_key())
}

/// Reads the manifest at `path`; `None` when there is none.
pub fn read_manifest(path: &Path) -> Result<Option<Manifest>, DeployError> {
    match std::fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str::<ManifestFile>(&text) {
            Ok(file) => {
                let manifest = Manifest::from(file);
                if manifest.versions.is_empty() {
                    return Err(DeployError::Manifest {
                        path: path.display().to_string(),
                        reason: "it lists no contract version".into(),
                    });
                }
                Ok(Some(manifest))
            }
            Err(e) => Err(DeployError::Manifest {
                path: path.display().to_string(),
                reason: format!("neither a manifest of versions nor of a single app: {e}"),
            }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => {
            Err(DeployError::Manifest { path: path.display().to_string(), reason: e.to_string() })
        }
    }
}

fn write_manifest(path: &Path, manifest: &Manifest) -> Result<(), DeployError> {
    let err = |e: std::io::Error| DeployError::Manifest {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let text = serde_json::to_string_pretty(manifest).unwrap_or_default() + "\n";
    // Write then rename, so a crash never leaves half a manifest.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Deploys the contract with `admin` as creator (and the contract's admin).
pub async fn deploy(algod: &Algod, admin: &Account, plan: &Plan) -> Result<Outcome, DeployError> {
    let params = algod.suggested_params().await.map_err(node)?;
    if params.genesis_id.starts_with("mainnet") && !plan.allow_mainnet {
        return Err(DeployError::MainNet(params.genesis_id));
    }
    let genesis_hash = B64.encode(params.genesis_hash.0);
    let approval: CompiledTeal =
        algod.teal_compile(plan.approval.as_bytes(), SourceMap::Skip).await.map_err(node)?;
    let clear: CompiledTeal =
        algod.teal_compile(plan.clear.as_bytes(), SourceMap::Skip).await.map_err(node)?;
    let (approval_hash, clear_hash) = (hash_hex(&approval.0), hash_hex(&clear.0));

    // The versions already on this chain: an upgrade appends to them.
    let mut earlier = Vec::new();
    if let Some(existing) =
        read_manifest(&plan.manifest)?.filter(|m| m.genesis_hash == genesis_hash)
    {
        let newest = existing.newest();
        match algod.app(AppId(newest.app_id)).await {
            Ok(app)
                if app.params.approval_program.0 == approval.0
                    && app.params.clear_state_program.0 == clear.0 =>
            {
                return Ok(Outcome::AlreadyDeployed(existing));
            }
            Ok(_) if newest.contract_version >= plan.contract_version => {
                return Err(DeployError::NotNewer {
                    app_id: newest.app_id,
                    deployed: newest.contract_version,
                    offered: plan.contract_version,
                    network: plan.network.clone(),
                    manifest: plan.manifest.display().to_string(),
                });
            }
            // An older version runs there: this one is deployed beside it.
            Ok(_) => earlier = existing.versions,
            // The app is gone (a reset chain): deploy anew below.
            Err(_) => {}
        }
    }

    let mut args = vec![selector(CREATE.as_bytes()).to_vec(), plan.treasury.0.to_vec()];
    args.push(plan.fee_bps.to_be_bytes().to_vec());
    if plan.dry_run {
        return Ok(Outcome::WouldDeploy(vec![
            format!(
                "create app: sender {}, approval {} bytes (sha512/256 {approval_hash}), clear {} bytes, \
                 global schema {}+{}, extra pages {EXTRA_PAGES}, create(treasury {}, fee_bps {})",
                admin.address(),
                approval.0.len(),
                clear.0.len(),
                GLOBAL_SCHEMA.0,
                GLOBAL_SCHEMA.1,
                plan.treasury,
                plan.fee_bps
            ),
            format!(
                "pay {APP_MIN_BALANCE} microAlgos from {} to the new app's account",
                admin.address()
            ),
            match earlier.last() {
                Some(old) => format!(
                    "keep contract version {} (app {}) serving what lives on it, beside version {}",
                    old.contract_version, old.app_id, plan.contract_version
                ),
                None => format!("contract version {}", plan.contract_version),
            },
            format!("write {}", plan.manifest.display()),
        ]));
    }

    let schema = |ints, bytes| StateSchema { number_ints: ints, number_byteslices: bytes };
    let create = CreateApplication::new(
        admin.address(),
        approval.clone(),
        clear.clone(),
        schema(GLOBAL_SCHEMA.0, GLOBAL_SCHEMA.1),
        schema(0, 0),
    )
    .extra_pages(EXTRA_PAGES)
    .app_arguments(args)
    .build(&params)
    .map_err(node)?;
    let signed = admin.sign(create).map_err(node)?;
    let created = algod.submit(&signed).await.map_err(node)?.confirm().await.map_err(node)?;
    let app_id = created
        .application_index
        .ok_or_else(|| DeployError::Node("no application index".into()))?;
    let created_round = created.confirmed_round.unwrap_or_default();

    let params = algod.suggested_params().await.map_err(node)?;
    let fund = Pay::new(admin.address(), app_address(app_id), MicroAlgos(APP_MIN_BALANCE))
        .build(&params)
        .map_err(node)?;
    let signed = admin.sign(fund).map_err(node)?;
    algod.submit(&signed).await.map_err(node)?.confirm().await.map_err(node)?;

    let mut versions = earlier;
    versions.push(AppVersion {
        contract_version: plan.contract_version,
        app_id,
        app_address: app_address(app_id).to_string(),
        approval_hash,
        clear_hash,
        admin: admin.address().to_string(),
        treasury: plan.treasury.to_string(),
        fee_bps: plan.fee_bps,
        created_round,
    });
    let manifest = Manifest {
        network: plan.network.clone(),
        genesis_id: params.genesis_id.clone(),
        genesis_hash,
        versions,
    };
    write_manifest(&plan.manifest, &manifest)?;
    Ok(Outcome::Deployed(manifest))
}
