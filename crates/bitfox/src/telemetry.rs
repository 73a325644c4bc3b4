//! Logging, set up once by the binary.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, Settings};

/// Installs the global subscriber: `BITFOX_LOG` (or `RUST_LOG`) overrides `log.filter`;
/// `log.format` chooses text or JSON lines; logs go to stderr.
pub fn init_tracing(settings: &Settings) {
    let filter = std::env::var("BITFOX_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| settings.log.filter.clone());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match settings.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
