use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let events = read_stream.json("/tmp/streamc-never-created").schema("timestamp TIMESTMP, word STRING");
        events.write_stream().console();
    };
}
