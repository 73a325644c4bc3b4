//! Reaching the chain: algod and indexer endpoints per network, the accounts the
//! server signs for, and the chain port the jobs use.

use std::sync::Arc;

use anyhow::{Context, bail};
use bitfox_chain::client::Contract;
use bitfox_chain::keystore::{Keystore, KeystoreKey};
use bitfox_chain::port::AlgorandChain;
use bitfox_chain::signer::Keyring;
use bitfox_deployer::{Outcome, Plan};
use bitfox_devnet::node::{DEV_ACCOUNTS, DevAccount};
use bitfox_domain::chain::{ChainPort, Unconfigured};
use bitfox_store::Store;
use bitfox_watcher::Watcher;
use bitfox_watcher::indexer::{Blocks, Indexer};

use crate::config::{Network, Settings};

/// The algod endpoint of `network`: the given URL and token, or the defaults (the
/// devnet's own, LocalNet's well-known ones).
pub fn endpoint(
    settings: &Settings,
    network: Network,
    url: Option<&str>,
    token: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let url = match (url, network) {
        (Some(url), _) => url.to_owned(),
        (None, Network::Devnet) => {
            format!("http://{}:{}", settings.devnet.host, settings.devnet.port)
        }
        (None, Network::Localnet) => "http://localhost:4001".to_owned(),
        (None, other) => {
            bail!("an algod URL is required for network {other:?} (--algod-url or chain.algod_url)")
        }
    };
    let token = match (token, network) {
        (Some(token), _) => token.to_owned(),
        (None, Network::Devnet) => settings.devnet.token.clone(),
        (None, _) => "a".repeat(64),
    };
    Ok((url, token))
}

/// The indexer of `settings.chain`: the configured one, or the devnet's own search, or
/// LocalNet's.
pub fn indexer_endpoint(
    settings: &Settings,
    devnet_url: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let network = settings.chain.network;
    let url = match (&settings.chain.indexer_url, network) {
        (Some(url), _) => url.clone(),
        (None, Network::Devnet) => endpoint(settings, network, devnet_url, None)?.0,
        (None, Network::Localnet) => "http://localhost:8980".to_owned(),
        (None, other) => bail!("chain.indexer_url is required for network {other:?}"),
    };
    let token = match (&settings.chain.indexer_token, network) {
        (Some(token), _) => token.clone(),
        (None, Network::Devnet) => settings.devnet.token.clone(),
        (None, _) => "a".repeat(64),
    };
    Ok((url, token))
}

/// Dev account `index` of the devnet, as a signing account.
pub fn dev_account(index: u8) -> algonaut::transaction::account::Account {
    algonaut::transaction::account::Account::from_seed(DevAccount::new(index).key.to_bytes())
}

/// The account whose 25-word mnemonic is in the environment variable `variable`.
pub fn mnemonic_account(variable: &str) -> anyhow::Result<algonaut::transaction::account::Account> {
    let mnemonic = std::env::var(variable)
        .with_context(|| format!("set {variable} to the account's 25-word mnemonic"))?;
    algonaut::transaction::account::Account::from_mnemonic(&mnemonic)
        .map_err(|e| anyhow::anyhow!("{variable}: {e:?}"))
}

/// The keystore's key from `BITFOX_KEYSTORE_KEY`, if set.
pub fn keystore_key() -> anyhow::Result<Option<KeystoreKey>> {
    match std::env::var("BITFOX_KEYSTORE_KEY") {
        Ok(text) => Ok(Some(KeystoreKey::from_base64(&text).context("BITFOX_KEYSTORE_KEY")?)),
        Err(_) => Ok(None),
    }
}

/// A chain port, and the apps it calls (none without a chain).
pub struct Connected {
    /// What the jobs and the API use.
    pub port: Arc<dyn ChainPort>,
    /// Every contract version's application id, oldest first (empty without a chain).
    pub apps: Vec<u64>,
}

/// The watcher of `app_id`, through the configured indexer (by default the devnet's
/// own search, or LocalNet's indexer).
pub fn watcher_for(
    settings: &Settings,
    store: Store,
    app_id: u64,
    devnet_url: Option<&str>,
) -> anyhow::Result<Watcher> {
    let (url, token) = indexer_endpoint(settings, devnet_url)?;
    eprintln!("  watcher         indexer {url}, app {app_id}");
    let algod = settings.chain.algod_url.as_deref().or(devnet_url);
    let (algod, algod_token) =
        endpoint(settings, settings.chain.network, algod, settings.chain.algod_token.as_deref())?;
    Ok(Watcher::new(store, Indexer::new(&url, &token), app_id)
        .with_blocks(Blocks::new(&algod, &algod_token)))
}

/// The chain port of `settings.chain`: on the devnet the contract is deployed once
/// (idempotently) and the dev accounts are signed for; elsewhere the deployment
/// manifest written by `bitfox deploy` names the app and the operator key signs.
pub async fn connect(settings: &Settings, devnet_url: Option<String>) -> anyhow::Result<Connected> {
    let network = settings.chain.network;
    if network == Network::None {
        eprintln!(
            "  chain           none: rent and stop jobs stay queued (chain.network = \"none\")"
        );
        return Ok(Connected { port: Arc::new(Unconfigured), apps: Vec::new() });
    }
    let url = settings.chain.algod_url.clone().or(devnet_url.clone());
    let (url, token) =
        endpoint(settings, network, url.as_deref(), settings.chain.algod_token.as_deref())?;
    let algod = algonaut::Algod::new(&url, &token).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let manifest_path = settings.manifest_path(network);
    let mut keys = Keyring::new();
    // Server-managed accounts, if a keystore key is given.
    let mut managed_operator = None;
    if let Some(key) = keystore_key()? {
        let path = settings.keystore_path();
        for (label, account) in Keystore::open(&path)?.unlock(&key)? {
            let address = keys.insert(account);
            eprintln!("  managed account {address} ({label})");
            if label == "operator" {
                managed_operator = Some(address);
            }
        }
    }
    if let Some(kmd_url) = &settings.chain.kmd_url {
        let token = settings.chain.kmd_token.clone().unwrap_or_else(|| "a".repeat(64));
        let wallet = &settings.chain.kmd_wallet;
        let accounts =
            bitfox_chain::kmd::accounts(kmd_url, &token, wallet, &settings.chain.kmd_password)
                .await?;
        for account in accounts {
            eprintln!("  kmd account     {} ({wallet})", keys.insert(account));
        }
    }
    let (manifest, operator) = if network == Network::Devnet {
        let admin = dev_account(0);
        let plan = Plan {
            network: network.to_string(),
            approval: bitfox_deployer::APPROVAL_TEAL.to_owned(),
            clear: bitfox_deployer::CLEAR_TEAL.to_owned(),
            contract_version: bitfox_deployer::CONTRACT_VERSION,
            treasury: dev_account(9).address(),
            fee_bps: settings.chain.fee_bps,
            manifest: manifest_path.clone(),
            dry_run: false,
            allow_mainnet: false,
        };
        let manifest = match bitfox_deployer::deploy(&algod, &admin, &plan)
            .await
            .with_context(|| format!("deploying the contract to the devnet at {url}"))?
        {
            Outcome::Deployed(m) | Outcome::AlreadyDeployed(m) => m,
            Outcome::WouldDeploy(_) => bail!("a dry run cannot serve"),
        };
        for index in 0..DEV_ACCOUNTS {
            keys.insert(dev_account(index));
        }
        (manifest, keys.insert(admin))
    } else {
        let manifest = bitfox_deployer::read_manifest(&manifest_path)?.with_context(|| {
            format!(
                "no deployment manifest at {}: run `bitfox deploy --network {network}` first",
                manifest_path.display()
            )
        })?;
        let operator = match managed_operator {
            Some(operator) => operator,
            None => keys.insert(mnemonic_account("BITFOX_OPERATOR_MNEMONIC").context(
                "no `operator` in the keystore: add it with `bitfox keystore add --label operator`, \
                 or set BITFOX_OPERATOR_MNEMONIC",
            )?),
        };
        (manifest, operator)
    };
    for version in &manifest.versions {
        eprintln!(
            "  contract        v{} app {} ({}) on {network}, fee {} bps{}",
            version.contract_version,
            version.app_id,
            version.app_address,
            version.fee_bps,
            if version.app_id == manifest.app_id() { "; new listings go here" } else { "" }
        );
    }
    eprintln!("  manifest        {}", manifest_path.display());
    eprintln!("  operator        {operator} signs settlements");
    // Without an indexer a group resent after its validity could not be told committed
    // or lost: required.
    let (indexer, indexer_token) = indexer_endpoint(settings, devnet_url.as_deref())?;
    let mut contracts = Vec::new();
    for version in &manifest.versions {
        let contract =
            Contract::new(algod.clone(), version.app_id).with_indexer(&indexer, &indexer_token);
        // Settlements before a deposit is used up need the contract's admin.
        let admin = contract.global_address("admin").await?;
        if admin != Some(operator) {
            bail!(
                "the operator {operator} is not the admin of app {} ({}): settlements would be \
                 refused",
                version.app_id,
                admin.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
            );
        }
        contracts.push(contract);
    }
    let apps: Vec<u64> = contracts.iter().map(Contract::app_id).collect();
    let newest = contracts.pop().context("the manifest lists no contract version")?;
    // A wallet's group must die before the checkout window ends: Algorand makes a block
    // about every 2.8 s, so one round per 3 s of the window.
    let wallet_rounds = settings.jobs.checkout_window_secs / 3;
    let mut port = AlgorandChain::new(format!("algorand {network}"), newest, keys, operator)
        .with_wallet_validity(wallet_rounds);
    for older in contracts {
        port = port.with_older(older);
    }
    Ok(Connected { port: Arc::new(port), apps })
}
