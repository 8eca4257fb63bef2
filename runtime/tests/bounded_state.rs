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

/// xorshift64: the same pseudo-random stream in every run.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// `with_watermark(10 min).drop_duplicates([word, timestamp])` as generated code runs it: the
/// state is evicted once the watermark passes a key's event time, so it holds only the keys of
/// the last ~13 minutes of event time, not the million rows seen.
#[test]
fn deduplication_state_stays_bounded_over_a_million_rows() {
    let mut dedup: StreamingAgg<(Option<String>, Option<Timestamp>), ()> = StreamingAgg::new();
    let mut wm = Watermark::new(10 * MINUTE);
    let words: Vec<String> = (0..50).map(|i| format!("w{i}")).collect();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let (mut max_state, mut kept) = (0, 0u64);
    for b in 0..200i64 {
        for _ in 0..5_000 {
            let s = next(&mut seed);
            // Whole seconds: many exact duplicates of (word, timestamp).
            let ts = Timestamp(b * MINUTE + (s % 180) as i64 * 1_000_000);
            wm.observe(ts);
            if wm.is_late(ts) {
                continue;
            }
            if dedup.insert_new((Some(words[(s >> 20) as usize % 50].as_str()), Some(ts)), || ()) {
                kept += 1;
            }
        }
        let current = wm.current();
        dedup.end_batch_evicting(|k, _| k.1.is_some_and(|t| t <= current));
        wm.end_batch();
        max_state = max_state.max(dedup.len());
    }
    assert!(kept > 100_000, "kept {kept}");
    // At most (10 min delay + 3 min disorder + 1 min) × 60 s × 50 words keys are live.
    assert!(max_state <= 14 * 60 * 50, "dedup state grew to {max_state}");
}

/// Session windows (5-minute gap) in append mode: closed sessions are emitted and evicted, so
/// the state holds only the sessions still open near the watermark.
#[test]
fn session_state_stays_bounded_over_a_million_rows() {
    use streamc_runtime::structured::session::SessionAgg;
    let mut sessions: SessionAgg<(String,), i64> = SessionAgg::new();
    let mut wm = Watermark::new(10 * MINUTE);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let (mut max_state, mut emitted) = (0, 0usize);
    for b in 0..200i64 {
        for _ in 0..5_000 {
            let s = next(&mut seed);
            // 5,000 users, each active in bursts: a user's events are 20 minutes apart.
            let user = (s % 5_000) as usize;
            let ts = Timestamp(b * MINUTE + (user as i64 % 20) * MINUTE + (s >> 40) as i64 % MINUTE);
            wm.observe(ts);
            sessions.add((format!("u{user}"),), ts, 5 * MINUTE, |c| *c += 1, || 0);
        }
        let (rows, _) =
            sessions.finish_batch(OutputMode::Append, Some(wm.for_late_events()), Some(wm.current()), |a, b| *a += b);
        emitted += rows.len();
        wm.end_batch();
        max_state = max_state.max(sessions.len());
    }
    assert!(emitted > 10_000, "emitted {emitted}");
    // Each user has at most a few sessions open within the watermark's reach.
    assert!(max_state <= 4 * 5_000, "session state grew to {max_state}");
}
