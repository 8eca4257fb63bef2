use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let events = read_stream.json("/tmp/streamc-never-created").schema("timestamp TIMESTAMP, word STRING");
        let cats = events.where_("wrod = 'cat'");
        cats.write_stream().console();
    };
}
