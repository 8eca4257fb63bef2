use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        let counts = lines.reduce_by_key(|a, b| a);
        counts.print();
    };
}
