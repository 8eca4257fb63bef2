//! The seed's windowed event counts with `stream!` (the twin of
//! `examples/windowed_event_counts.yaml`): JSON events {timestamp, word} from a directory; counts
//! per word in 10-minute windows sliding every 5 minutes, with a 10-minute watermark; a window is
//! written once, when the watermark passes its end (append mode), to the console and a JSON file
//! sink.

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("windowed_event_counts");
        trigger(AvailableNow);
        checkpoint("target/windowed_event_counts-macro-checkpoint");
        let events = read_stream
            .json("examples/data/events")
            .schema("timestamp TIMESTAMP, word STRING")
            .max_files_per_trigger(1);
        let windowed_counts = events
            .with_watermark("timestamp", "10 minutes")
            .group_by(["window(timestamp, '10 minutes', '5 minutes')", "word"])
            .agg(["count(*)"]);
        windowed_counts
            .write_stream()
            .output_mode("append")
            .console()
            .json("target/windowed_event_counts-macro-out");
    };
    app.with_cli_args()?.start()?.await_termination()
}
