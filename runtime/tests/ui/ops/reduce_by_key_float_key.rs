use streamc_runtime::{TextBatch, ops};

fn main() {
    let batch = TextBatch::new();
    let (_f, ty) = ops::map(batch.ty(), |l| (l.len() as f64, 1i64));
    let _ = ops::keyed_reduce(ty);
}
