//! Unit tests of the checkpoint formats: round trips, damage detection, versions.

use super::commits::MAGIC;
use super::*;

#[test]
fn pipeline_changes_name_what_is_gone_new_or_different() {
    let saved = vec![
        ("source `a`".to_owned(), "socket".to_owned()),
        ("stateful operator `q/state`".to_owned(), "group by [word] aggregate [count]".to_owned()),
    ];
    assert!(pipeline_changes(&saved, &saved).is_empty());
    assert!(pipeline_changes(&[], &saved).is_empty(), "a version 2 checkpoint is not checked");
    let now = vec![
        ("source `b`".to_owned(), "socket".to_owned()),
        ("stateful operator `q/state`".to_owned(), "group by [category] aggregate [count]".to_owned()),
    ];
    assert_eq!(
        pipeline_changes(&saved, &now),
        [
            "source `a` (socket) is gone",
            "stateful operator `q/state` was `group by [word] aggregate [count]`, now `group by [category] aggregate [count]`",
            "source `b` (socket) is new",
        ]
    );
}

#[test]
fn the_pipeline_section_round_trips_and_version_2_files_still_read() {
    let c = Checkpoint {
        app: "a".into(),
        time_ms: 5,
        zero_ms: 0,
        interval_ms: 1,
        replay: Vec::new(),
        states: vec![("s".into(), vec![1, 2])],
        pipeline: vec![("source `x`".into(), "rate".into())],
        parts: Vec::new(),
        part_files: Vec::new(),
        shards: Vec::new(),
    };
    let (back, _) = Checkpoint::decode_with(&c.encode()).unwrap();
    assert_eq!(back.pipeline, c.pipeline);
    // The same checkpoint as version 3 wrote it: no part sections.
    let mut v3 = c.encode();
    v3.truncate(v3.len() - 8 - 4 - 4 - 4);
    v3[8..12].copy_from_slice(&3u32.to_le_bytes());
    let sum = fnv1a64(&v3);
    v3.extend_from_slice(&sum.to_le_bytes());
    let (old, _, version) = Checkpoint::decode_versioned(&v3).unwrap();
    assert_eq!((old, version), (c.clone(), 3));
    // The same checkpoint as version 2 wrote it: no pipeline section either.
    let mut v2 = c.encode();
    v2.truncate(v2.len() - 8 - 4 - 4 - 4);
    let section = 4 + (4 + "source `x`".len()) + (4 + "rate".len());
    v2.truncate(v2.len() - section);
    v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    let sum = fnv1a64(&v2);
    v2.extend_from_slice(&sum.to_le_bytes());
    let (old, _) = Checkpoint::decode_with(&v2).unwrap();
    assert!(old.pipeline.is_empty());
    assert_eq!(old.states, c.states);
}

fn sample() -> Checkpoint {
    Checkpoint {
        app: "stateful".to_owned(),
        time_ms: 4000,
        zero_ms: 0,
        interval_ms: 1000,
        replay: vec![("lines".to_owned(), 4)],
        states: vec![("counts".to_owned(), b"a=1\nb=2\n".to_vec()), ("empty".to_owned(), Vec::new())],
        pipeline: vec![("stateful operator `counts`".to_owned(), "update_state_by_key over (String, i64)".to_owned())],
        parts: vec![(
            "counts".to_owned(),
            vec![PartRef { id: 3000, stamp: 2, file: 3000 }, PartRef { id: 4000, stamp: 1, file: 4000 }],
        )],
        part_files: vec![(3000, 7), (4000, 9)],
        shards: vec![11, 12],
    }
}

fn query() -> QueryCheckpoint {
    QueryCheckpoint {
        batch_id: 7,
        query_id: "q-1".to_owned(),
        files: vec![("events".to_owned(), vec!["a.json".to_owned(), "b.json".to_owned()]), ("none".to_owned(), vec![])],
        no_data_pending: true,
    }
}

#[test]
fn encode_decode_round_trip() {
    let c = sample();
    assert_eq!(Checkpoint::decode(&c.encode()), Ok(c.clone()));
    assert_eq!(Checkpoint::decode_with(&c.encode()), Ok((c.clone(), None)));
    assert_eq!(Checkpoint::decode_with(&c.encode_with(Some(&query()))), Ok((c, Some(query()))));
    let none = Checkpoint {
        replay: Vec::new(),
        states: Vec::new(),
        parts: Vec::new(),
        part_files: Vec::new(),
        shards: Vec::new(),
        ..sample()
    };
    assert_eq!(Checkpoint::decode(&none.encode()), Ok(none));
    let p = PlannedBatch { app: "a".to_owned(), batch_id: 3, time_ms: 4000, files: query().files };
    assert_eq!(PlannedBatch::decode(&p.encode()), Ok(p));
}

#[test]
fn planned_batches_are_not_checkpoints() {
    let p = PlannedBatch { app: "a".to_owned(), batch_id: 3, time_ms: 4000, files: Vec::new() };
    assert!(matches!(Checkpoint::decode(&p.encode()), Err(Invalid::Corrupt(_))));
    assert!(matches!(PlannedBatch::decode(&sample().encode()), Err(Invalid::Corrupt(_))));
}

#[test]
fn every_truncation_and_every_byte_flip_is_detected() {
    let bytes = sample().encode_with(Some(&query()));
    for n in 0..bytes.len() {
        assert!(matches!(Checkpoint::decode(&bytes[..n]), Err(Invalid::Corrupt(_))), "truncated to {n}");
    }
    for i in 0..bytes.len() {
        for bit in [0x01, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            assert!(matches!(Checkpoint::decode(&b), Err(Invalid::Corrupt(_))), "byte {i} bit {bit:#x}");
        }
    }
}

#[test]
fn another_version_is_a_mismatch() {
    let mut bytes = sample().encode();
    bytes.truncate(bytes.len() - 8);
    bytes[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&1u32.to_le_bytes());
    let sum = fnv1a64(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    assert!(matches!(Checkpoint::decode(&bytes), Err(Invalid::Mismatch(m)) if m.contains("version 1")));
}

#[test]
fn metadata_round_trips_and_every_truncation_is_detected() {
    let m = Metadata { version: FORMAT_VERSION, app: "odd \"name\" \\ \u{1}é".to_owned(), id: "q-1".to_owned() };
    let bytes = m.encode();
    assert_eq!(Metadata::decode(&bytes), Ok(m));
    for n in 0..bytes.len() {
        assert!(matches!(Metadata::decode(&bytes[..n]), Err(Invalid::Corrupt(_))), "truncated to {n}");
    }
}

#[test]
fn metadata_is_read_as_json_and_checks_its_version() {
    let hand = b"{ \"id\": \"q\", \"note\": \"ignored\",\n  \"app\": \"a\", \"version\": 3 }\n";
    assert_eq!(Metadata::decode(hand), Ok(Metadata { version: 3, app: "a".to_owned(), id: "q".to_owned() }));
    let newer = b"{\"version\":7,\"app\":\"a\",\"id\":\"q\"}\n";
    assert!(matches!(Metadata::decode(newer), Err(Invalid::Mismatch(m)) if m.contains("layout version 7")));
    for bad in [&b"{\"version\":3,\"app\":\"a\"}\n"[..], b"{\"version\":\"3\",\"app\":\"a\",\"id\":\"q\"}\n", b"[]\n"] {
        assert!(matches!(Metadata::decode(bad), Err(Invalid::Corrupt(_))), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn part_files_round_trip_and_every_truncation_and_byte_flip_is_detected() {
    let part = |state: &str, id, stamp, bytes: &[u8]| Part { state: state.into(), id, stamp, bytes: bytes.to_vec() };
    let f = PartFile { parts: vec![part("q/state", -5, 3, b"abc"), part("w", 7, 0, b"")] };
    let bytes = f.encode();
    assert_eq!(PartFile::decode(&bytes), Ok(f.clone()));
    let mut n = NewParts::new(9);
    n.add("q/state", -5, 3, |out| out.extend_from_slice(b"abc"));
    n.add("w", 7, 0, |_| {});
    n.add("q/state", -5, 3, |_| panic!("added twice"));
    let (same, sum) = n.finish().unwrap();
    assert_eq!(same, bytes);
    assert_eq!(sum.to_le_bytes(), bytes[bytes.len() - 8..]);
    assert!(NewParts::new(1).finish().is_none());
    assert_eq!(PartFile::decode(&PartFile::default().encode()), Ok(PartFile::default()));
    for n in 0..bytes.len() {
        assert!(matches!(PartFile::decode(&bytes[..n]), Err(Invalid::Corrupt(_))), "truncated to {n}");
    }
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        assert!(matches!(PartFile::decode(&b), Err(Invalid::Corrupt(_))), "byte {i}");
    }
    // Neither a commit nor a planned batch.
    assert!(matches!(Checkpoint::decode(&bytes), Err(Invalid::Corrupt(_))));
    assert!(matches!(PartFile::decode(&sample().encode()), Err(Invalid::Corrupt(_))));
}

#[test]
fn a_commit_using_a_part_twice_or_an_unlisted_file_is_corrupt() {
    let mut c = sample();
    c.parts[0].1[1].id = 3000;
    assert!(matches!(Checkpoint::decode(&c.encode()), Err(Invalid::Corrupt(m)) if m.contains("part 3000 twice")));
    let mut c = sample();
    c.parts[0].1[1].file = 5000;
    assert!(matches!(Checkpoint::decode(&c.encode()), Err(Invalid::Corrupt(m)) if m.contains("unlisted file")));
    let mut c = sample();
    c.part_files.reverse();
    assert!(matches!(Checkpoint::decode(&c.encode()), Err(Invalid::Corrupt(m)) if m.contains("time order")));
}

#[test]
fn names_sort_by_time() {
    let mut names: Vec<String> = [10_000, 9000, 100_000, 1000].into_iter().map(file_name).collect();
    names.sort();
    assert_eq!(names, [file_name(1000), file_name(9000), file_name(10_000), file_name(100_000)]);
}

#[test]
fn shard_file_names_parse_back() {
    use super::layout::{parse_shard_file_name, shard_file_name};
    for (t, p) in [(4000, 0), (4000, 12), (-5, 1), (0, 3)] {
        assert_eq!(parse_shard_file_name(&shard_file_name(t, p)), Some((t, p)));
    }
    for bad in ["00000000000000004000", "-1", "4000-", "a-1", "4000-1x", ".4000-1.tmp"] {
        assert_eq!(parse_shard_file_name(bad), None, "{bad}");
    }
}

#[test]
fn shards_are_checked_on_load_and_pruned_with_their_commit() {
    let dir = std::env::temp_dir().join(format!("streamc-shards-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let shard = |p: usize, n: usize, bytes: &[u8]| {
        let mut w = PartFileWriter::default();
        w.add("agg", p as i64, n as u64, |o| o.extend_from_slice(bytes));
        w.finish()
    };
    let commit = |time_ms: i64, shards: Vec<u64>| Checkpoint {
        app: "a".into(),
        time_ms,
        zero_ms: 0,
        interval_ms: 1000,
        replay: Vec::new(),
        states: Vec::new(),
        pipeline: Vec::new(),
        parts: Vec::new(),
        part_files: Vec::new(),
        shards,
    };
    let mut index = PartIndex::default();
    for t in [1000, 2000, 3000, 4000, 5000] {
        let (b0, s0) = shard(0, 2, b"zero");
        let (b1, s1) = shard(1, 2, format!("one at {t}").as_bytes());
        write_shard(&dir, t, 0, &b0).unwrap();
        write_shard(&dir, t, 1, &b1).unwrap();
        write(&dir, &commit(t, vec![s0, s1]), None, None, &mut index).unwrap();
    }
    // A shard of a batch whose commit is not written yet is left.
    write_shard(&dir, 6000, 0, &shard(0, 2, b"next").0).unwrap();
    let mut left: Vec<String> =
        std::fs::read_dir(dir.join(SHARDS)).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    let names = |ts: &[(i64, usize)]| ts.iter().map(|&(t, p)| super::layout::shard_file_name(t, p)).collect::<Vec<_>>();
    assert_eq!(left, names(&[(3000, 0), (3000, 1), (4000, 0), (4000, 1), (5000, 0), (5000, 1), (6000, 0)]));

    let loaded = load_latest(&dir, "a").unwrap().unwrap();
    assert_eq!(loaded.checkpoint.time_ms, 5000);
    assert_eq!(loaded.shards, vec![("agg".to_owned(), vec![b"zero".to_vec(), b"one at 5000".to_vec()])]);
    // A shard file that is not the one the commit names makes the commit unusable.
    std::fs::write(shard_file_path(&dir, 5000, 1), shard(1, 2, b"another").0).unwrap();
    assert_eq!(load_latest(&dir, "a").unwrap().unwrap().checkpoint.time_ms, 4000);
    // So does a missing one.
    std::fs::remove_file(shard_file_path(&dir, 4000, 0)).unwrap();
    let loaded = load_latest(&dir, "a").unwrap().unwrap();
    assert_eq!(loaded.checkpoint.time_ms, 3000);
    assert_eq!(loaded.shards[0].1[1], b"one at 3000");
    // And one that holds another process's shard.
    let (b, s) = shard(0, 2, b"zero");
    std::fs::write(shard_file_path(&dir, 3000, 1), &b).unwrap();
    std::fs::write(commit_path(&dir, 3000), commit(3000, vec![s, s]).encode()).unwrap();
    let err = load_latest(&dir, "a").unwrap_err().to_string();
    assert!(err.contains("holds the shard of process 0 of 2"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
