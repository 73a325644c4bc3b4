//! Column mappings of the amount types (feature `diesel`): a `u64` newtype is stored in
//! a signed 64-bit `BigInt` column. A value that does not fit is an error when written,
//! and a stored value that is negative or breaks the type's rule (a zero price, say) is
//! an error when read — never a silent `0`.
//!
//! Statuses and ids map generically over the backend (`lifecycle`, `ids`); amounts map
//! for the store's two databases, SQLite and PostgreSQL (the store maps them for its
//! connection that can be either).

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::BigInt;
use diesel::sqlite::{Sqlite, SqliteValue};

use crate::amount::{MicroAlgos, Shares};
use crate::billing::{MaxMinutes, PricePerMinute};
use crate::ids::ChainId;

macro_rules! u64_column {
    ($t:ty, $what:literal, $get:expr, $make:expr) => {
        impl $t {
            fn column_value(&self) -> Result<i64, String> {
                let raw: u64 = ($get)(self);
                i64::try_from(raw)
                    .map_err(|_| format!("{} {raw} does not fit a 64-bit column", $what))
            }

            fn from_column(stored: i64) -> deserialize::Result<Self> {
                let raw = u64::try_from(stored)
                    .map_err(|_| format!("stored {} {stored} is negative", $what))?;
                ($make)(raw).map_err(|e| format!("stored {} {raw}: {e}", $what).into())
            }
        }

        impl ToSql<BigInt, Sqlite> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.column_value()?);
                Ok(IsNull::No)
            }
        }

        impl FromSql<BigInt, Sqlite> for $t {
            fn from_sql(bytes: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                Self::from_column(<i64 as FromSql<BigInt, Sqlite>>::from_sql(bytes)?)
            }
        }

        impl ToSql<BigInt, Pg> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                let value = self.column_value()?;
                <i64 as ToSql<BigInt, Pg>>::to_sql(&value, &mut out.reborrow())
            }
        }

        impl FromSql<BigInt, Pg> for $t {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                Self::from_column(<i64 as FromSql<BigInt, Pg>>::from_sql(bytes)?)
            }
        }
    };
}

u64_column!(MicroAlgos, "amount", |a: &MicroAlgos| a.0, |v| Ok::<_, String>(MicroAlgos(v)));
u64_column!(PricePerMinute, "price", |p: &PricePerMinute| p.get(), PricePerMinute::new);
u64_column!(MaxMinutes, "max_minutes", |m: &MaxMinutes| m.get(), MaxMinutes::new);
u64_column!(ChainId, "chain id", |c: &ChainId| c.0, |v| Ok::<_, String>(ChainId(v)));
u64_column!(Shares, "share count", |c: &Shares| c.0, |v| Ok::<_, String>(Shares(v)));
