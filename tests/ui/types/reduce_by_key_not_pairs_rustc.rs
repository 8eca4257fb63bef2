//! streamc cannot see this closure's result type, so rustc checks it through the operator's
//! bound, whose message names `reduce_by_key`.
use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        let lengths = lines.map(|line| line.len());
        let counts = lengths.reduce_by_key(|a, b| a + b);
        counts.print();
    };
}
