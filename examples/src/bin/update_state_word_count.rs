//! The running word count with `update_state_by_key` and `stream!`: every batch prints every
//! word seen so far with its total.

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("update_state_word_count");
        batch_interval(Seconds(1));
        checkpoint("target/update_state_word_count-checkpoint");
        let lines = socket_text_stream("localhost", 9999);
        let words = lines.flat_map(|line| java_split(line, " "));
        let pairs = words.map(|word| (word, 1i64));
        let running_counts = pairs.update_state_by_key(|values: &[i64], state: Option<i64>| {
            Some(values.iter().sum::<i64>() + state.unwrap_or(0))
        });
        running_counts.print();
    };
    app.with_cli_args()?.start()?.await_termination()
}
