//! The seed's windowed event counts in update mode with `stream!` (the twin of
//! `examples/windowed_event_counts_update.yaml`): counts per word in 10-minute windows sliding
//! every 5 minutes; a window is printed whenever its count changes; the watermark evicts old
//! windows.

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("windowed_event_counts_update");
        trigger(AvailableNow);
        checkpoint("target/windowed_event_counts_update-macro-checkpoint");
        let events = read_stream
            .json("examples/data/events")
            .schema("timestamp TIMESTAMP, word STRING")
            .max_files_per_trigger(1);
        let windowed_counts = events
            .with_watermark("timestamp", "10 minutes")
            .group_by(["window(timestamp, '10 minutes', '5 minutes')", "word"])
            .count();
        windowed_counts.write_stream().output_mode("update").console();
    };
    app.with_cli_args()?.start()?.await_termination()
}
