use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let events = read_stream.json("/tmp/streamc-never-created").schema("timestamp TIMESTAMP, word STRING");
        let late = events.with_watermark("timestamp", "ten minutes");
        late.write_stream().console();
    };
}
