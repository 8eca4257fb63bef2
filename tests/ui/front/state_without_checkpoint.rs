use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        let pairs = lines.map(|w| (w, 1i64));
        let running = pairs.update_state_by_key(|vs: &[i64], s: Option<i64>| Some(vs.iter().sum::<i64>() + s.unwrap_or(0)));
        running.print();
    };
}
