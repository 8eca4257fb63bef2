use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        batch_interval(Seconds(1));
        let lines = socketTextStream("localhost", 9999);
        lines.print();
    };
}
