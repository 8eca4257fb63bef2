use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(Seconds(1));
        checkpoint("/tmp/streamc-ui-checkpoint");
        let lines = socket_text_stream("localhost", 9999);
        let pairs = lines.map(|w| (w, 1i64));
        let counts = pairs.map_with_state(StateSpec::function(|word, one| (word, one)));
        counts.print();
    };
}
