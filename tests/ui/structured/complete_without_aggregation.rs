use streamc_runtime::prelude::*;

fn main() {
    let _app = stream! {
        let lines = read_stream.socket("localhost", 9999);
        let words = lines.select(["explode(split(value, ' ')) AS word"]);
        words.write_stream().output_mode("complete").console();
    };
}
