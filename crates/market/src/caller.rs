//! Who asks: the address an API key is bound to, and the server's mode.

use bitfox_domain::Address;
use serde::{Deserialize, Serialize};

use crate::error::{MarketError, Result};

/// How the marketplace treats callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Open: mutating requests need no API key (a key, if sent, is still checked).
    /// Announced loudly at start-up.
    Dev,
    /// Every mutating request needs an API key bound to an Algorand address.
    Production,
}

impl Mode {
    /// The mode's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Production => "production",
        }
    }
}

/// Who is calling: the address bound to the presented API key, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The authenticated address; `None` for an anonymous dev-mode request.
    pub address: Option<Address>,
    /// The server's mode.
    pub mode: Mode,
}

impl Caller {
    /// The caller's address; refused in production mode when there is none.
    pub fn require(&self) -> Result<Option<Address>> {
        match (self.address, self.mode) {
            (None, Mode::Production) => Err(MarketError::Unauthenticated(
                "this request needs an API key: send `Authorization: Bearer <key>`".to_owned(),
            )),
            (address, _) => Ok(address),
        }
    }

    /// Checks that the caller may act as `owner`: fine for an anonymous dev-mode caller,
    /// forbidden for an authenticated caller with another address.
    pub fn ensure_is(&self, owner: &str, what: &str) -> Result<()> {
        match self.require()? {
            Some(address) if address.to_string() != owner => Err(MarketError::Forbidden(format!(
                "{what} belongs to {owner}; your API key is bound to {address}"
            ))),
            _ => Ok(()),
        }
    }

    /// The key under which idempotent responses are saved.
    pub fn principal(&self) -> String {
        self.address.map_or_else(|| "anonymous".to_owned(), |a| a.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_needs_a_key_and_a_key_binds_its_address() {
        let owner = Address::from_public_key([1; 32]);
        let other = Address::from_public_key([2; 32]);
        let anonymous = Caller { address: None, mode: Mode::Production };
        assert!(matches!(anonymous.require(), Err(MarketError::Unauthenticated(_))));
        let open = Caller { address: None, mode: Mode::Dev };
        open.ensure_is(&owner.to_string(), "GPU 1").unwrap();
        let keyed = Caller { address: Some(other), mode: Mode::Dev };
        let err = keyed.ensure_is(&owner.to_string(), "GPU 1").unwrap_err();
        assert!(matches!(err, MarketError::Forbidden(_)), "{err}");
        assert_eq!(keyed.principal(), other.to_string());
        assert_eq!(open.principal(), "anonymous");
    }
}
