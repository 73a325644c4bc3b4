//! `bitfox deploy`: puts the contract on a network through `bitfox-deployer`.

use anyhow::bail;
use bitfox_deployer::{Outcome, Plan};

use crate::chain::{dev_account, endpoint, mnemonic_account};
use crate::config::{Network, Settings};

/// `bitfox deploy` arguments.
#[derive(Debug, clap::Args)]
pub struct DeployTarget {
    /// `devnet` (the embedded one, which must be running), `localnet`, `testnet` or
    /// `mainnet`.
    #[arg(long, default_value = "devnet")]
    pub network: Network,
    /// algod URL (default: the devnet's, or LocalNet's http://localhost:4001).
    #[arg(long)]
    pub algod_url: Option<String>,
    /// algod API token (default: the devnet's, or LocalNet's `a` × 64).
    #[arg(long)]
    pub algod_token: Option<String>,
    /// Where the platform fee goes (default on devnet: dev account #9).
    #[arg(long)]
    pub treasury: Option<String>,
    /// Platform fee in basis points (at most 2000).
    #[arg(long, default_value_t = 250)]
    pub fee_bps: u64,
    /// Print what would be sent, send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Allow deploying to MainNet.
    #[arg(long)]
    pub allow_mainnet: bool,
}

/// Deploys the contract (idempotently) and writes the network's manifest; prints what
/// happened.
pub async fn deploy(settings: &Settings, target: DeployTarget) -> anyhow::Result<Outcome> {
    if target.network == Network::None {
        bail!("--network none has no chain to deploy to");
    }
    let devnet = target.network == Network::Devnet;
    let (url, token) = endpoint(
        settings,
        target.network,
        target.algod_url.as_deref(),
        target.algod_token.as_deref(),
    )?;
    // The deployer's key: a devnet dev account, or a mnemonic from the environment that
    // is never printed. The deployer becomes the contract's admin, which signs
    // settlements: give `bitfox up` the same key as BITFOX_OPERATOR_MNEMONIC.
    let admin = if devnet { dev_account(0) } else { mnemonic_account("BITFOX_DEPLOYER_MNEMONIC")? };
    let treasury = match (&target.treasury, devnet) {
        (Some(text), _) => text.parse().map_err(|e| anyhow::anyhow!("--treasury: {e:?}"))?,
        (None, true) => dev_account(9).address(),
        (None, false) => bail!("--treasury is required outside the devnet"),
    };
    let plan = Plan {
        network: target.network.to_string(),
        approval: bitfox_deployer::APPROVAL_TEAL.to_owned(),
        clear: bitfox_deployer::CLEAR_TEAL.to_owned(),
        contract_version: bitfox_deployer::CONTRACT_VERSION,
        treasury,
        fee_bps: target.fee_bps,
        manifest: settings.manifest_path(target.network),
        dry_run: target.dry_run,
        allow_mainnet: target.allow_mainnet,
    };
    let algod = algonaut::Algod::new(&url, &token).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let outcome = bitfox_deployer::deploy(&algod, &admin, &plan).await?;
    match &outcome {
        Outcome::Deployed(m) => {
            let new = m.newest();
            println!(
                "deployed contract v{} as app {} ({}) on {} in round {}",
                new.contract_version, new.app_id, new.app_address, m.network, new.created_round
            );
            for old in &m.versions[..m.versions.len() - 1] {
                println!(
                    "contract v{} app {} keeps settling what lives on it; new listings and \
                     clusters go to app {}",
                    old.contract_version, old.app_id, new.app_id
                );
            }
            println!("manifest: {}", plan.manifest.display());
        }
        Outcome::AlreadyDeployed(m) => {
            let new = m.newest();
            println!(
                "already deployed: contract v{} app {} ({}) on {}; nothing sent",
                new.contract_version, new.app_id, new.app_address, m.network
            );
        }
        Outcome::WouldDeploy(lines) => {
            println!("dry run; nothing sent. Would:");
            for line in lines {
                println!("  {line}");
            }
        }
    }
    Ok(outcome)
}
