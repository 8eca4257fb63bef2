//! Spark's `NullType` (`void`): the type of a bare `NULL` (`SELECT NULL AS x`). A column of it is
//! an `Option<Void>`, always `None`: `Void` has no values.

use super::row::Cell;
use crate::error::Error;
use crate::fmt::{SparkFmt, ToJson};
use crate::persist::{Persist, corrupt};

/// The value type of a `void` column: there is none (see the module).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Void {}

impl Cell for Void {
    fn cell(&self, _: &mut String) {
        match *self {}
    }
}

impl SparkFmt for Void {
    fn spark_fmt(&self, _: &mut String) {
        match *self {}
    }
}

impl ToJson for Void {
    fn to_json(&self, _: &mut String) {
        match *self {}
    }
}

impl Persist for Void {
    fn write(&self, _: &mut Vec<u8>) {
        match *self {}
    }
    fn read(_: &mut &[u8]) -> Result<Self, Error> {
        Err(corrupt("a value of type void"))
    }
}

crate::impl_into_owned_identity!(Void);

impl super::nested::SqlJson for Void {
    fn sql_json(&self, _: &mut String) {
        match *self {}
    }
}

impl super::nested::SqlText for Void {
    fn sql_text(&self, _: &mut String) {
        match *self {}
    }
}

impl super::hll::SparkHash for Void {
    fn spark_hash(&self) -> u64 {
        match *self {}
    }
}

/// A `void` column read from JSON or CSV: NULL whatever the text holds (Spark's reader).
#[allow(clippy::result_unit_err)]
pub fn conv<T>(_: T) -> Result<Option<Void>, ()> {
    Ok(None)
}
