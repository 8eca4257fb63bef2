//! Structured Streaming through `stream!`: every source format and setting, every step, both
//! sinks and their Spark spellings, several queries from one table.
use streamc_runtime::prelude::*;

fn main() {
    let _word_count = stream! {
        app_name("structured_word_count");
        let lines = read_stream.socket("localhost", 9999);
        let words = lines.select(["explode(split(value, ' ')) AS word"]);
        let word_counts = words.group_by(["word"]).count();
        word_counts.write_stream().output_mode("complete").console();
        words.where_("length(word) > 3").write_stream().query_name("long_words").console_with(5, false);
    };
    let _everything = stream! {
        app_name("everything");
        trigger(ProcessingTime("2 seconds"));
        checkpoint("/tmp/streamc-ui-never-written/checkpoint");
        let events = read_stream
            .json("/tmp/streamc-never-created/events")
            .schema("timestamp TIMESTAMP, word STRING, n BIGINT, ok BOOLEAN, x DOUBLE")
            .max_files_per_trigger(1)
            .mode("drop_malformed");
        let logs = read_stream
            .format("csv")
            .schema("ts TIMESTAMP, level STRING")
            .option("maxFilesPerTrigger", 2)
            .option("mode", "FAILFAST")
            .load("/tmp/streamc-never-created/logs");
        let notes = read_stream.text("/tmp/streamc-never-created/notes");
        let windowed = events
            .with_watermark("timestamp", "10 minutes")
            .filter("ok")
            .with_column("big", "n * 2")
            .group_by(["window(timestamp, '10 minutes', '5 minutes')", "word"])
            .agg(["count(*)", "max(big) AS m", "avg(x)"]);
        windowed
            .write_stream()
            .output_mode("append")
            .console()
            .format("json")
            .start("/tmp/streamc-ui-never-written/windowed");
        logs.select(["ts", "upper(level) AS level"]).write_stream().format("console").option("numRows", 50).start();
        notes.write_stream().output_mode("append").json("/tmp/streamc-ui-never-written/notes");
    };
}
