//! The seed's windowed word count with `stream!`: every 10 s, the counts of the last 30 s.
//! `nc -lk 9999`, then `cargo run --release -p streamc-examples --bin windowed_word_count`.

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("windowed_word_count");
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        let words = lines.flat_map(|line| java_split(line, " "));
        let pairs = words.map(|word| (word, 1i64));
        let windowed_word_counts = pairs.reduce_by_key_and_window(|a, b| a + b, Seconds(30), Seconds(10));
        windowed_word_counts.print();
    };
    app.with_cli_args()?.start()?.await_termination()
}
