use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let events = read_stream.json("/tmp/streamc-never-created").schema("timestamp TIMESTAMP, word STRING");
        let unique = events.with_watermark("timestamp", "1 minute").drop_duplicates(["timestamp", "wrod"]);
        unique.write_stream().console();
    };
}
