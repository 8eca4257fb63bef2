use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(Seconds(0));
        let lines = socket_text_stream("localhost", 9999);
        lines.print();
    };
}
