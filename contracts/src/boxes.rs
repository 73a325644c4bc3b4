//! Box names and value layouts (`contracts/README.md`, *Boxes*). All integers are
//! big-endian; a value whose length is not its layout's is refused, never guessed at.

use bitfox_domain::Address;
use bitfox_domain::chain::{ClusterState, HolderState};

/// Length of a listing box's value.
pub const LISTING_LEN: usize = 56;
/// Length of a rental box's value.
pub const RENTAL_LEN: usize = 80;
/// Length of a cluster box's value.
pub const CLUSTER_LEN: usize = 80;
/// Length of a holder record's value.
pub const HOLDER_LEN: usize = 40;
/// Length of a retirement notice's value (v2): the time it takes effect.
pub const RETIREMENT_LEN: usize = 8;

fn keyed(prefix: u8, id: u64) -> Vec<u8> {
    let mut name = Vec::with_capacity(9);
    name.push(prefix);
    name.extend_from_slice(&id.to_be_bytes());
    name
}

/// The listing box: `"l"` ‖ listing id.
pub fn listing(listing_id: u64) -> Vec<u8> {
    keyed(b'l', listing_id)
}

/// The rental box of a listing: `"r"` ‖ listing id.
pub fn rental(listing_id: u64) -> Vec<u8> {
    keyed(b'r', listing_id)
}

/// The cluster box: `"c"` ‖ cluster id.
pub fn cluster(cluster_id: u64) -> Vec<u8> {
    keyed(b'c', cluster_id)
}

/// A holder record: `"h"` ‖ cluster id ‖ address.
pub fn holder(cluster_id: u64, holder: &Address) -> Vec<u8> {
    let mut name = keyed(b'h', cluster_id);
    name.extend_from_slice(holder.public_key());
    name
}

/// A cluster GPU's retirement notice (v2): `"x"` ‖ listing id.
pub fn retirement(listing_id: u64) -> Vec<u8> {
    keyed(b'x', listing_id)
}

/// The big-endian u64 at `at`, if the value is long enough.
fn word(value: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(value.get(at..at + 8)?.try_into().ok()?))
}

fn word128(value: &[u8], at: usize) -> Option<u128> {
    Some(u128::from_be_bytes(value.get(at..at + 16)?.try_into().ok()?))
}

fn address(value: &[u8], at: usize) -> Option<Address> {
    Some(Address::from_public_key(value.get(at..at + 32)?.try_into().ok()?))
}

/// The id of the rental a rental box holds (its first word); `None` when the value is
/// not a rental box.
pub fn rental_id(value: &[u8]) -> Option<u64> {
    (value.len() == RENTAL_LEN).then(|| word(value, 0)).flatten()
}

/// A cluster box's value; `None` when the value is not a cluster box.
pub fn decode_cluster(value: &[u8]) -> Option<ClusterState> {
    if value.len() != CLUSTER_LEN {
        return None;
    }
    Some(ClusterState {
        operator: address(value, 0)?,
        asset_id: word(value, 32)?,
        total_shares: word(value, 40)?,
        price_per_share: word(value, 48)?,
        acc: word128(value, 56)?,
        acc_rem: word(value, 72)?,
    })
}

/// A holder record's value; `None` when the value is not a holder record.
pub fn decode_holder(value: &[u8]) -> Option<HolderState> {
    if value.len() != HOLDER_LEN {
        return None;
    }
    Some(HolderState {
        shares: word(value, 0)?,
        checkpoint: word128(value, 8)?,
        dust: word(value, 24)?,
        owed: word(value, 32)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefix_and_big_endian_id() {
        assert_eq!(listing(1), [b'l', 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(rental(258)[7..], [1, 2]);
        let a = Address::from_public_key([9; 32]);
        let name = holder(3, &a);
        assert_eq!((name.len(), name[0], name[8], &name[9..]), (41, b'h', 3, &[9u8; 32][..]));
    }

    #[test]
    fn layouts_decode_field_by_field_and_refuse_other_lengths() {
        let mut cluster_box = vec![7u8; 32];
        for w in [900u64, 100, 5] {
            cluster_box.extend_from_slice(&w.to_be_bytes());
        }
        cluster_box.extend_from_slice(&(u128::from(u64::MAX) + 1).to_be_bytes());
        cluster_box.extend_from_slice(&11u64.to_be_bytes());
        let state = decode_cluster(&cluster_box).unwrap();
        assert_eq!(state.operator, Address::from_public_key([7; 32]));
        assert_eq!((state.asset_id, state.total_shares, state.price_per_share), (900, 100, 5));
        assert_eq!((state.acc, state.acc_rem), (u128::from(u64::MAX) + 1, 11));
        assert_eq!(decode_cluster(&cluster_box[1..]), None);

        let mut holder_box = 4u64.to_be_bytes().to_vec();
        holder_box.extend_from_slice(&2u128.to_be_bytes());
        holder_box.extend_from_slice(&3u64.to_be_bytes());
        holder_box.extend_from_slice(&u64::MAX.to_be_bytes());
        let h = decode_holder(&holder_box).unwrap();
        assert_eq!((h.shares, h.checkpoint, h.dust, h.owed), (4, 2, 3, u64::MAX));
        assert_eq!(decode_holder(&holder_box[..39]), None);

        let mut rental_box = 42u64.to_be_bytes().to_vec();
        rental_box.resize(RENTAL_LEN, 0);
        assert_eq!(rental_id(&rental_box), Some(42));
        assert_eq!(rental_id(&rental_box[..8]), None);
    }
}
