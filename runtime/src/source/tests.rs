//! Unit tests of the sources: line splitting, file names, replay.

use std::io;
use std::path::Path;

use super::files::is_ignored_name;
use super::limits::{READ_CHUNK, Skipped};
use super::lines::line_end;
use super::text::{FileRead, LineSplitter};
use super::*;

#[test]
fn lines_strip_terminators_and_count() {
    let mut b = TextBatch::new();
    assert!(b.is_empty());
    assert_eq!(b.push_text(b"a b\r\n\nlast"), 0);
    b.push_line("");
    let v: Vec<&str> = b.lines().collect();
    assert_eq!(v, ["a b", "", "last", ""]);
    assert_eq!(b.len_lines(), 4);
    assert_eq!(b.lines().count(), 4);
    assert_eq!(b.as_str(), "a b\r\n\nlast\n\n");
}

#[test]
fn invalid_utf8_lines_are_skipped_and_counted() {
    let mut b = TextBatch::new();
    assert_eq!(b.push_text(b"ok\n\xff\xfe\nfine\n\xc3"), 2);
    assert_eq!(b.lines().collect::<Vec<_>>(), ["ok", "fine"]);
    assert_eq!(b.len_lines(), 2);
    assert_eq!(b.push_text(b""), 0);
    assert_eq!(b.len_lines(), 2);
}

#[test]
fn origins_give_file_and_line_also_after_skipped_lines() {
    let mut b = TextBatch::new();
    b.push_line("no file");
    assert_eq!(b.push_file(Path::new("a"), b"a1\n\xff\na3\r\na4"), 1);
    b.push_file(Path::new("empty"), b"");
    b.push_file(Path::new("b"), b"b1\n");
    b.push_line("after");
    let lines: Vec<&str> = b.lines().collect();
    assert_eq!(lines, ["no file", "a1", "a3", "a4", "b1", "after"]);
    let got: Vec<Option<(&Path, usize)>> = lines.iter().map(|l| b.origin(l)).collect();
    assert_eq!(
        got,
        [
            None,
            Some((Path::new("a"), 1)),
            Some((Path::new("a"), 3)),
            Some((Path::new("a"), 4)),
            Some((Path::new("b"), 1)),
            None
        ]
    );
    // A field of a line has the line's origin.
    assert_eq!(b.origin(&lines[2][1..]), Some((Path::new("a"), 3)));
    let mut c = TextBatch::from_lines(["first"]);
    c.append(&b);
    let lines: Vec<&str> = c.lines().collect();
    assert_eq!(c.origin(lines[5]), Some((Path::new("b"), 1)));
    assert_eq!(c.origin(lines[1]), None);
    assert_eq!(c, TextBatch::from_lines(["first", "no file", "a1", "a3\r", "a4", "b1", "after"]));
}

/// Feeds `text` in chunks of `chunk` bytes through a splitter with `max_line`.
fn split(text: &[u8], chunk: usize, max_line: usize) -> (TextBatch, Skipped, Vec<usize>) {
    let mut b = TextBatch::new();
    let mut s = LineSplitter::new(max_line, true);
    for c in text.chunks(chunk) {
        assert_eq!(s.feed(c, &mut b, usize::MAX).0, c.len());
        assert!(s.partial.len() <= max_line);
    }
    s.finish(&mut b);
    (b, s.skipped, s.skipped_lines)
}

#[test]
fn overlong_lines_are_skipped_and_counted_however_the_input_is_chunked() {
    let text = b"short\n0123456789abc\nfits-10ch\n\xff\nlast-but-too-long";
    for chunk in [1, 2, 3, 7, 64, 1000] {
        let (b, skipped, lines) = split(text, chunk, 10);
        assert_eq!(b.lines().collect::<Vec<_>>(), ["short", "fits-10ch"], "chunk {chunk}");
        assert_eq!(skipped, Skipped { invalid: 1, overlong: 2 }, "chunk {chunk}");
        assert_eq!(lines, [2, 4, 5], "chunk {chunk}");
    }
    // Exactly the limit is kept; the terminator does not count.
    let (b, skipped, _) = split(b"0123456789\n0123456789", 4, 10);
    assert_eq!(b.len_lines(), 2);
    assert_eq!(skipped, Skipped::default());
}

#[test]
fn a_line_budget_stops_the_splitter_after_that_many_lines() {
    let mut b = TextBatch::new();
    let mut s = LineSplitter::new(100, false);
    let text = b"a\nb\nc\nd";
    let (used, ended) = s.feed(text, &mut b, 2);
    assert_eq!((used, ended), (4, 2));
    let (used2, ended2) = s.feed(&text[used..], &mut b, 2);
    assert_eq!((used2, ended2), (3, 1));
    s.finish(&mut b);
    assert_eq!(b.lines().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
}

#[test]
fn read_file_streams_a_huge_line_and_keeps_line_numbers() {
    let dir = std::env::temp_dir().join(format!("streamc-source-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.txt");
    let mut text = b"first\n".to_vec();
    text.extend(std::iter::repeat_n(b'x', 3 * READ_CHUNK + 5));
    text.extend(b"\nthird\n");
    std::fs::write(&path, &text).unwrap();
    let mut b = TextBatch::from_lines(["before"]);
    let read = b.read_file(&path, 1000).unwrap();
    assert_eq!(read.skipped, Skipped { invalid: 0, overlong: 1 });
    assert_eq!(read.bytes, text.len() as u64);
    let lines: Vec<&str> = b.lines().collect();
    assert_eq!(lines, ["before", "first", "third"]);
    assert_eq!(b.origin(lines[2]), Some((path.as_path(), 3)));
    // A file that is gone leaves the batch as it was.
    let err = b.read_file(&dir.join("gone"), 1000).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert_eq!(b.len_lines(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ignored_names() {
    for n in [".x", "_SUCCESS", "a.tmp", "a._COPYING_", "a.COPYING"] {
        assert!(is_ignored_name(n.as_bytes()), "{n}");
    }
    for n in ["a", "a.txt", "tmp", "a.tmp.txt"] {
        assert!(!is_ignored_name(n.as_bytes()), "{n}");
    }
}

#[test]
fn append_and_clear() {
    let mut a = TextBatch::from_lines(["x"]);
    a.append(&TextBatch::from_lines(["y", "z"]));
    assert_eq!(a.lines().collect::<Vec<_>>(), ["x", "y", "z"]);
    a.clear();
    assert!(a.is_empty());
    assert_eq!(a.lines().next(), None);
}

#[test]
fn a_part_alone_is_the_part_of_the_split() {
    let mut b = TextBatch::new();
    for i in 0..37 {
        b.push_line(&"x".repeat(i % 9));
    }
    for n in 1..8 {
        let all: Vec<Vec<&str>> = b.split_lines(n).into_iter().map(Iterator::collect).collect();
        for k in 0..n + 1 {
            let alone: Option<Vec<&str>> = b.split_part(k, n).map(Iterator::collect);
            assert_eq!(alone.as_ref(), all.get(k), "part {k} of {n}");
        }
        for (k, part) in b.split_lines(n).into_iter().enumerate() {
            assert_eq!(b.split_part(k, n).unwrap().count(), part.clone().count());
        }
    }
    assert!(TextBatch::new().split_part(0, 2).is_none());
}

/// Files of random lines (empty ones, long ones across read chunks, a last line without
/// `'\n'`, `\r\n`), read in the byte ranges of clusters of 1 to 5 processes: every process's
/// lines one after the other are the files' lines, each once, in order: in even shares, and in
/// shares cut anywhere (as process 0 balances them).
#[test]
fn byte_ranges_read_each_line_once_in_order() {
    use super::share::{Share, share_ranges};
    let dir = std::env::temp_dir().join(format!("streamc-ranges-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut seed = 0x5DEE_CE66_D1CE_4E5Bu64;
    let mut next = |m: u64| crate::test_rng::below(&mut seed, m);
    for round in 0..60 {
        let files: Vec<std::path::PathBuf> = (0..1 + next(4))
            .map(|f| {
                let mut text = String::new();
                for l in 0..next(40) {
                    let len = match next(10) {
                        0 => 0,
                        1 => READ_CHUNK as u64 + next(3000),
                        _ => next(80),
                    };
                    text.extend((0..len).map(|i| char::from(b'a' + ((l + i) % 26) as u8)));
                    text.push_str(if next(5) == 0 { "\r\n" } else { "\n" });
                }
                if next(3) == 0 {
                    text.push_str("no newline");
                }
                let path = dir.join(format!("r{round}-{f}"));
                std::fs::write(&path, &text).unwrap();
                path
            })
            .collect();
        let mut whole = TextBatch::new();
        for f in &files {
            whole.read_file(f, usize::MAX).unwrap();
        }
        let sizes: Vec<u64> = files.iter().map(|f| std::fs::metadata(f).unwrap().len()).collect();
        for n in 1..=5 {
            let mut got: Vec<String> = Vec::new();
            // Even shares in even rounds; in odd ones bounds anywhere, some equal (an empty share).
            let mut cuts: Vec<u64> = (0..n - 1).map(|_| next(Share::WHOLE + 1)).collect();
            cuts.extend([0, Share::WHOLE]);
            cuts.sort_unstable();
            for me in 0..n {
                let share = if round % 2 == 0 { Share::even(me, n) } else { Share::of_cuts(me, n, &cuts) };
                let mut part = TextBatch::new();
                for (i, lo, hi) in share_ranges(&sizes, share) {
                    part.read_file_range(&files[i], lo, hi, usize::MAX).unwrap();
                }
                got.extend(part.lines().map(str::to_owned));
            }
            let want: Vec<&str> = whole.lines().collect();
            assert_eq!(got, want, "round {round}, {n} processes, sizes {sizes:?}, cuts {cuts:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Up to `lines` lines of up to `len` letters, about one in `odd` with invalid UTF-8 and one in
/// `odd` with a two-byte character; a third of the texts end without a newline.
fn random_text(next: &mut impl FnMut(u64) -> u64, lines: u64, len: u64, odd: u64) -> Vec<u8> {
    let mut text: Vec<u8> = Vec::new();
    for l in 0..next(lines) {
        for i in 0..next(len) {
            text.push(b'a' + ((l + i) % 26) as u8);
        }
        match next(odd) {
            0 => text.extend_from_slice(&[0xff, 0xfe]),
            1 => text.extend_from_slice("é".as_bytes()),
            _ => {}
        }
        text.push(b'\n');
    }
    if next(3) == 0 {
        text.extend_from_slice(b"no newline");
    }
    text
}

/// Two batches read the same lines by two paths: the same lines, counts, skipped lines and
/// bytes, and every line the same origin.
fn assert_read_alike((fast, a): (&TextBatch, FileRead), (split, b): (&TextBatch, FileRead), ctx: &str) {
    assert_eq!((a.skipped, a.bytes), (b.skipped, b.bytes), "{ctx}");
    assert_eq!(fast, split, "{ctx}");
    assert_eq!(fast.len_lines(), split.len_lines(), "{ctx}");
    assert_eq!(fast.skipped_lines(), split.skipped_lines(), "{ctx}");
    for (x, y) in fast.lines().zip(split.lines()) {
        assert_eq!(fast.origin(x), split.origin(y), "{ctx}");
    }
}

/// `rounds` random files (`random_text` of `shape`: lines, line length, odd lines), written in
/// a directory of the test's own, each given to `check` with its round, path and text and the
/// random source the round draws the rest from; the directory is removed after.
fn for_random_files(
    tag: &str,
    mut seed: u64,
    rounds: usize,
    (lines, len, odd): (u64, u64, u64),
    mut check: impl FnMut(usize, &Path, &[u8], &mut dyn FnMut(u64) -> u64),
) {
    let dir = std::env::temp_dir().join(format!("streamc-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut next = |n: u64| crate::test_rng::below(&mut seed, n);
    for round in 0..rounds {
        let text = random_text(&mut next, lines, len, odd);
        let path = dir.join(round.to_string());
        std::fs::write(&path, &text).unwrap();
        check(round, &path, &text, &mut next);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two equal batches to read into, drawn by `next`: empty, or with a line before.
fn two_batches(next: &mut dyn FnMut(u64) -> u64) -> (TextBatch, TextBatch) {
    let before: &[&str] = if next(2) == 0 { &[] } else { &["before"] };
    (TextBatch::from_lines(before), TextBatch::from_lines(before))
}

/// `read_file`'s one-read path for whole files gives what the line splitter gives: the lines,
/// their count and origins, the skipped counts and the bytes, into an empty batch or after
/// other lines; files it does not take (invalid UTF-8, over the line limit) go to the splitter.
#[test]
fn a_whole_file_read_at_once_is_read_as_the_splitter_reads_it() {
    for_random_files("whole", 0x2545_f491_4f6c_dd1d, 200, (12, 40, 20), |round, path, text, next| {
        let max_line = [usize::MAX, 30, text.len(), text.len().saturating_sub(1)][next(4) as usize];
        let (mut fast, mut split) = two_batches(next);
        let a = fast.read_file(path, max_line).unwrap();
        let b = split.read_range_split(path, 0, u64::MAX, max_line).unwrap();
        let ctx = format!("round {round}, max line {max_line}, text {:?}", String::from_utf8_lossy(text));
        assert_read_alike((&fast, a), (&split, b), &ctx);
    });
}

/// A byte range read at once gives what the line splitter gives for it: the lines, their
/// count and origins, the skipped counts and the bytes, into an empty batch or after other
/// lines, for ranges that start and end anywhere (mid-line, at a line's end, past the file);
/// ranges it does not take (invalid UTF-8, possibly over the line limit) go to the splitter.
#[test]
fn a_byte_range_read_at_once_is_read_as_the_splitter_reads_it() {
    for_random_files("range", 0x9e37_79b9_7f4a_7c15, 400, (30, 600, 30), |round, path, text, next| {
        let len = text.len() as u64;
        let lo = next(len + 3);
        let hi = [lo + next(len + 3), u64::MAX, lo][next(3) as usize];
        let max_line = [usize::MAX, 300, 2000, text.len(), text.len().saturating_sub(1)][next(5) as usize];
        let (mut fast, mut split) = two_batches(next);
        let a = fast.read_file_range(path, lo, hi, max_line).unwrap();
        let b = split.read_range_split(path, lo, hi, max_line).unwrap();
        let ctx = format!("round {round}, {lo}..{hi} of {len}, max line {max_line}");
        assert_read_alike((&fast, a), (&split, b), &ctx);
    });
}

/// A replay whose next file is read ahead (as a worker starts it when its part of a split batch
/// is done, at any point of the batch before) fills every batch as one that reads each file
/// itself: lines, origins, skipped lines, also for files the read-ahead leaves to the splitter
/// (invalid UTF-8, over the line limit), and after a skipped start.
#[test]
fn a_replay_read_ahead_fills_the_batches_a_plain_replay_fills() {
    let dir = std::env::temp_dir().join(format!("streamc-ahead-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files: [&[u8]; 7] = [
        b"a\nbb\nccc\n",
        b"no newline at the end",
        b"bad \xff\xfe line\ngood line\n",
        b"",
        b"a line far over the limit of forty bytes, skipped\nshort\n",
        b"\xc3\xa9t\xc3\xa9\n",
        b"last\n",
    ];
    for (i, text) in files.iter().enumerate() {
        std::fs::write(dir.join(format!("{i:02}")), text).unwrap();
    }
    let limits = InputLimits { max_line_bytes: 40, ..InputLimits::default() };
    // Started from a thread of no pool (the read gets a thread of its own) and from a job of
    // a worker pool (the read is the worker's next job).
    let pool = crate::parallel::Pool::new(1).expect("a pool");
    for (skip, ahead_at, on_pool) in
        [0, 2].into_iter().flat_map(|s| (0usize..3).flat_map(move |a| [(s, a, false), (s, a, true)]))
    {
        {
            let mut plain = ReplaySource::open(&dir, limits).unwrap();
            let mut ahead = ReplaySource::open(&dir, limits).unwrap();
            plain.skip(skip);
            ahead.skip(skip);
            let start = ahead.read_ahead();
            let start_ahead = || {
                if on_pool {
                    pool.threads().in_place_scope(|scope| scope.spawn(|_| start.start()));
                } else {
                    start.start();
                }
            };
            for i in skip..files.len() + 1 {
                // Read ahead before some batches, twice before others.
                if (i + ahead_at) % 3 != 0 {
                    start_ahead();
                    if i % 2 == 0 {
                        start_ahead();
                    }
                }
                let (mut p, mut a) = (TextBatch::from_lines(["stale"]), TextBatch::from_lines(["stale"]));
                p.clear();
                a.clear();
                plain.fill(&mut p, None).unwrap();
                ahead.fill(&mut a, None).unwrap();
                let ctx = format!("skip {skip}, ahead at {ahead_at}, on a pool {on_pool}, batch {i}");
                assert_eq!(a, p, "{ctx}");
                assert_eq!((a.len_lines(), a.skipped_lines()), (p.len_lines(), p.skipped_lines()), "{ctx}");
                for (x, y) in a.lines().zip(p.lines()) {
                    assert_eq!(a.origin(x), p.origin(y), "{ctx}");
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The inline search for a line's end finds the first `'\n'` wherever it is — in each 16-byte
/// step, across steps, past the 64 bytes searched inline, or nowhere — as `memchr` does.
#[test]
fn a_line_ends_at_its_first_newline_at_any_length() {
    for len in 0..=150 {
        let mut b = vec![b'a'; len];
        assert_eq!(line_end(&b), None, "no newline in {len} bytes");
        for at in 0..len {
            b.fill(b'a');
            b[at] = b'\n';
            assert_eq!(line_end(&b), Some(at), "newline at {at} of {len}");
            // A later newline does not move it.
            if at + 1 < len {
                b[len - 1] = b'\n';
                assert_eq!(line_end(&b), Some(at), "newline at {at} and {} of {len}", len - 1);
            }
        }
    }
    // Bytes that differ from `'\n'` in one bit only are not it.
    let near: Vec<u8> = (0..8).map(|bit| b'\n' ^ (1 << bit)).cycle().take(100).collect();
    assert_eq!(line_end(&near), None);
}

/// A batch cut into the shares process 0 decided (a live source's, sent to the others): the
/// shares' lines one after the other are the batch's lines, whatever the bounds.
#[test]
fn a_batch_cut_into_uneven_shares_keeps_every_line_once_in_order() {
    use super::share::Share;
    let mut seed = 0x0BAD_5EED_u64;
    let mut next = |m: u64| crate::test_rng::below(&mut seed, m);
    for _ in 0..200 {
        let mut b = TextBatch::new();
        for l in 0..next(30) {
            let line: String = (0..next(20)).map(|i| char::from(b'a' + ((l + i) % 26) as u8)).collect();
            b.push_text(format!("{line}\n").as_bytes());
        }
        let n = 1 + next(4) as usize;
        let mut cuts: Vec<u64> = (0..n - 1).map(|_| next(Share::WHOLE + 1)).collect();
        cuts.extend([0, Share::WHOLE]);
        cuts.sort_unstable();
        let parts = b.split_lines_in_shares(n, if next(2) == 0 { &[] } else { &cuts });
        assert!(parts.len() <= n);
        let got: Vec<&str> = parts.into_iter().flatten().collect();
        assert_eq!(got, b.lines().collect::<Vec<_>>(), "{n} processes, cuts {cuts:?}");
    }
}

/// A stage may read its part twice, one pass after the other (a DStream partial's loop per
/// chain): the second pass reads exactly the lines the first claimed, blocks taken from
/// the back during the first pass included out of both.
#[test]
fn a_later_pass_reads_what_the_first_claimed() {
    let t: String = (0..400).map(|i| format!("line {i} {}\n", "x".repeat(i % 13))).collect();
    let c = std::sync::Arc::new(Chunks::new(&t, 64).yielding());
    let part = Lines::claiming(std::sync::Arc::clone(&c));
    let mut first = Vec::new();
    let mut stolen = String::new();
    for (i, line) in part.clone().enumerate() {
        first.push(line);
        if i == 5 {
            stolen.push_str(c.steal_back().expect("a block"));
        }
    }
    let second: Vec<&str> = part.clone().collect();
    let third: Vec<&str> = part.collect();
    assert_eq!(first, second);
    assert_eq!(second, third);
    let mut all: String = first.iter().map(|l| format!("{l}\n")).collect();
    all.push_str(&stolen);
    assert_eq!(all, t);
    assert!(!stolen.is_empty() && first.len() < 400);
}
