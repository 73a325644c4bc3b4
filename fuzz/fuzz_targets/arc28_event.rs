//! The ARC-28 event decoder (`bitfox_contract::events`) on arbitrary logs.
//!
//! The input is one log for `decode_event`; split at every `0x0a` byte it is also a list
//! of logs for `events`. Checked besides "no panic": the decoder is strict, so a log it
//! accepts is exactly the ARC-4 encoding of the event it returns (re-encoded here from
//! the contract's event signatures), and `events` agrees with `decode_event` log by log.

#![no_main]

use bitfox_contract::events::{Event, decode_event, events};
use bitfox_domain::Address;
use bitfox_domain::protocol::selector;
use libfuzzer_sys::fuzz_target;

/// An ARC-4 tuple being written.
#[derive(Default)]
struct Tuple(Vec<u8>);

impl Tuple {
    fn u64(mut self, n: u64) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    fn address(mut self, a: &Address) -> Self {
        self.0.extend_from_slice(a.public_key());
        self
    }
}

/// The log the contract writes for `event`: the selector of its ARC-28 signature, then
/// its fields as an ARC-4 tuple.
fn encode(event: &Event) -> Vec<u8> {
    let t = Tuple::default();
    let (signature, body) = match event {
        Event::Initialized { admin, treasury, fee_bps } => (
            "Initialized(address,address,uint64)",
            t.address(admin).address(treasury).u64(*fee_bps),
        ),
        Event::ListingRegistered { listing_id, provider, price_per_minute, cluster_id } => (
            "ListingRegistered(uint64,address,uint64,uint64)",
            t.u64(*listing_id).address(provider).u64(*price_per_minute).u64(*cluster_id),
        ),
        Event::ListingPriceUpdated { listing_id, price_per_minute } => {
            ("ListingPriceUpdated(uint64,uint64)", t.u64(*listing_id).u64(*price_per_minute))
        }
        Event::ListingDelisted { listing_id, provider, refund } => (
            "ListingDelisted(uint64,address,uint64)",
            t.u64(*listing_id).address(provider).u64(*refund),
        ),
        Event::RentalStarted(r) => (
            "RentalStarted(uint64,uint64,address,address,uint64,uint64,uint64,uint64,uint64,uint64)",
            t.u64(r.rental_id)
                .u64(r.listing_id)
                .address(&r.renter)
                .address(&r.provider)
                .u64(r.price_per_minute)
                .u64(r.deposit)
                .u64(r.start)
                .u64(r.max_end)
                .u64(r.fee_bps)
                .u64(r.cluster_id),
        ),
        Event::RentalExtended { rental_id, listing_id, added, deposit, max_end } => (
            "RentalExtended(uint64,uint64,uint64,uint64,uint64)",
            t.u64(*rental_id).u64(*listing_id).u64(*added).u64(*deposit).u64(*max_end),
        ),
        Event::RentalSettled(r) => (
            "RentalSettled(uint64,uint64,address,address,address,uint64,uint64,uint64,uint64,uint64,uint64,uint64)",
            t.u64(r.rental_id)
                .u64(r.listing_id)
                .address(&r.renter)
                .address(&r.provider)
                .address(&r.settled_by)
                .u64(r.end)
                .u64(r.elapsed)
                .u64(r.cost)
                .u64(r.fee)
                .u64(r.provider_amount)
                .u64(r.refund)
                .u64(r.cluster_id),
        ),
        Event::FeeChanged { fee_bps } => ("FeeChanged(uint64)", t.u64(*fee_bps)),
        Event::TreasuryChanged { treasury } => ("TreasuryChanged(address)", t.address(treasury)),
        Event::PauseChanged { paused } => {
            ("PauseChanged(bool)", Tuple(vec![if *paused { 0x80 } else { 0x00 }]))
        }
        Event::AdminChanged { admin } => ("AdminChanged(address)", t.address(admin)),
        Event::FeesWithdrawn { treasury, amount } => {
            ("FeesWithdrawn(address,uint64)", t.address(treasury).u64(*amount))
        }
        Event::ClusterCreated(c) => {
            let mut t = t
                .u64(c.cluster_id)
                .u64(c.asset_id)
                .address(&c.operator)
                .u64(c.total_shares)
                .u64(c.price_per_share);
            // The string's head is its offset from the tuple's start: the head's length.
            let head = t.0.len() + 2;
            let len = u16::try_from(c.url.len()).expect("a decoded string fits a u16 length");
            t.0.extend_from_slice(&u16::try_from(head).unwrap().to_be_bytes());
            t.0.extend_from_slice(&len.to_be_bytes());
            t.0.extend_from_slice(c.url.as_bytes());
            ("ClusterCreated(uint64,uint64,address,uint64,uint64,string)", t)
        }
        Event::ClusterJoined { cluster_id, holder } => {
            ("ClusterJoined(uint64,address)", t.u64(*cluster_id).address(holder))
        }
        Event::SharesBought { cluster_id, buyer, count, paid } => (
            "SharesBought(uint64,address,uint64,uint64)",
            t.u64(*cluster_id).address(buyer).u64(*count).u64(*paid),
        ),
        Event::SharesTransferred { cluster_id, from, to, count } => (
            "SharesTransferred(uint64,address,address,uint64)",
            t.u64(*cluster_id).address(from).address(to).u64(*count),
        ),
        Event::ClusterRevenue { cluster_id, rental_id, amount, acc } => {
            let mut t = t.u64(*cluster_id).u64(*rental_id).u64(*amount);
            t.0.extend_from_slice(&acc.to_be_bytes());
            ("ClusterRevenue(uint64,uint64,uint64,uint128)", t)
        }
        Event::RevenueClaimed { cluster_id, holder, paid_to, amount } => (
            "RevenueClaimed(uint64,address,address,uint64)",
            t.u64(*cluster_id).address(holder).address(paid_to).u64(*amount),
        ),
        Event::PayoutForfeited { rental_id, payee, amount } => (
            "PayoutForfeited(uint64,address,uint64)",
            t.u64(*rental_id).address(payee).u64(*amount),
        ),
        Event::RetirementAnnounced { listing_id, cluster_id, provider, effective } => (
            "RetirementAnnounced(uint64,uint64,address,uint64)",
            t.u64(*listing_id).u64(*cluster_id).address(provider).u64(*effective),
        ),
    };
    let mut log = selector(signature.as_bytes()).to_vec();
    log.extend_from_slice(&body.0);
    log
}

fuzz_target!(|data: &[u8]| {
    match decode_event(data) {
        Some(Ok(event)) => {
            assert_eq!(encode(&event), data, "an accepted log is the event's exact encoding");
            assert!(!event.name().is_empty());
        }
        Some(Err(e)) => assert_eq!(e.len + 4, data.len(), "the error names the body's length"),
        None => {}
    }
    let logs: Vec<Vec<u8>> = data.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let expected: Result<Vec<Event>, _> = logs.iter().filter_map(|log| decode_event(log)).collect();
    assert_eq!(events(&logs), expected, "events() is decode_event() log by log");
});
