use streamc_runtime::{TextBatch, ops};

struct Opaque;

fn main() {
    let batch = TextBatch::new();
    let (_f, ty) = ops::map(batch.ty(), |_l| Opaque);
    let _ = ops::record(ty);
}
