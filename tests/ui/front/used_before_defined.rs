use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(500ms);
        let pairs = words.map(|w| (w, 1));
        let words = socket_text_stream("localhost", 9999);
        pairs.print();
    };
}
