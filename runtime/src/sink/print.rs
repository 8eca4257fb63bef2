//! Spark's `DStream.print`: where it writes and the block it writes for a batch.

use std::io::Write;

use crate::fmt::SparkFmt;

/// Where `print` writes: standard output, or a writer given by a test.
pub(crate) enum PrintTarget {
    Stdout,
    Writer(Box<dyn Write + Send>),
}

/// The dashes of Spark's `print` header.
const DASHES: &str = "-------------------------------------------";

/// Appends Spark's `DStream.print` block for one batch: a header with the batch time, the first
/// `num` records (one per line, as Scala's `toString`), `...` if there are more, then an empty
/// line. Empty batches get the header and the empty line.
///
/// ```
/// let mut s = String::new();
/// streamc_runtime::sink::format_print(2000, 2, &[("a", 1), ("b", 2), ("c", 3)], &mut s);
/// assert_eq!(s, "-------------------------------------------\nTime: 2000 ms\n\
///                -------------------------------------------\n(a,1)\n(b,2)\n...\n\n");
/// ```
pub fn format_print<T: SparkFmt>(time_ms: i64, num: usize, records: &[T], out: &mut String) {
    use std::fmt::Write as _;
    let _ = write!(out, "{DASHES}\nTime: {time_ms} ms\n{DASHES}\n");
    for r in records.iter().take(num) {
        r.spark_fmt(out);
        out.push('\n');
    }
    if records.len() > num {
        out.push_str("...\n");
    }
    out.push('\n');
}
