//! The Structured Streaming operators beyond windowed counts through `stream!`: a union of two
//! inputs with their own watermarks, deduplication, session windows, a join with a static
//! table, dates, the rate source, and the parquet, memory and foreach_batch sinks.
use streamc_runtime::prelude::*;
use streamc_runtime::structured::time::Date;

fn main() {
    let _operators = stream! {
        app_name("operators");
        trigger(AvailableNow);
        checkpoint("/tmp/streamc-ui-never-written/operators");
        let clicks = read_stream.json("/tmp/streamc-never-created/clicks").schema("timestamp TIMESTAMP, word STRING");
        let views = read_stream
            .json("/tmp/streamc-never-created/views")
            .schema("timestamp TIMESTAMP, word STRING")
            .with_watermark("timestamp", "5 minutes");
        let categories = read.json("/tmp/streamc-never-created/categories.json").schema("word STRING, category STRING");
        let both = clicks.with_watermark("timestamp", "10 minutes").union(views);
        let unique = both.drop_duplicates(["word", "timestamp"]);
        unique.write_stream().output_mode("append").parquet("/tmp/streamc-ui-never-written/unique").memory();
        let sessions = both
            .group_by(["session_window(timestamp, '5 minutes')", "word"])
            .count();
        sessions.write_stream().output_mode("append").console();
        let labelled = clicks.join(categories, ["word"], "left_outer").select(["to_date(timestamp) AS day", "category"]);
        labelled
            .group_by(["day", "category"])
            .count()
            .write_stream()
            .output_mode("complete")
            .foreach_batch(|batch_id, rows| {
                // One field per output column, typed: SQL nulls as `Option<T>`.
                for r in rows {
                    let (_day, _category, _count): (&Option<Date>, &Option<String>, i64) = (&r.day, &r.category, r.count);
                }
                println!("{batch_id}: {} rows", rows.len())
            });
    };
    let _rate = stream! {
        app_name("rate");
        let ticks = read_stream.rate(100);
        ticks.where_("value % 2 = 0").write_stream().console();
    };
}
