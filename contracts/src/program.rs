//! The programs and the app's shape, as shipped with this build.
//!
//! The app is immutable, so each contract change is a new version deployed as a new
//! app (`contracts/README.md`, *Versions*). [`VERSION`] is the one this build deploys;
//! [`v1`] is kept byte-identical for the apps still running it.

/// The contract version this build deploys.
pub const VERSION: u32 = 2;

/// The contract's approval program (TEAL source).
pub const APPROVAL_TEAL: &str = include_str!("../bitfox.teal");
/// The contract's clear-state program (TEAL source).
pub const CLEAR_TEAL: &str = include_str!("../clear.teal");
/// The ARC-56 app spec (JSON), the source for typed clients.
pub const ARC56_SPEC: &str = include_str!("../bitfox.arc56.json");

/// The signature of the creation call: `create(treasury, fee_bps)`.
pub const CREATE: &str = "create(address,uint64)void";
/// The contract's global schema: 6 integers, 2 byte slices.
pub const GLOBAL_SCHEMA: (u64, u64) = (6, 2);
/// Extra program pages the contract needs.
pub const EXTRA_PAGES: u32 = 1;

/// Version 1, the first deployed contract (`contracts/v1`). Same selectors, events,
/// schema and creation call; it lacks v2's argument checks and cluster-GPU retirement.
pub mod v1 {
    /// Its approval program (TEAL source).
    pub const APPROVAL_TEAL: &str = include_str!("../v1/bitfox.teal");
    /// Its ARC-56 app spec.
    pub const ARC56_SPEC: &str = include_str!("../v1/bitfox.arc56.json");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_names_the_shipped_schema_and_methods() {
        let spec: serde_json::Value = serde_json::from_str(ARC56_SPEC).expect("ARC-56 is JSON");
        let global = &spec["state"]["schema"]["global"];
        assert_eq!((global["ints"].as_u64(), global["bytes"].as_u64()), (Some(6), Some(2)));
        let names: Vec<&str> =
            spec["methods"].as_array().unwrap().iter().filter_map(|m| m["name"].as_str()).collect();
        for method in [crate::abi::method::RENT, crate::abi::method::STOP, CREATE] {
            let name = method.split('(').next().unwrap();
            assert!(names.contains(&name), "{name} is not in the ARC-56 spec");
        }
        assert!(APPROVAL_TEAL.starts_with("#pragma version"));
    }
}
