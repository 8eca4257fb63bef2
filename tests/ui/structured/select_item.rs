use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let events = read_stream.json("/tmp/streamc-never-created").schema("timestamp TIMESTAMP, word STRING");
        let loud = events.select(["word", "upper(wrod) AS loud"]);
        loud.write_stream().console();
    };
}
