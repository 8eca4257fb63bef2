//! Every DStream operator through `stream!`: windows, state, joins, union, transform, outputs.
use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(Seconds(1));
        checkpoint("/tmp/streamc-ui-never-written");
        let lines = socket_text_stream("localhost", 9999);
        let words = lines.flat_map(|l| java_split(l, " "));
        let pairs = words.map(|w| (w, 1i64));
        let lengths = words.map(|w| (w, w.len()));
        let doubled = pairs.map_values(|v| v * 2);
        let chars = lengths.flat_map_values(|n| 0..n);
        let spread = pairs.repartition(2);
        let both = pairs.union(spread);
        let joined = pairs.join(lengths);
        let left = pairs.left_outer_join(lengths);
        let right = pairs.right_outer_join(lengths);
        let full = pairs.full_outer_join(lengths);
        let cogrouped = pairs.cogroup(lengths);
        let grouped = doubled.group_by_key();
        let by_value = words.count_by_value();
        let sorted = words.transform(|mut batch: Vec<&str>| { batch.sort(); batch });
        let recent = words.window(Seconds(3), Seconds(1));
        let window_count = words.count_by_window(Seconds(2), Seconds(1));
        let window_sum = pairs.map(|(_, n)| n).reduce_by_window(|a, b| a + b, Seconds(2), Seconds(2));
        let window_sum_inv = pairs.map(|(_, n)| n).reduce_by_window(|a, b| a + b, |a, b| a - b, Seconds(4), Seconds(2));
        let windowed = pairs.reduce_by_key_and_window(|a, b| a + b, |a, b| a - b, Seconds(4), Seconds(2), |kv: &(String, i64)| kv.1 != 0);
        let value_counts = words.count_by_value_and_window(Seconds(3), Seconds(1));
        let running = pairs.update_state_by_key(|values: &[i64], state: Option<i64>| Some(values.iter().sum::<i64>() + state.unwrap_or(0)));
        let tracked = pairs.map_with_state(
            StateSpec::function(|word: &String, one: Option<i64>, state: &mut State<i64>| {
                if state.is_timing_out() {
                    return (word.clone(), -1);
                }
                let sum = one.unwrap_or(0) + state.get_option().unwrap_or(0);
                state.update(sum);
                (word.clone(), sum)
            })
            .timeout(Seconds(5))
            .num_partitions(2)
        );
        let snapshots = tracked.state_snapshots();
        both.print();
        joined.print();
        left.print();
        right.print();
        full.print();
        cogrouped.print();
        grouped.print();
        by_value.print();
        sorted.print();
        recent.print();
        window_count.print();
        window_sum.print();
        window_sum_inv.print();
        windowed.print();
        value_counts.print();
        running.print();
        chars.print();
        snapshots.print();
        tracked.foreach_batch(|time_ms, records| println!("{time_ms}: {}", records.len()));
    };
}
