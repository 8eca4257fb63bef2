use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let lines = read_stream.socket("localhost", 9999);
        let counts = lines.groupBy(["value"]).count();
        counts.write_stream().output_mode("complete").console();
    };
}
