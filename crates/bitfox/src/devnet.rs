//! The embedded Algorand devnet, as `bitfox up` and `bitfox devnet` start it.

use anyhow::Context;
use bitfox_devnet::node::{DEV_ACCOUNTS, DevAccount, Node};
use bitfox_devnet::server::{self, Shared};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;

/// Opens the devnet's chain and binds its algod API; prints where it is and the dev
/// accounts (with their mnemonics: development keys). Returns the server and its URL.
pub fn start(settings: &Settings) -> anyhow::Result<(actix_web::dev::Server, String)> {
    let path = settings.devnet_path();
    let node = Node::open(&path)
        .with_context(|| format!("opening the devnet chain {}", path.display()))?;
    let round = node.round();
    let shared = Shared::new(node, Some(settings.devnet.token.clone()));
    let listener = std::net::TcpListener::bind((settings.devnet.host, settings.devnet.port))
        .with_context(|| format!("binding the devnet to port {}", settings.devnet.port))?;
    let url = format!("http://{}:{}", settings.devnet.host, listener.local_addr()?.port());
    let server = server::build(shared, listener, 1)?;
    eprintln!("  Algorand devnet {url}  (algod v2 API, round {round}, chain {})", path.display());
    eprintln!("  devnet token    {}", settings.devnet.token);
    eprintln!(
        "  dev accounts    (funded with 1,000,000 Algo each; development keys, never use them elsewhere)"
    );
    for index in 0..DEV_ACCOUNTS {
        let account = DevAccount::new(index);
        let mnemonic =
            algonaut::transaction::account::Account::from_seed(account.key.to_bytes()).mnemonic();
        eprintln!("    #{index} {}", account.address());
        eprintln!("       {mnemonic}");
    }
    eprintln!("  dispenser       {}", DevAccount::dispenser().address());
    eprintln!();
    Ok((server, url))
}

/// Runs an actix `server` until `shutdown` fires.
pub async fn run_until(
    server: actix_web::dev::Server,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let handle = server.handle();
    let stopper = tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.stop(true).await;
    });
    let result = server.await;
    stopper.abort();
    Ok(result?)
}
