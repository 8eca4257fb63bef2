//! The Structured Streaming guide's chained time window aggregations with `stream!` (the twin of
//! `examples/chained_windows.yaml`): counts per word in 10-minute windows sliding every 5
//! minutes, then, over those windows' rows, per word in 20-minute windows of
//! `window_time(window)`; each aggregation's state is evicted by the watermark it sees.

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("chained_windows");
        trigger(AvailableNow);
        checkpoint("target/chained_windows-macro-checkpoint");
        let events = read_stream
            .json("examples/data/events")
            .schema("timestamp TIMESTAMP, word STRING")
            .max_files_per_trigger(1);
        let hourly_counts = events
            .with_watermark("timestamp", "10 minutes")
            .group_by(["window(timestamp, '10 minutes', '5 minutes')", "word"])
            .agg(["count(*) AS count"])
            .group_by(["window(window_time(window), '20 minutes')", "word"])
            .agg(["count(*) AS windows", "sum(count) AS count"]);
        hourly_counts
            .write_stream()
            .output_mode("append")
            .console()
            .json("target/chained_windows-macro-out");
    };
    app.with_cli_args()?.start()?.await_termination()
}
