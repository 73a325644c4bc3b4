//! A cluster GPU's retirement notice (contract v2, `contracts/README.md`, *Cluster GPU
//! retirement*): once announced, its listing may leave the cluster from `effective` (30
//! days later) for a 7-day window; after that the notice has lapsed and must be
//! announced again. Until then the GPU stays listed and earns for the cluster's holders.

/// Seconds of chain time between an announcement and the time it takes effect.
pub const NOTICE_SECS: u64 = 2_592_000;
/// Seconds a notice stays in force once it has taken effect.
pub const WINDOW_SECS: u64 = 604_800;

/// Where a notice stands at a given chain time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// None was announced.
    None,
    /// Announced; delisting is allowed from `effective` on.
    Pending { effective: u64 },
    /// Delisting is allowed now, until `until` (exclusive).
    InForce { until: u64 },
    /// It lapsed at `at`: delisting needs a new notice.
    Lapsed { at: u64 },
}

impl Notice {
    /// The state of a notice taking effect at `effective` (if any), at chain time `now`.
    pub fn at(effective: Option<u64>, now: u64) -> Self {
        let Some(effective) = effective else { return Self::None };
        let until = effective.saturating_add(WINDOW_SECS);
        if now < effective {
            Self::Pending { effective }
        } else if now < until {
            Self::InForce { until }
        } else {
            Self::Lapsed { at: until }
        }
    }

    /// Whether a new notice may be announced (none yet, or the last one lapsed).
    pub fn may_announce(self) -> bool {
        matches!(self, Self::None | Self::Lapsed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_is_pending_then_in_force_for_its_window_then_lapsed() {
        let e = 1_000;
        assert_eq!(Notice::at(None, e), Notice::None);
        assert_eq!(Notice::at(Some(e), e - 1), Notice::Pending { effective: e });
        assert_eq!(Notice::at(Some(e), e), Notice::InForce { until: e + WINDOW_SECS });
        assert_eq!(
            Notice::at(Some(e), e + WINDOW_SECS - 1),
            Notice::InForce { until: e + WINDOW_SECS }
        );
        assert_eq!(Notice::at(Some(e), e + WINDOW_SECS), Notice::Lapsed { at: e + WINDOW_SECS });
        assert_eq!(Notice::at(Some(u64::MAX), u64::MAX), Notice::Lapsed { at: u64::MAX });
        assert!(Notice::None.may_announce() && Notice::Lapsed { at: 1 }.may_announce());
        assert!(!Notice::Pending { effective: 1 }.may_announce());
        assert!(!Notice::InForce { until: 1 }.may_announce());
    }
}
