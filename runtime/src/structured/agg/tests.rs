//! Unit tests of the streaming aggregation's state: order, evictions, snapshots.

use super::*;
use crate::partition::Partitioned;

type Counts = StreamingAgg<(Timestamp, Timestamp, String), i64>;

fn entries(agg: &Counts) -> Vec<((Timestamp, Timestamp, String), i64)> {
    agg.iter().map(|(k, a)| (k.clone(), *a)).collect()
}

fn saved(agg: &Counts) -> Vec<u8> {
    let mut bytes = Vec::new();
    agg.save(&mut bytes);
    bytes
}

fn restored(bytes: &[u8]) -> Result<Counts, Error> {
    let mut agg = Counts::new();
    agg.restore(bytes).map(|()| agg)
}

/// Two windows, the second's words after the first's, then the first's again: the order of
/// insertion, not of windows.
fn sample() -> Counts {
    let mut agg = Counts::new();
    let w = |m: i64| (Timestamp(m * 60_000_000), Timestamp((m + 10) * 60_000_000));
    for (m, word, n) in [(0, "cat", 2), (0, "dog", 1), (5, "cat", 7), (0, "éléphant", 3), (5, "", 1)] {
        agg.update((w(m).0, w(m).1, word), |c| *c += n, || 0);
    }
    agg
}

#[test]
fn a_snapshot_of_the_first_format_still_restores() {
    // Written by the runtime before the compact format, for the state of
    // [((0, 600_000_000, "cat"), 2), ((0, 600_000_000, "dog"), -1)].
    let mut old: Vec<u8> = vec![2, 0, 0, 0, 0, 0, 0, 0];
    for (word, n) in [("cat", 2i64), ("dog", -1)] {
        old.extend_from_slice(&[0; 8]);
        old.extend_from_slice(&[0x00, 0x46, 0xc3, 0x23, 0, 0, 0, 0]);
        old.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0]);
        old.extend_from_slice(word.as_bytes());
        old.extend_from_slice(&n.to_le_bytes());
    }
    let agg = restored(&old).unwrap();
    let w = (Timestamp(0), Timestamp(600_000_000));
    assert_eq!(entries(&agg), [((w.0, w.1, "cat".to_owned()), 2), ((w.0, w.1, "dog".to_owned()), -1)]);
    assert_eq!(agg.get((w.0, w.1, "dog")), Some(&-1));
    // Saved again, it is compact, and restores to the same entries.
    let again = saved(&agg);
    assert!(again.starts_with(&COMPACT_TAG) && again.len() < old.len(), "{again:?}");
    assert_eq!(entries(&restored(&again).unwrap()), entries(&agg));
    // The empty state of the first format.
    assert!(restored(&[0; 8]).unwrap().is_empty());
}

#[test]
fn a_compact_snapshot_restores_in_order_and_damage_is_an_error() {
    let agg = sample();
    let bytes = saved(&agg);
    let back = restored(&bytes).unwrap();
    assert_eq!(entries(&back), entries(&agg));
    assert_eq!(back.updated_count(), 0);
    assert!(restored(&saved(&Counts::new())).unwrap().is_empty());
    for cut in 0..bytes.len() {
        let e = restored(&bytes[..cut]).err().unwrap_or_else(|| panic!("prefix {cut} restored"));
        assert!(e.to_string().starts_with("corrupt checkpoint"), "{e}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(restored(&longer).is_err());
    let mut version = bytes.clone();
    version[8] = 2;
    assert!(restored(&version).unwrap_err().to_string().contains("unknown format 2"));
    // Header: tag, version, count 5, then one run of 5; a run of 0 or of more than is left
    // is refused.
    assert_eq!(bytes[8..11], [1, 5, 5]);
    for bad in [0, 6] {
        let mut run = bytes.clone();
        run[10] = bad;
        assert!(restored(&run).unwrap_err().to_string().contains("a run of"));
    }
}

#[test]
fn snapshots_put_together_hold_every_piece_in_order_in_either_format() {
    let agg = sample();
    let all = entries(&agg);
    let (a, b) = all.split_at(2);
    let piece = |es: &[((Timestamp, Timestamp, String), i64)]| {
        let mut p = Counts::new();
        for (k, n) in es {
            p.update_owned(k.clone(), |c| *c += n, || 0);
        }
        p
    };
    let (a, b) = (saved(&piece(a)), saved(&piece(b)));
    // The first format of piece b, as `Vec<(K, A)>::write` writes it.
    let b_old = {
        let mut out = Vec::new();
        entries(&restored(&b).unwrap()).write(&mut out);
        out
    };
    let empty = saved(&Counts::new());
    for pieces in [vec![&a, &b], vec![&a, &b_old], vec![&empty, &a, &empty, &b_old]] {
        let pieces: Vec<&[u8]> = pieces.into_iter().map(Vec::as_slice).collect();
        let whole = Counts::concat_snapshots(&pieces).unwrap();
        assert_eq!(entries(&restored(&whole).unwrap()), all);
    }
    assert_eq!(Counts::concat_snapshots(&[&a, &b]).unwrap().len(), a.len() + b.len() - 10);
    assert!(Counts::concat_snapshots(&[&a, &b_old[..5]]).is_err());
}

/// Many batches of updates with eviction against a model (a list in first-insertion order):
/// the same rows come out, in the same order, and the state holds the same entries, across
/// the holes evictions leave and the compactions that drop them.
#[test]
fn evictions_keep_the_order_of_a_list() {
    let mut agg: StreamingAgg<(i64, String), i64> = StreamingAgg::new();
    let mut model: Vec<((i64, String), i64)> = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| crate::test_rng::below(&mut seed, n);
    for batch in 0..60i64 {
        for _ in 0..next(400) {
            // Mostly recent windows, sometimes an old one (a late row).
            let w = (batch - next(4) as i64 - if next(10) == 0 { 5 } else { 0 }).max(0);
            let word = format!("w{}", next(50));
            agg.update((w, word.as_str()), |c| *c += 1, || 0);
            match model.iter_mut().find(|(k, _)| k.0 == w && k.1 == word) {
                Some((_, c)) => *c += 1,
                None => model.push(((w, word), 1)),
            }
        }
        let wm = batch - 3;
        let mode = if batch % 3 == 0 { OutputMode::Update } else { OutputMode::Append };
        let rows = agg.finish_batch(mode, Some(Timestamp(wm)), |k| Timestamp(k.0));
        let gone: Vec<_> = model.iter().filter(|(k, _)| k.0 <= wm).cloned().collect();
        if mode == OutputMode::Append {
            assert_eq!(rows, gone, "batch {batch}");
        }
        model.retain(|(k, _)| k.0 > wm);
        let here: Vec<_> = agg.iter().map(|(k, a)| (k.clone(), *a)).collect();
        assert_eq!(here, model, "batch {batch}");
        assert_eq!(agg.len(), model.len());
        assert_eq!(agg.updated_count(), 0);
        for (k, c) in &model {
            assert_eq!(agg.get((k.0, k.1.as_str())), Some(c));
        }
        // A snapshot restores the same entries, holes or not.
        let back = restored_any(&agg);
        assert_eq!(back, model);
    }
}

/// A state of keys `(i, "k")` for `i` in 0..400, each counting `i`, and the list of its keys.
fn four_hundred_keys() -> (StreamingAgg<(i64, String), i64>, Vec<i64>) {
    let mut agg = StreamingAgg::new();
    for i in 0..400i64 {
        agg.update((i, "k"), |c| *c += i, || 0);
    }
    (agg, (0..400).collect())
}

/// `agg` holds exactly the keys `(i, "k")` of `live`, in that order, each counting `i`, and
/// finds none of `others` that is not live.
fn holds_exactly(agg: &StreamingAgg<(i64, String), i64>, live: &[i64], others: impl Iterator<Item = i64>, at: &str) {
    assert_eq!(agg.iter().map(|(k, _)| k.0).collect::<Vec<_>>(), live, "{at}");
    for i in others.chain(live.iter().copied()) {
        assert_eq!(agg.get((i, "k")), live.contains(&i).then_some(&i), "{at}: key {i}");
    }
}

/// Each way an eviction leaves the table — a few keys found one by one, the table made anew from
/// the kept hashes, the state compacted — keeps exactly the live keys findable, in order.
#[test]
fn every_way_of_evicting_keeps_the_table_exact() {
    let (mut agg, mut live) = four_hundred_keys();
    // 3 of 400 (few), 159 of 397 (many), then enough for holes to outnumber entries.
    for (round, cut) in [|k: i64| k % 150 == 7, |k: i64| k % 5 < 2, |k: i64| k < 300].into_iter().enumerate() {
        agg.end_batch_evicting(|k, _| cut(k.0));
        live.retain(|&k| !cut(k));
        assert_eq!(agg.slots.len() == agg.len(), round == 2, "compacted in the last round only");
        holds_exactly(&agg, &live, 0..400, &format!("round {round}"));
        // New keys still go in after the others, and are found.
        agg.update((1000i64, "k"), |c| *c += 1000, || 0);
        live.push(1000);
        assert_eq!(agg.get((1000i64, "k")), Some(&1000));
        agg.end_batch_evicting(|k, _| k.0 == 1000);
        live.pop();
    }
}

/// After an eviction that compacted, the next ones compact as they go, one pass
/// (`evict_compacting`): the same entries in the same order, every live key findable, new keys
/// going in after them; the pass goes back to leaving holes when it removed fewer than it kept.
#[test]
fn an_eviction_that_compacts_as_it_goes_keeps_the_table_exact() {
    let (mut agg, mut live) = four_hundred_keys();
    // Compacts (holes outnumber entries), then: many of few left, an odd pattern, all of
    // them, then (the state empty and refilled with two keys) none.
    type Cut = fn(i64) -> bool;
    let cuts: [(Cut, bool); 5] = [
        (|k| k < 300, true),
        (|k| k % 3 != 0 && k < 2000, true),
        (|k| k % 2 == 0 || k > 2000, true),
        (|_| true, true),
        (|_| false, false),
    ];
    for (round, (cut, compacts_next)) in cuts.into_iter().enumerate() {
        let passes_in_one = agg.compact_next;
        agg.end_batch_evicting(|k, _| cut(k.0));
        live.retain(|&k| !cut(k));
        assert_eq!(passes_in_one, round > 0, "round {round}");
        assert_eq!(agg.compact_next, compacts_next, "round {round}");
        assert_eq!(agg.slots.len(), agg.len(), "round {round}: no holes");
        assert_eq!(agg.updated_count(), 0);
        holds_exactly(&agg, &live, (0..400).chain([1000 + round as i64, 5000]), &format!("round {round}"));
        // New keys go in after the others, are found, and update in place.
        for k in [1000 + round as i64, 5000] {
            if !live.contains(&k) {
                agg.update((k, "k"), |c| *c += k, || 0);
                live.push(k);
            }
            assert_eq!(agg.get((k, "k")), Some(&k));
        }
        assert_eq!(agg.iter().map(|(k, _)| k.0).collect::<Vec<_>>(), live);
    }
}

/// A batch cut anywhere into a first part updated in place and later parts built apart and
/// absorbed in order gives the state one pass gives: the same entries in the same order, the
/// same updated count, every key findable (by `get`, `get_mut`, `update`, `update_owned` and
/// `insert_new`, before the batch ends and after, while the keys the parts moved in wait for
/// the table); across batches whose evictions leave holes, remove keys one by one, make the
/// table anew or compact, in every output mode.
#[test]
fn parts_absorbed_in_order_equal_one_pass() {
    let mut whole: StreamingAgg<(i64, String), i64> = StreamingAgg::new();
    let mut split: StreamingAgg<(i64, String), i64> = StreamingAgg::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: u64| crate::test_rng::below(&mut seed, n);
    for batch in 0..40i64 {
        let rows: Vec<(i64, String, i64)> =
            (0..next(600)).map(|_| (batch - next(3) as i64, format!("w{}", next(40)), next(5) as i64 - 1)).collect();
        for (w, word, n) in &rows {
            whole.update((*w, word.as_str()), |c| *c += n, || 0);
        }
        // Cut points anywhere, an empty part included sometimes.
        let mut cuts: Vec<usize> = (0..next(4)).map(|_| next(rows.len() as u64 + 1) as usize).collect();
        cuts.sort_unstable();
        let mut bounds = vec![0];
        bounds.extend(cuts);
        bounds.push(rows.len());
        for (w, word, n) in &rows[..bounds[1]] {
            split.update((*w, word.as_str()), |c| *c += n, || 0);
        }
        for pair in bounds[1..].windows(2) {
            let mut part = StreamingAgg::with_capacity(split.part_capacity());
            for (w, word, n) in &rows[pair[0]..pair[1]] {
                part.update((*w, word.as_str()), |c| *c += n, || 0);
            }
            split.absorb(part, |a, b| *a += b);
        }
        // The keys the parts moved in are found before the batch ends, by every kind of lookup.
        for (k, c) in whole.iter() {
            assert_eq!(split.get((k.0, k.1.as_str())), Some(c), "batch {batch}");
        }
        if batch % 3 == 1 {
            let late: Vec<(i64, String)> = rows.iter().rev().take(5).map(|(w, word, _)| (*w, word.clone())).collect();
            for (w, word) in late {
                for agg in [&mut whole, &mut split] {
                    agg.update((w, word.as_str()), |c| *c += 100, || 0);
                    *agg.get_mut((w, word.as_str())).unwrap() += 1;
                    assert!(!agg.insert_new((w, word.as_str()), || 0));
                    agg.update_owned((w, word.clone()), |c| *c += 1000, || 0);
                }
            }
        }
        assert_eq!(split.updated_count(), whole.updated_count(), "batch {batch}");
        assert_eq!(split.len(), whole.len(), "batch {batch}");
        let (a, b): (Vec<_>, Vec<_>) = (split.iter().collect(), whole.iter().collect());
        assert_eq!(a, b, "batch {batch}");
        // Evicting nothing, a few keys, or many (the table made anew), in every output mode.
        let wm = Timestamp(batch - [1, 1, 2, 9][next(4) as usize]);
        let mode = [OutputMode::Update, OutputMode::Append, OutputMode::Complete][next(3) as usize];
        let rows_split = split.finish_batch(mode, Some(wm), |k| Timestamp(k.0));
        let rows_whole = whole.finish_batch(mode, Some(wm), |k| Timestamp(k.0));
        assert_eq!(rows_split, rows_whole, "batch {batch}");
        assert_eq!(split.len(), whole.len(), "batch {batch}");
        for (k, c) in whole.iter() {
            assert_eq!(split.get((k.0, k.1.as_str())), Some(c), "batch {batch}");
        }
    }
}

/// Keys a part moved in wait for the table until the batch ends: an eviction that removes a
/// few keys one by one, some of them waiting, keeps every other key findable.
#[test]
fn a_few_keys_evicted_while_the_parts_keys_wait_for_the_table() {
    let mut agg: StreamingAgg<(i64, String), i64> = StreamingAgg::new();
    for i in 0..100 {
        agg.update((10i64, format!("old{i}").as_str()), |c| *c += 1, || 0);
    }
    agg.update((1i64, "old-early"), |c| *c += 1, || 0);
    let mut part: StreamingAgg<(i64, String), i64> = StreamingAgg::new();
    for word in ["old5", "new-early", "new0", "new1"] {
        let w: i64 = if word.ends_with("early") { 1 } else { 10 };
        part.update((w, word), |c| *c += 1, || 0);
    }
    agg.absorb(part, |a, b| *a += b);
    assert_eq!(agg.indexed, 101, "the part's new keys wait");
    let rows = agg.finish_batch(OutputMode::Append, Some(Timestamp(1)), |k| Timestamp(k.0));
    let gone: Vec<_> = rows.iter().map(|(k, c)| (k.1.as_str(), *c)).collect();
    assert_eq!(gone, [("old-early", 1), ("new-early", 1)]);
    assert_eq!(agg.slots.len(), 104, "removed one by one, holes left");
    assert_eq!(agg.indexed, agg.slots.len());
    assert_eq!(agg.len(), 102);
    for i in 0..100 {
        assert_eq!(agg.get((10i64, format!("old{i}").as_str())), Some(&(1 + i64::from(i == 5))));
    }
    for word in ["new0", "new1"] {
        assert_eq!(agg.get((10i64, word)), Some(&1));
    }
    assert_eq!(agg.get((1i64, "new-early")), None);
    assert_eq!(agg.get((1i64, "old-early")), None);
}

fn restored_any(agg: &StreamingAgg<(i64, String), i64>) -> Vec<((i64, String), i64)> {
    let mut bytes = Vec::new();
    agg.save(&mut bytes);
    let mut back: StreamingAgg<(i64, String), i64> = StreamingAgg::new();
    back.restore(&bytes).unwrap();
    back.iter().map(|(k, a)| (k.clone(), *a)).collect()
}

/// In a cluster each process absorbs pieces cut from the processes' partials; the room its
/// next partial gets is the largest partial's (a piece holds about one process's keys, a
/// partial every process's), whichever piece it absorbs first; and the next batch starts anew.
#[test]
fn part_capacity_after_pieces_is_the_partial_size() {
    use crate::partition::Partition;
    let partial = |words: std::ops::Range<usize>| {
        let mut p: StreamingAgg<(Timestamp, String), i64> = StreamingAgg::new();
        for i in words {
            p.update((Timestamp(0), format!("w{i}").as_str()), |c| *c += 1, || 0);
        }
        p
    };
    for own_first in [true, false] {
        let mut state: StreamingAgg<(Timestamp, String), i64> = StreamingAgg::new();
        // Process 0's partial has 300 keys, process 1's 200; this is process 0 of 2.
        let mine = partial(0..300).split(2).swap_remove(0);
        let theirs = partial(300..500).split(2).swap_remove(0);
        let (a, b) = if own_first { (mine, theirs) } else { (theirs, mine) };
        state.absorb(a, |x, y| *x += y);
        state.absorb(b, |x, y| *x += y);
        assert!(state.len() < 300);
        assert!(state.part_capacity() >= 300, "own piece first: {own_first}: {}", state.part_capacity());
        // The batch ends; the next one's only part is a worker's 50 keys.
        state.finish_batch(OutputMode::Update, None, |k| k.0);
        state.absorb(partial(0..50), |x, y| *x += y);
        assert_eq!(state.part_capacity(), 50 + 50 / 8);
        // And the next one's first part runs straight into the state (keys updated before any
        // part is absorbed), then a worker's 20 keys: the room shrinks to them.
        state.finish_batch(OutputMode::Update, None, |k| k.0);
        state.update((Timestamp(0), "w1"), |c| *c += 1, || 0);
        state.absorb(partial(100..120), |x, y| *x += y);
        assert_eq!(state.part_capacity(), 20 + 20 / 8);
    }
}
