use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let events = read_stream.json("/tmp/streamc-never-created").schema("timestamp TIMESTAMP, word STRING");
        let counts = events.group_by(["window(timestamp, '10 minutes')", "word"]).count();
        counts.write_stream().output_mode("append").console();
    };
}
