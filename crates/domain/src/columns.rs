//! Column mappings of the amount types (feature `diesel`): a `u64` newtype is stored in
//! a signed 64-bit `BigInt` column. A value that does not fit is an error when written,
//! and a stored value that is negative or breaks the type's rule (a zero price, say) is
//! an error when read — never a silent `0`.
//!
//! Statuses and ids map generically over the backend (`lifecycle`, `ids`); amounts map
//! for SQLite, the store's database.

use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::BigInt;
use diesel::sqlite::{Sqlite, SqliteValue};

use crate::amount::{MicroAlgos, Shares};
use crate::billing::{MaxMinutes, PricePerMinute};
use crate::ids::ChainId;

macro_rules! u64_column {
    ($t:ty, $what:literal, $get:expr, $make:expr) => {
        impl ToSql<BigInt, Sqlite> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                let raw: u64 = ($get)(self);
                let value = i64::try_from(raw)
                    .map_err(|_| format!("{} {raw} does not fit a 64-bit column", $what))?;
                out.set_value(value);
                Ok(IsNull::No)
            }
        }

        impl FromSql<BigInt, Sqlite> for $t {
            fn from_sql(bytes: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                let stored = i64::from_sql(bytes)?;
                let raw = u64::try_from(stored)
                    .map_err(|_| format!("stored {} {stored} is negative", $what))?;
                ($make)(raw).map_err(|e| format!("stored {} {raw}: {e}", $what).into())
            }
        }
    };
}

u64_column!(MicroAlgos, "amount", |a: &MicroAlgos| a.0, |v| Ok::<_, String>(MicroAlgos(v)));
u64_column!(PricePerMinute, "price", |p: &PricePerMinute| p.get(), PricePerMinute::new);
u64_column!(MaxMinutes, "max_minutes", |m: &MaxMinutes| m.get(), MaxMinutes::new);
u64_column!(ChainId, "chain id", |c: &ChainId| c.0, |v| Ok::<_, String>(ChainId(v)));
u64_column!(Shares, "share count", |c: &Shares| c.0, |v| Ok::<_, String>(Shares(v)));
