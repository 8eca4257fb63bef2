use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        let pairs = lines.map(|w| (w, 1));
        let counts = pairs.reduceByKey(|a, b| a + b);
        counts.print();
    };
}
