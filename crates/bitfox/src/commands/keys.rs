//! `bitfox keys create|list|revoke`: API keys bound to Algorand addresses.

use anyhow::bail;
use bitfox_domain::Address;
use bitfox_store::now_seconds;
use bitfox_store::repo::api_key;

use crate::config::Settings;
use crate::open_store;

/// What to do with API keys.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key bound to an Algorand address; the key is printed once.
    Create {
        /// The address the key acts as.
        #[arg(long)]
        address: String,
        /// A note to recognise the key by.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List keys (ids, addresses, labels; never the keys).
    List,
    /// Revoke a key by id.
    Revoke {
        /// The key's id, as shown by `keys list`.
        id: i64,
    },
}

/// Runs a `keys` command.
pub fn keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let store = open_store(settings)?;
    store.migrate()?;
    let mut conn = store.conn()?;
    match command {
        KeysCommand::Create { address, label } => {
            let address: Address = address
                .parse()
                .map_err(|e| anyhow::anyhow!("--address is not an Algorand address: {e}"))?;
            let (id, key) =
                bitfox_api::auth::create_key(&mut conn, &address, &label, now_seconds())?;
            eprintln!("created key {id} for {address}; it is shown only now:");
            println!("{key}");
        }
        KeysCommand::List => {
            for key in api_key::list(&mut conn)? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{}\t{state}\t{}", key.id, key.address, key.label);
            }
        }
        KeysCommand::Revoke { id } => {
            if api_key::revoke(&mut conn, id, now_seconds())? {
                println!("revoked key {id}");
            } else {
                bail!("no active key with id {id}");
            }
        }
    }
    Ok(())
}
