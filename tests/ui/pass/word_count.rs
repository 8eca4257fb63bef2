//! The seed's word count compiles (it is built, not started: it would wait for a server).
use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        app_name("network_word_count");
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        let words = lines.flat_map(|line| java_split(line, " "));
        let pairs = words.map(|word| (word, 1));
        let word_counts = pairs.reduce_by_key(|a, b| a + b);
        word_counts.print();
    };
}
