use streamc_runtime::{TextBatch, ops};

fn main() {
    let batch = TextBatch::new();
    let _ = ops::reduce_by_key(batch.ty(), |a, _b| a);
}
