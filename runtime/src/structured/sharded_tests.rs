use proptest::prelude::*;

use super::*;

type Key = (Timestamp, Timestamp, String);

fn key(window: u8, word: u8) -> Key {
    let start = i64::from(window) * 10;
    (Timestamp(start), Timestamp(start + 20), format!("w{word}"))
}

fn modes() -> impl Strategy<Value = OutputMode> {
    prop_oneof![Just(OutputMode::Append), Just(OutputMode::Update), Just(OutputMode::Complete)]
}

/// One pass over a batch's rows into `model`, and the same rows cut into `cuts`-bounded parts
/// run as the workers do: the first part straight into `sharded`, the others into partials
/// merged after it.
fn run_batch(model: &mut StreamingAgg<Key, i64>, sharded: &mut ShardedAgg<Key, i64>, rows: &[(u8, u8)], parts: usize) {
    for &(w, k) in rows {
        model.update(key(w, k), |c| *c += i64::from(k) + 1, || 0);
    }
    let size = rows.len().div_ceil(parts.max(1)).max(1);
    let mut chunks = rows.chunks(size);
    for &(w, k) in chunks.next().unwrap_or_default() {
        sharded.update(key(w, k), |c| *c += i64::from(k) + 1, || 0);
    }
    let partials: Vec<StreamingAgg<Key, i64>> = chunks
        .map(|chunk| {
            let mut p = StreamingAgg::new();
            for &(w, k) in chunk {
                p.update(key(w, k), |c| *c += i64::from(k) + 1, || 0);
            }
            p
        })
        .collect();
    sharded.absorb_parts(partials, |x, y| *x += y);
}

fn saved(state: &impl Checkpointed) -> Vec<u8> {
    let mut out = Vec::new();
    state.save(&mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Batch by batch, over any number of shards and parts (changed between batches, and the
    /// state saved and restored on the way), the rows, their order, the counts and the
    /// checkpoint are one state's.
    #[test]
    fn shards_and_parts_give_one_states_rows_in_its_order(
        batches in proptest::collection::vec(
            (proptest::collection::vec((0u8..6, 0u8..12), 0..60), 1usize..4, 1usize..5, 0i64..80),
            1..8,
        ),
        mode in modes(),
        restore_at in 0usize..8,
    ) {
        let mut model: StreamingAgg<Key, i64> = StreamingAgg::new();
        let mut sharded: ShardedAgg<Key, i64> = ShardedAgg::new();
        for (b, (rows, shards, parts, wm)) in batches.iter().enumerate() {
            if b == restore_at {
                let bytes = saved(&sharded);
                prop_assert_eq!(&bytes, &saved(&model), "a sharded state saves one state's bytes");
                let mut back = ShardedAgg::new();
                back.set_shards(*shards + 1);
                back.restore(&bytes).expect("restores");
                sharded = back;
            }
            sharded.set_shards(*shards);
            run_batch(&mut model, &mut sharded, rows, *parts);
            prop_assert_eq!(sharded.updated_count(), model.updated_count());
            let wm = Some(Timestamp(*wm));
            let want = model.finish_batch(mode, wm, |k| k.1);
            let got = sharded.finish_batch(mode, wm, |k| k.1);
            prop_assert_eq!(got, want, "batch {}", b);
            prop_assert_eq!(sharded.len(), model.len());
            prop_assert_eq!(sharded.updated_count(), 0);
            let all: Vec<_> = sharded.iter().map(|(k, a)| (k.clone(), *a)).collect();
            let model_all: Vec<_> = model.iter().map(|(k, a)| (k.clone(), *a)).collect();
            prop_assert_eq!(all, model_all);
        }
    }
}

#[test]
fn keys_spread_over_every_shard() {
    let mut s: ShardedAgg<Key, i64> = ShardedAgg::new();
    s.set_shards(3);
    for w in 0..10 {
        for k in 0..30 {
            s.update(key(w, k), |c| *c += 1, || 0);
        }
    }
    assert_eq!(s.len(), 300);
    for shard in &s.shards {
        assert!(shard.len() > 50, "a shard of 3 holds {} of 300 keys", shard.len());
    }
}
