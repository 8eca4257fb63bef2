//! The seed's NetworkWordCount, written with `stream!`: counts words in text received each
//! second from a TCP server. Start one with `nc -lk 9999`, then
//! `cargo run --release -p streamc-examples --bin network_word_count`.
//!
//! With `--replay DIR` it reads each file of DIR as one batch instead (see the README).

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("network_word_count");
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        // Java's String.split, as the seed's `_.split(" ")`: trailing empty strings dropped.
        let words = lines.flat_map(|line| java_split(line, " "));
        let pairs = words.map(|word| (word, 1));
        let word_counts = pairs.reduce_by_key(|a, b| a + b);
        word_counts.print();
    };
    app.with_cli_args()?.start()?.await_termination()
}
