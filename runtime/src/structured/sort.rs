//! `ORDER BY` and `LIMIT` of a complete-mode aggregation's output rows, with Spark's ordering:
//! NULLs first ascending and last descending unless the query says otherwise, NaN above every
//! other double, strings by their UTF-8 bytes.

use super::row::{Row, Value};
use std::cmp::Ordering;

/// Sorts `rows` by `keys` — (column index, descending, NULLs first) — stably, then keeps the
/// first `limit`.
///
/// ```
/// use streamc_runtime::structured::sort::order_rows;
/// let mut rows = vec![("a", Some(1i64)), ("b", None), ("c", Some(3))];
/// order_rows(&mut rows, &[(1, true, false)], Some(2));
/// assert_eq!(rows, [("c", Some(3)), ("a", Some(1))]);
/// ```
pub fn order_rows<R: Row>(rows: &mut Vec<R>, keys: &[(usize, bool, bool)], limit: Option<u64>) {
    if !keys.is_empty() {
        rows.sort_by(|a, b| {
            for &(i, descending, nulls_first) in keys {
                let o = compare(a.value(i), b.value(i), descending, nulls_first);
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }
    if let Some(n) = limit {
        rows.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
}

fn compare(a: Value<'_>, b: Value<'_>, descending: bool, nulls_first: bool) -> Ordering {
    let by_value = |o: Ordering| if descending { o.reverse() } else { o };
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (_, Value::Null) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Value::Str(x), Value::Str(y)) => by_value(x.as_bytes().cmp(y.as_bytes())),
        (Value::Long(x), Value::Long(y)) => by_value(x.cmp(&y)),
        (Value::Double(x), Value::Double(y)) => by_value(x.total_cmp(&y).then(Ordering::Equal).max_nan(x, y)),
        (Value::Bool(x), Value::Bool(y)) => by_value(x.cmp(&y)),
        (Value::Timestamp(x), Value::Timestamp(y)) => by_value(x.0.cmp(&y.0)),
        (Value::Date(x), Value::Date(y)) => by_value(x.0.cmp(&y.0)),
        (Value::Bytes(x), Value::Bytes(y)) => by_value(x.cmp(y)),
        _ => Ordering::Equal,
    }
}

/// Spark orders every NaN above every other double (and equal to each other); `total_cmp`
/// alone would put negative NaNs first.
trait MaxNan {
    fn max_nan(self, x: f64, y: f64) -> Ordering;
}

impl MaxNan for Ordering {
    fn max_nan(self, x: f64, y: f64) -> Ordering {
        match (x.is_nan(), y.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_orders_nulls_and_nans() {
        let mut rows = vec![(Some(1.0f64),), (None,), (Some(f64::NAN),), (Some(-2.0),)];
        order_rows(&mut rows, &[(0, false, true)], None);
        let shown: Vec<String> = rows.iter().map(|r| format!("{:?}", r.0)).collect();
        assert_eq!(shown, ["None", "Some(-2.0)", "Some(1.0)", "Some(NaN)"]);
        order_rows(&mut rows, &[(0, true, false)], Some(3));
        let shown: Vec<String> = rows.iter().map(|r| format!("{:?}", r.0)).collect();
        assert_eq!(shown, ["Some(NaN)", "Some(1.0)", "Some(-2.0)"]);
    }
}
