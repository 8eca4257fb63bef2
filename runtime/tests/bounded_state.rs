//! On an endless stream, watermarked window state stays bounded: 1 M rows with advancing event
//! time go through the same runtime calls that generated code makes for
//! `with_watermark(10 min) + group_by(window(10 min, 5 min), word).count()` in append mode, and
//! the state's row count never exceeds what the watermark allows.

use streamc_runtime::structured::{OutputMode, StreamingAgg, Timestamp, Watermark, sliding_windows};

const MINUTE: i64 = 60_000_000;

#[test]
fn append_mode_state_stays_bounded_over_a_million_rows() {
    let mut agg: StreamingAgg<(Timestamp, Timestamp, String), i64> = StreamingAgg::new();
    let mut wm = Watermark::new(10 * MINUTE);
    let words: Vec<String> = (0..50).map(|i| format!("w{i}")).collect();
    let (batches, per_batch) = (200, 5_000);
    let mut max_state = 0;
    let mut emitted = 0u64;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for b in 0..batches {
        for r in 0..per_batch {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Event time advances one minute per batch, with up to 3 minutes of disorder.
            let ts = Timestamp(b as i64 * MINUTE + (seed % (3 * MINUTE as u64)) as i64);
            wm.observe(ts);
            let word = &words[(seed as usize + r) % words.len()];
            for (ws, we) in sliding_windows(ts, 10 * MINUTE, 5 * MINUTE, 0) {
                if wm.is_late(we) {
                    continue;
                }
                agg.update((ws, we, word.clone()), |c| *c += 1, || 0);
            }
        }
        emitted += agg.finish_batch(OutputMode::Append, Some(wm.current()), |k| k.1).len() as u64;
        wm.end_batch();
        max_state = max_state.max(agg.len());
    }
    // Live windows span watermark delay + window length + disorder (about 25 minutes of event
    // time, 5 windows), each with at most 50 words: far below the rows seen.
    assert!(max_state <= 6 * 50, "state grew to {max_state} rows");
    assert!(emitted > 0, "append mode emitted finished windows");
    assert!(agg.len() <= 6 * 50);
}
