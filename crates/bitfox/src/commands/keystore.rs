//! `bitfox keystore add|list`: the encrypted keystore of server-managed accounts.

use anyhow::Context;
use bitfox_chain::keystore::Keystore;

use crate::chain::{keystore_key, mnemonic_account};
use crate::config::Settings;

/// What to do with the keystore.
#[derive(Debug, clap::Subcommand)]
pub enum KeystoreCommand {
    /// Add an account: the one whose 25-word mnemonic is in BITFOX_IMPORT_MNEMONIC, or
    /// a new one with --generate. Prints its address, never its key.
    Add {
        /// A name for the account; `operator` is the key that signs settlements.
        #[arg(long)]
        label: String,
        /// Generate a new account instead of importing one.
        #[arg(long)]
        generate: bool,
    },
    /// List the accounts (addresses and labels).
    List,
}

/// Runs a `keystore` command.
pub fn keystore(settings: &Settings, command: KeystoreCommand) -> anyhow::Result<()> {
    let path = settings.keystore_path();
    let mut store = Keystore::open(&path)?;
    match command {
        KeystoreCommand::Add { label, generate } => {
            let key = keystore_key()?.context(
                "set BITFOX_KEYSTORE_KEY to the keystore's key (base64 of 32 random bytes)",
            )?;
            // One key per file: the existing entries must open with it.
            store.unlock(&key)?;
            let account = if generate {
                algonaut::transaction::account::Account::generate()
            } else {
                mnemonic_account("BITFOX_IMPORT_MNEMONIC")?
            };
            let address = store.add(&key, &account, &label)?;
            eprintln!("added {label} to {}", path.display());
            println!("{address}");
        }
        KeystoreCommand::List => {
            for (address, label) in store.entries() {
                println!("{address}\t{label}");
            }
        }
    }
    Ok(())
}
