//! The seed's Structured Streaming word count with `stream!` (the twin of
//! `examples/structured_word_count.yaml`): lines from a TCP server (`nc -lk 9999`) as an
//! unbounded table with one column `value`; words counted since the start; the whole table
//! printed after every batch (complete mode). Spark:
//! `lines.select(explode(split(lines.value, " ")).alias("word")).groupBy("word").count()`.

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("structured_word_count");
        let lines = read_stream.socket("localhost", 9999);
        let words = lines.select(["explode(split(value, ' ')) AS word"]);
        let word_counts = words.group_by(["word"]).count();
        word_counts.write_stream().output_mode("complete").console();
    };
    app.with_cli_args()?.start()?.await_termination()
}
