//! A DAG: one stream read by two operators and an output; chains; every operator of the issue.
use streamc_runtime::prelude::*;

fn main() {
    let min_len = 2;
    let _app = stream! {
        batch_interval(500ms);
        let lines = text_file_stream("/tmp/streamc-never-created");
        let words = lines.flat_map(|l| l.split_whitespace());
        let long = words.filter(move |w| w.len() > min_len);
        let total = words.count();
        let longest = long.reduce(|a, b| if b.len() > a.len() { b } else { a });
        let counts = long.map(|w| (w.to_uppercase(), 1u64)).reduce_by_key(|a, b| a + b);
        words.print(3);
        total.print();
        longest.print();
        counts.save_as_text_files("/tmp/streamc-never-written/counts", "txt");
    };
}
