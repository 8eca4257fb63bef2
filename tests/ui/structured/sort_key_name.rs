use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let events = read_stream.json("/tmp/streamc-never-created").schema("timestamp TIMESTAMP, word STRING");
        let counts = events.group_by(["word"]).count().order_by(["count", "cnt DESC"]);
        counts.write_stream().output_mode("complete").console();
    };
}
