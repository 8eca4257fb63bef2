use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(Seconds(2));
        let lines = socket_text_stream("localhost", 9999);
        let pairs = lines.map(|w| (w, 1));
        let windowed = pairs.reduce_by_key_and_window(|a, b| a + b, Seconds(5), Seconds(2));
        windowed.print();
    };
}
