use streamc_runtime::prelude::*;

struct Event {
    _len: usize,
}

fn main() {
    let _app = stream! {
        batch_interval(Seconds(1));
        let lines = socket_text_stream("localhost", 9999);
        let events = lines.map(|line| Event { _len: line.len() });
        events.print();
    };
}
