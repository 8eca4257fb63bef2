//! The seed's stateful word count with `stream!` (Spark's StatefulNetworkWordCount): a running
//! count per word, kept with `map_with_state`, checkpointed in
//! `target/stateful_word_count-checkpoint`.

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("stateful_word_count");
        batch_interval(Seconds(1));
        checkpoint("target/stateful_word_count-checkpoint");
        let lines = socket_text_stream("localhost", 9999);
        let words = lines.flat_map(|line| java_split(line, " "));
        let word_dstream = words.map(|word| (word, 1i64));
        let state_dstream = word_dstream.map_with_state(
            StateSpec::function(|word: &String, one: Option<i64>, state: &mut State<i64>| {
                let sum = one.unwrap_or(0) + state.get_option().unwrap_or(0);
                state.update(sum);
                (word.clone(), sum)
            })
            .initial_state(vec![("hello".to_string(), 1i64), ("world".to_string(), 1i64)])
        );
        state_dstream.print();
    };
    app.with_cli_args()?.start()?.await_termination()
}
