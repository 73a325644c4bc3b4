//! The ARC-28 events the contract logs, decoded strictly: a log whose selector is known
//! but whose body has the wrong length is an error, never a guess.

use bitfox_domain::Address;
use bitfox_domain::protocol::selector;
/// An event the contract logged (serialised externally tagged: `{"RentalStarted": {…}}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Event {
    Initialized {
        admin: Address,
        treasury: Address,
        fee_bps: u64,
    },
    ListingRegistered {
        listing_id: u64,
        provider: Address,
        price_per_minute: u64,
        cluster_id: u64,
    },
    ListingPriceUpdated {
        listing_id: u64,
        price_per_minute: u64,
    },
    ListingDelisted {
        listing_id: u64,
        provider: Address,
        refund: u64,
    },
    RentalStarted(RentalStarted),
    RentalExtended {
        rental_id: u64,
        listing_id: u64,
        added: u64,
        deposit: u64,
        max_end: u64,
    },
    RentalSettled(RentalSettled),
    FeeChanged {
        fee_bps: u64,
    },
    TreasuryChanged {
        treasury: Address,
    },
    PauseChanged {
        paused: bool,
    },
    AdminChanged {
        admin: Address,
    },
    FeesWithdrawn {
        treasury: Address,
        amount: u64,
    },
    ClusterCreated(ClusterCreated),
    ClusterJoined {
        cluster_id: u64,
        holder: Address,
    },
    SharesBought {
        cluster_id: u64,
        buyer: Address,
        count: u64,
        paid: u64,
    },
    SharesTransferred {
        cluster_id: u64,
        from: Address,
        to: Address,
        count: u64,
    },
    ClusterRevenue {
        cluster_id: u64,
        rental_id: u64,
        amount: u64,
        acc: u128,
    },
    RevenueClaimed {
        cluster_id: u64,
        holder: Address,
        paid_to: Address,
        amount: u64,
    },
    PayoutForfeited {
        rental_id: u64,
        payee: Address,
        amount: u64,
    },
    /// v2: a cluster GPU may be delisted from `effective` on (a 30-day notice).
    RetirementAnnounced {
        listing_id: u64,
        cluster_id: u64,
        provider: Address,
        effective: u64,
    },
}

/// `RentalStarted`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RentalStarted {
    pub rental_id: u64,
    pub listing_id: u64,
    pub renter: Address,
    pub provider: Address,
    pub price_per_minute: u64,
    pub deposit: u64,
    pub start: u64,
    pub max_end: u64,
    pub fee_bps: u64,
    pub cluster_id: u64,
}

/// `RentalSettled`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RentalSettled {
    pub rental_id: u64,
    pub listing_id: u64,
    pub renter: Address,
    pub provider: Address,
    pub settled_by: Address,
    pub end: u64,
    pub elapsed: u64,
    pub cost: u64,
    pub fee: u64,
    pub provider_amount: u64,
    pub refund: u64,
    pub cluster_id: u64,
}

/// `ClusterCreated`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClusterCreated {
    pub cluster_id: u64,
    pub asset_id: u64,
    pub operator: Address,
    pub total_shares: u64,
    pub price_per_share: u64,
    pub url: String,
}

/// A log that names a known event but does not decode as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {event} event ({len} bytes)")]
pub struct EventError {
    pub event: &'static str,
    pub len: usize,
}

/// Event signatures, as in the ARC-56 spec.
const EVENTS: [(&str, &str); 20] = [
    ("Initialized", "Initialized(address,address,uint64)"),
    ("ListingRegistered", "ListingRegistered(uint64,address,uint64,uint64)"),
    ("ListingPriceUpdated", "ListingPriceUpdated(uint64,uint64)"),
    ("ListingDelisted", "ListingDelisted(uint64,address,uint64)"),
    (
        "RentalStarted",
        "RentalStarted(uint64,uint64,address,address,uint64,uint64,uint64,uint64,uint64,uint64)",
    ),
    ("RentalExtended", "RentalExtended(uint64,uint64,uint64,uint64,uint64)"),
    (
        "RentalSettled",
        "RentalSettled(uint64,uint64,address,address,address,uint64,uint64,uint64,uint64,uint64,uint64,uint64)",
    ),
    ("FeeChanged", "FeeChanged(uint64)"),
    ("TreasuryChanged", "TreasuryChanged(address)"),
    ("PauseChanged", "PauseChanged(bool)"),
    ("AdminChanged", "AdminChanged(address)"),
    ("FeesWithdrawn", "FeesWithdrawn(address,uint64)"),
    ("ClusterCreated", "ClusterCreated(uint64,uint64,address,uint64,uint64,string)"),
    ("ClusterJoined", "ClusterJoined(uint64,address)"),
    ("SharesBought", "SharesBought(uint64,address,uint64,uint64)"),
    ("SharesTransferred", "SharesTransferred(uint64,address,address,uint64)"),
    ("ClusterRevenue", "ClusterRevenue(uint64,uint64,uint64,uint128)"),
    ("RevenueClaimed", "RevenueClaimed(uint64,address,address,uint64)"),
    ("PayoutForfeited", "PayoutForfeited(uint64,address,uint64)"),
    ("RetirementAnnounced", "RetirementAnnounced(uint64,uint64,address,uint64)"),
];

/// Reads a static ARC-4 tuple field by field.
struct Fields<'a> {
    body: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let slice = self.body.get(self.at..self.at + n)?;
        self.at += n;
        Some(slice)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|b| u64::from_be_bytes(b.try_into().unwrap_or_default()))
    }

    fn u128(&mut self) -> Option<u128> {
        self.take(16).map(|b| u128::from_be_bytes(b.try_into().unwrap_or_default()))
    }

    fn address(&mut self) -> Option<Address> {
        self.take(32).map(|b| Address::from_public_key(b.try_into().unwrap_or_default()))
    }

    fn bool(&mut self) -> Option<bool> {
        match self.take(1)? {
            [0x00] => Some(false),
            [0x80] => Some(true),
            _ => None,
        }
    }

    /// A dynamic `string`, the tuple's last field. Its 2-byte head is the offset of its
    /// bytes from the tuple's start; ARC-4 puts the tail right after the head, so the
    /// only offset the contract writes is the head's length (found by fuzzing: any other
    /// offset made the decoder skip or reuse bytes and still accept the log).
    fn string(&mut self) -> Option<String> {
        let offset = usize::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?));
        (offset == self.at).then_some(())?;
        let len =
            usize::from(u16::from_be_bytes(self.body.get(offset..offset + 2)?.try_into().ok()?));
        let text = self.body.get(offset + 2..offset + 2 + len)?;
        // The string's bytes end the tuple.
        (offset + 2 + len == self.body.len()).then_some(())?;
        self.at = self.body.len();
        String::from_utf8(text.to_vec()).ok()
    }

    fn done(&self) -> Option<()> {
        (self.at == self.body.len()).then_some(())
    }
}

fn decode_body(name: &'static str, body: &[u8]) -> Option<Event> {
    let mut f = Fields { body, at: 0 };
    let event = match name {
        "Initialized" => {
            Event::Initialized { admin: f.address()?, treasury: f.address()?, fee_bps: f.u64()? }
        }
        "ListingRegistered" => Event::ListingRegistered {
            listing_id: f.u64()?,
            provider: f.address()?,
            price_per_minute: f.u64()?,
            cluster_id: f.u64()?,
        },
        "ListingPriceUpdated" => {
            Event::ListingPriceUpdated { listing_id: f.u64()?, price_per_minute: f.u64()? }
        }
        "ListingDelisted" => Event::ListingDelisted {
            listing_id: f.u64()?,
            provider: f.address()?,
            refund: f.u64()?,
        },
        "RentalStarted" => Event::RentalStarted(RentalStarted {
            rental_id: f.u64()?,
            listing_id: f.u64()?,
            renter: f.address()?,
            provider: f.address()?,
            price_per_minute: f.u64()?,
            deposit: f.u64()?,
            start: f.u64()?,
            max_end: f.u64()?,
            fee_bps: f.u64()?,
            cluster_id: f.u64()?,
        }),
        "RentalExtended" => Event::RentalExtended {
            rental_id: f.u64()?,
            listing_id: f.u64()?,
            added: f.u64()?,
            deposit: f.u64()?,
            max_end: f.u64()?,
        },
        "RentalSettled" => Event::RentalSettled(RentalSettled {
            rental_id: f.u64()?,
            listing_id: f.u64()?,
            renter: f.address()?,
            provider: f.address()?,
            settled_by: f.address()?,
            end: f.u64()?,
            elapsed: f.u64()?,
            cost: f.u64()?,
            fee: f.u64()?,
            provider_amount: f.u64()?,
            refund: f.u64()?,
            cluster_id: f.u64()?,
        }),
        "FeeChanged" => Event::FeeChanged { fee_bps: f.u64()? },
        "TreasuryChanged" => Event::TreasuryChanged { treasury: f.address()? },
        "PauseChanged" => Event::PauseChanged { paused: f.bool()? },
        "AdminChanged" => Event::AdminChanged { admin: f.address()? },
        "FeesWithdrawn" => Event::FeesWithdrawn { treasury: f.address()?, amount: f.u64()? },
        "ClusterCreated" => Event::ClusterCreated(ClusterCreated {
            cluster_id: f.u64()?,
            asset_id: f.u64()?,
            operator: f.address()?,
            total_shares: f.u64()?,
            price_per_share: f.u64()?,
            url: f.string()?,
        }),
        "ClusterJoined" => Event::ClusterJoined { cluster_id: f.u64()?, holder: f.address()? },
        "SharesBought" => Event::SharesBought {
            cluster_id: f.u64()?,
            buyer: f.address()?,
            count: f.u64()?,
            paid: f.u64()?,
        },
        "SharesTransferred" => Event::SharesTransferred {
            cluster_id: f.u64()?,
            from: f.address()?,
            to: f.address()?,
            count: f.u64()?,
        },
        "ClusterRevenue" => Event::ClusterRevenue {
            cluster_id: f.u64()?,
            rental_id: f.u64()?,
            amount: f.u64()?,
            acc: f.u128()?,
        },
        "RevenueClaimed" => Event::RevenueClaimed {
            cluster_id: f.u64()?,
            holder: f.address()?,
            paid_to: f.address()?,
            amount: f.u64()?,
        },
        "PayoutForfeited" => {
            Event::PayoutForfeited { rental_id: f.u64()?, payee: f.address()?, amount: f.u64()? }
        }
        "RetirementAnnounced" => Event::RetirementAnnounced {
            listing_id: f.u64()?,
            cluster_id: f.u64()?,
            provider: f.address()?,
            effective: f.u64()?,
        },
        _ => return None,
    };
    f.done()?;
    Some(event)
}

/// Decodes one log line: `None` when it is not an event of this contract (a return
/// value, say), an error when it names an event but does not decode as one.
pub fn decode_event(log: &[u8]) -> Option<Result<Event, EventError>> {
    let (head, body) = log.split_at_checked(4)?;
    let (name, _) = EVENTS.iter().find(|(_, signature)| selector(signature.as_bytes()) == head)?;
    Some(decode_body(name, body).ok_or(EventError { event: name, len: body.len() }))
}

impl Event {
    /// The event's name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Initialized { .. } => "Initialized",
            Event::ListingRegistered { .. } => "ListingRegistered",
            Event::ListingPriceUpdated { .. } => "ListingPriceUpdated",
            Event::ListingDelisted { .. } => "ListingDelisted",
            Event::RentalStarted(_) => "RentalStarted",
            Event::RentalExtended { .. } => "RentalExtended",
            Event::RentalSettled(_) => "RentalSettled",
            Event::FeeChanged { .. } => "FeeChanged",
            Event::TreasuryChanged { .. } => "TreasuryChanged",
            Event::PauseChanged { .. } => "PauseChanged",
            Event::AdminChanged { .. } => "AdminChanged",
            Event::FeesWithdrawn { .. } => "FeesWithdrawn",
            Event::ClusterCreated(_) => "ClusterCreated",
            Event::ClusterJoined { .. } => "ClusterJoined",
            Event::SharesBought { .. } => "SharesBought",
            Event::SharesTransferred { .. } => "SharesTransferred",
            Event::ClusterRevenue { .. } => "ClusterRevenue",
            Event::RevenueClaimed { .. } => "RevenueClaimed",
            Event::PayoutForfeited { .. } => "PayoutForfeited",
            Event::RetirementAnnounced { .. } => "RetirementAnnounced",
        }
    }
}

/// Every event in `logs`, in order.
pub fn events(logs: &[Vec<u8>]) -> Result<Vec<Event>, EventError> {
    logs.iter().filter_map(|log| decode_event(log)).collect()
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{RETURN_PREFIX, return_value};

    #[test]
    fn event_selectors_match_the_contract_readme() {
        for (signature, hex) in
            [(EVENTS[4].1, "fe24661f"), (EVENTS[6].1, "a29d566f"), (EVENTS[12].1, "08ef756e")]
        {
            let got: String =
                selector(signature.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hex, "{signature}");
        }
    }

    fn log(event: &str, fields: &[&[u8]]) -> Vec<u8> {
        let (_, signature) = EVENTS.iter().find(|(name, _)| *name == event).unwrap();
        let mut log = selector(signature.as_bytes()).to_vec();
        for field in fields {
            log.extend_from_slice(field);
        }
        log
    }

    #[test]
    fn events_decode_field_by_field_and_refuse_bad_lengths() {
        let a = Address::from_public_key([1; 32]);
        let b = Address::from_public_key([2; 32]);
        let line = log(
            "ListingDelisted",
            &[&7u64.to_be_bytes(), a.public_key(), &28_500u64.to_be_bytes()],
        );
        assert_eq!(
            decode_event(&line),
            Some(Ok(Event::ListingDelisted { listing_id: 7, provider: a, refund: 28_500 }))
        );
        assert_eq!(
            decode_event(&line[..line.len() - 1]),
            Some(Err(EventError { event: "ListingDelisted", len: 47 }))
        );
        let mut url = vec![0, 66, 0, 3];
        url.extend_from_slice(b"abc");
        let created = log(
            "ClusterCreated",
            &[
                &1u64.to_be_bytes(),
                &900u64.to_be_bytes(),
                b.public_key(),
                &100u64.to_be_bytes(),
                &5u64.to_be_bytes(),
                &url,
            ],
        );
        assert_eq!(
            decode_event(&created),
            Some(Ok(Event::ClusterCreated(ClusterCreated {
                cluster_id: 1,
                asset_id: 900,
                operator: b,
                total_shares: 100,
                price_per_share: 5,
                url: "abc".into(),
            })))
        );
        // The string's offset must be the head's length (66 here): fuzzing found a log
        // with junk between the head and the string that decoded anyway.
        let mut late = created.clone();
        late[4 + 64..4 + 66].copy_from_slice(&68u16.to_be_bytes());
        late.splice(4 + 66..4 + 66, [0xaa, 0xbb]);
        assert_eq!(
            decode_event(&late),
            Some(Err(EventError { event: "ClusterCreated", len: late.len() - 4 }))
        );
        let paused = log("PauseChanged", &[&[0x80]]);
        assert_eq!(decode_event(&paused), Some(Ok(Event::PauseChanged { paused: true })));
        assert!(matches!(decode_event(&log("PauseChanged", &[&[0x01]])), Some(Err(_))));
        let mut ret = RETURN_PREFIX.to_vec();
        ret.extend_from_slice(&9u64.to_be_bytes());
        assert_eq!(decode_event(&ret), None, "a return value is no event");
        assert_eq!(return_value(&[line, ret]), Some(&9u64.to_be_bytes()[..]));
    }

    #[test]
    fn a_string_offset_other_than_the_heads_length_is_refused() {
        // What fuzzing found (fuzz/corpus/arc28_event/regression-string-offset): a
        // ClusterCreated whose url offset is 89, not 66, with 23 bytes of junk between the
        // head and an empty url.
        let hex = "08ef756e000000000000007a000000000000002000000000282122225d222222222230b918\
                   0c22222200003e400000f7ff1e6624fec5d02f906300000000000a530000000059e70000\
                   200000000000000000000000006c7573745300000000";
        let log: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(decode_event(&log), Some(Err(EventError { event: "ClusterCreated", len: 91 })));
    }
}
