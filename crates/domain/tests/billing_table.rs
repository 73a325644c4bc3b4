//! The billing table shared with the contract's test suite
//! (`contracts/tests/billing_table.json`): the same rows run here through the domain
//! crate and there through the TEAL program on go-algorand, so both compute the same
//! cost, fee, provider share and refund.

use std::path::PathBuf;

use bitfox_domain::MicroAlgos;
use bitfox_domain::billing::{FeeBps, PricePerMinute, Settlement};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    price_per_minute: u64,
    deposit: u64,
    elapsed_seconds: u64,
    fee_bps: u16,
    cost: u64,
    fee: u64,
    provider: u64,
    refund: u64,
}

#[test]
fn domain_math_matches_the_shared_table() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contracts/tests/billing_table.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<Row> = serde_json::from_str(&text).unwrap();
    assert!(rows.len() >= 10, "the table has {} rows", rows.len());
    for row in &rows {
        let got = Settlement::compute(
            PricePerMinute::new(row.price_per_minute).unwrap(),
            MicroAlgos(row.deposit),
            row.elapsed_seconds,
            FeeBps::new(row.fee_bps).unwrap(),
        );
        let expected = Settlement {
            cost: MicroAlgos(row.cost),
            fee: MicroAlgos(row.fee),
            provider: MicroAlgos(row.provider),
            refund: MicroAlgos(row.refund),
        };
        assert_eq!(got, expected, "{row:?}");
    }
}
