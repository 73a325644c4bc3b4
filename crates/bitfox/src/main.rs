//! `bitfox`: the BitFox command — the clap tree and the dispatch; each command lives in
//! the `bitfox` library (`bitfox::commands`).

use std::path::PathBuf;

use anyhow::Context;
use bitfox::commands::clusters::{self, ClustersCommand};
use bitfox::commands::deploy::{self, DeployTarget};
use bitfox::commands::keys::{self, KeysCommand};
use bitfox::commands::keystore::{self, KeystoreCommand};
use bitfox::commands::{migrate, serve, watch};
use bitfox::config::{Network, Settings};
use bitfox::stack::shutdown_on_signal;
use bitfox::telemetry::init_tracing;
use clap::{Parser, Subcommand};

/// BitFox: a GPU-rental marketplace settled on Algorand.
#[derive(Debug, Parser)]
#[command(name = "bitfox", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML). Defaults to ./bitfox.toml if it exists.
    #[arg(long, global = true, env = "BITFOX_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole stack on the embedded default: migrate, then serve the API and
    /// run the background work until Ctrl-C / SIGTERM.
    Up {
        /// Port to listen on (overrides the configuration).
        #[arg(long)]
        port: Option<u16>,
        /// Settle on this network instead of the embedded devnet: `localnet`, `testnet`
        /// or `mainnet` (the contract deployed there with `bitfox deploy`; the embedded
        /// devnet is not started).
        #[arg(long)]
        network: Option<Network>,
    },
    /// Run the embedded Algorand devnet on its own (algod v2 API, dev accounts).
    Devnet {
        /// Port of the devnet's algod API (overrides the configuration).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Deploy the contract to a network (idempotent; writes
    /// `<data_dir>/deployments/<network>.json`).
    Deploy(DeployTarget),
    /// Follow the contract through the indexer and mirror its events into the database
    /// (`bitfox up` runs the same watcher in-process).
    Watch {
        /// Resync from this round (events already mirrored are skipped).
        #[arg(long)]
        from_round: Option<u64>,
        /// Catch up once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Serve the API, and the background work unless `jobs.enabled = false` (the
    /// database must be migrated).
    Api {
        /// Port to listen on (overrides the configuration).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Run the background work without HTTP: job runner, keeper and watcher (the
    /// database must be migrated). Pairs with `bitfox api` under `jobs.enabled = false`.
    Worker,
    /// Apply pending database migrations.
    Migrate,
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Clusters through the API of a running server (`--api`, default this
    /// configuration's; API key from BITFOX_API_KEY in production).
    Clusters {
        /// The API's base URL.
        #[arg(long, global = true)]
        api: Option<String>,
        #[command(subcommand)]
        command: ClustersCommand,
    },
    /// An address's shares, claimable revenue, rentals and earnings (through the API).
    Portfolio {
        /// The Algorand address.
        address: String,
        /// The API's base URL.
        #[arg(long)]
        api: Option<String>,
    },
    /// Manage the encrypted keystore of server-managed accounts (key from
    /// BITFOX_KEYSTORE_KEY: base64 of 32 random bytes).
    Keystore {
        #[command(subcommand)]
        command: KeystoreCommand,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("loading configuration")?;
    init_tracing(&settings);
    match cli.command {
        Command::Up { port, network } => {
            run_async(async move { serve::up(settings, port, network, shutdown_on_signal()).await })
        }
        Command::Api { port } => {
            run_async(async move { serve::api(settings, port, shutdown_on_signal()).await })
        }
        Command::Worker => {
            run_async(async move { serve::worker(settings, shutdown_on_signal()).await })
        }
        Command::Devnet { port } => {
            run_async(async move { serve::devnet(settings, port, shutdown_on_signal()).await })
        }
        Command::Migrate => {
            let applied = migrate::migrate(&settings)?;
            if applied.is_empty() {
                println!("database is up to date ({})", settings.database_url()?.redacted());
            }
            for version in applied {
                println!("applied {version}");
            }
            Ok(())
        }
        Command::Keys { command } => keys::keys(&settings, command),
        Command::Keystore { command } => keystore::keystore(&settings, command),
        Command::Clusters { api, command } => {
            let request = clusters::request(command)?;
            run_async(async move { clusters::call(&settings, api, request).await })
        }
        Command::Portfolio { address, api } => {
            run_async(
                async move { clusters::call(&settings, api, clusters::portfolio(&address)).await },
            )
        }
        Command::Watch { from_round, once } => run_async(async move {
            watch::watch(settings, from_round, once, shutdown_on_signal()).await
        }),
        Command::Deploy(target) => {
            run_async(async move { deploy::deploy(&settings, target).await.map(drop) })
        }
    }
}

fn run_async(future: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(future)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_commands() {
        let cli = Cli::try_parse_from(["bitfox", "up", "--port", "0"]).unwrap();
        assert!(matches!(cli.command, Command::Up { port: Some(0), network: None }));
        let cli = Cli::try_parse_from(["bitfox", "up", "--network", "localnet"]).unwrap();
        assert!(matches!(cli.command, Command::Up { network: Some(Network::Localnet), .. }));
        assert!(Cli::try_parse_from(["bitfox", "up", "--network", "moon"]).is_err());
        let cli = Cli::try_parse_from(["bitfox", "worker"]).unwrap();
        assert!(matches!(cli.command, Command::Worker));
        let cli = Cli::try_parse_from(["bitfox", "watch", "--from-round", "7", "--once"]).unwrap();
        assert!(matches!(cli.command, Command::Watch { from_round: Some(7), once: true }));
        let cli = Cli::try_parse_from(["bitfox", "--config", "x.toml", "migrate"]).unwrap();
        assert_eq!(cli.config, Some(PathBuf::from("x.toml")));
        assert!(Cli::try_parse_from(["bitfox", "keys", "revoke", "nope"]).is_err());
    }
}
