use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let lines = read_stream.socket("localhost", 9999);
        let words = lines.flat_map(|l| l.split(' '));
        words.write_stream().console();
    };
}
