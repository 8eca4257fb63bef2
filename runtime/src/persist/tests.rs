//! Tests of the codec: round trips, truncations, malformed input, parts.

use super::*;
use std::fmt::Debug;

use crate::test_rng::xorshift;

/// Round-trips `x`, then checks that every strict prefix of its encoding is an error (the
/// format is self-delimiting, so no prefix can be a complete value of the same type unless
/// the value is zero-sized), and that trailing bytes are rejected by `read_all`.
fn round_trip<T: Persist + PartialEq + Debug>(x: &T) {
    let mut bytes = Vec::new();
    x.write(&mut bytes);
    assert_eq!(&read_all::<T>(&bytes).unwrap(), x);
    for cut in 0..bytes.len() {
        let r = read_all::<T>(&bytes[..cut]);
        let e = r.expect_err(&format!("prefix {cut} of {x:?} must not decode"));
        assert!(e.to_string().starts_with("corrupt checkpoint"), "{e}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(read_all::<T>(&longer).is_err());
}

fn string(seed: &mut u64) -> String {
    let n = xorshift(seed) % 6;
    (0..n).map(|_| ['a', 'é', '→', '\u{1F600}', '\n'][(xorshift(seed) % 5) as usize]).collect()
}

#[test]
fn round_trips_and_every_truncation_is_an_error() {
    round_trip(&0u8);
    round_trip(&-1i16);
    round_trip(&u32::MAX);
    round_trip(&i64::MIN);
    round_trip(&u128::MAX);
    round_trip(&i128::MIN);
    round_trip(&usize::MAX);
    round_trip(&isize::MIN);
    round_trip(&true);
    round_trip(&'\u{10FFFF}');
    round_trip(&1.5f32);
    round_trip(&-0.0f64);
    round_trip(&String::new());
    round_trip(&Some(String::from("x")));
    round_trip(&None::<i64>);
    round_trip(&vec![(); 3]);
    round_trip(&Vec::<String>::new());
    let mut seed = 0x1234_5678_9abc_def1;
    for _ in 0..200 {
        let n = xorshift(&mut seed) % 4;
        type Row = (String, i64, Option<(char, bool)>, Vec<u16>);
        let v: Vec<Row> = (0..n)
            .map(|_| {
                let s = string(&mut seed);
                let i = xorshift(&mut seed) as i64;
                let o = (xorshift(&mut seed).is_multiple_of(2)).then(|| ('x', xorshift(&mut seed).is_multiple_of(2)));
                let w = (0..xorshift(&mut seed) % 3).map(|_| xorshift(&mut seed) as u16).collect();
                (s, i, o, w)
            })
            .collect();
        round_trip(&v);
        round_trip(&(string(&mut seed),));
    }
    // NaN's bit pattern survives.
    let mut bytes = Vec::new();
    f64::NAN.write(&mut bytes);
    assert!(read_all::<f64>(&bytes).unwrap().is_nan());
}

/// Saves `state` with parts, `on_disk` being on disk, into the commit of time `time`; returns
/// its bytes, the parts it used and those written, whose bytes are added to `files`.
fn save_parts<S: Checkpointed>(
    state: &S,
    time: i64,
    on_disk: &HashMap<(i64, u64), i64>,
    files: &mut HashMap<(i64, u64), Vec<u8>>,
) -> (Vec<u8>, Vec<PartRef>, Vec<(i64, u64)>) {
    let mut bytes = Vec::new();
    let mut new = NewParts::new(time);
    let mut parts = Parts::new("w", Some(on_disk), &mut new);
    state.save_with_parts(&mut bytes, &mut parts);
    let refs = parts.finish();
    let mut written = Vec::new();
    if let Some((file, _)) = new.finish() {
        for part in PartFile::decode(&file).unwrap().parts {
            assert_eq!(part.state, "w");
            written.push((part.id, part.stamp));
            files.insert((part.id, part.stamp), part.bytes);
        }
    }
    for r in &refs {
        assert_eq!(r.file == time, written.contains(&(r.id, r.stamp)));
    }
    (bytes, refs, written)
}

#[test]
fn a_pane_is_written_once_unless_it_grew() {
    use crate::window::Window;
    let mut files = HashMap::new();
    let mut w = Window::new(10_000);
    w.push(1000, vec![1u8]);
    w.push(2000, vec![2, 2]);
    let (_, refs, written) = save_parts(&w, 2000, &HashMap::new(), &mut files);
    assert_eq!(written, [(1000, 1), (2000, 2)]);
    let on_disk = refs.iter().map(|r| ((r.id, r.stamp), r.file)).collect();
    w.push(3000, vec![3]);
    let (_, refs, written) = save_parts(&w, 3000, &on_disk, &mut files);
    assert_eq!(written, [(3000, 1)]);
    let got: Vec<_> = refs.iter().map(|r| (r.id, r.stamp, r.file)).collect();
    assert_eq!(got, [(1000, 1, 2000), (2000, 2, 2000), (3000, 1, 3000)]);
    // An out-of-order push makes pane 1000 grow: it is saved again, with its new length.
    let on_disk = refs.iter().map(|r| ((r.id, r.stamp), r.file)).collect();
    w.push(1000, vec![11]);
    let (bytes, refs, written) = save_parts(&w, 4000, &on_disk, &mut files);
    assert_eq!(written, [(1000, 2)]);
    let mut parts: Vec<(i64, u64, Vec<u8>)> =
        refs.iter().map(|r| (r.id, r.stamp, files[&(r.id, r.stamp)].clone())).collect();
    parts.sort_by_key(|p| p.0);
    let mut back = Window::<u8>::new(10_000);
    back.restore_with_parts(&bytes, &SavedParts::new(&parts)).unwrap();
    assert_eq!(back.collect(3000), [1, 11, 2, 2, 3]);
    // A part missing, or of another length, is an error.
    let missing = SavedParts::new(&parts[1..]);
    assert!(Window::<u8>::new(10_000).restore_with_parts(&bytes, &missing).is_err());
    parts[0].1 = 1;
    assert!(Window::<u8>::new(10_000).restore_with_parts(&bytes, &SavedParts::new(&parts)).is_err());
}

#[test]
fn windows_restored_with_parts_equal_their_whole_snapshots() {
    use crate::window::{InvKeyedWindow, KeyedWindow, Window};
    let mut seed = 7;
    let mut w = Window::new(5000);
    let mut k = KeyedWindow::new(5000);
    let mut i = InvKeyedWindow::new(5000, 1000);
    for t in (1..=12).map(|b| b * 1000) {
        let pane: Vec<(String, i64)> =
            (0..xorshift(&mut seed) % 5).map(|n| (format!("k{n}"), (xorshift(&mut seed) % 9) as i64)).collect();
        w.push(t, pane.iter().map(|p| p.0.clone()).collect::<Vec<_>>());
        k.push_pane(t, pane.clone());
        i.push_pane(t, pane);
        i.slide(t, &mut |a, b| a + b, &mut |a, b| a - b, &mut |kv: &(String, i64)| kv.1 != 0);
    }
    let whole = |s: &dyn Checkpointed| {
        let mut b = Vec::new();
        s.save(&mut b);
        b
    };
    let (mut w2, mut k2, mut i2) = (Window::new(5000), KeyedWindow::new(5000), InvKeyedWindow::new(5000, 1000));
    round_trip_with_parts(&w, &mut w2).unwrap();
    round_trip_with_parts(&k, &mut k2).unwrap();
    round_trip_with_parts(&i, &mut i2).unwrap();
    assert_eq!(whole(&w2), whole(&w));
    assert_eq!(whole(&k2), whole(&k));
    assert_eq!(whole(&i2), whole(&i));
    // Trailing bytes are rejected as with `restore`.
    let mut bytes = Vec::new();
    w.save_with_parts(&mut bytes, &mut Parts::new("w", None, &mut NewParts::new(0)));
    bytes.push(0);
    assert!(Window::<String>::new(5000).restore_with_parts(&bytes, &SavedParts::none()).is_err());
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    assert!(read_all::<bool>(&[2]).is_err());
    assert!(read_all::<Option<u8>>(&[7, 0]).is_err());
    assert!(read_all::<char>(&0xD800u32.to_le_bytes()).is_err());
    let mut bad_utf8 = Vec::new();
    2u64.write(&mut bad_utf8);
    bad_utf8.extend_from_slice(&[0xff, 0xfe]);
    assert!(read_all::<String>(&bad_utf8).is_err());
    // A huge length must be rejected before any allocation.
    let mut huge = Vec::new();
    u64::MAX.write(&mut huge);
    assert!(read_all::<Vec<u64>>(&huge).is_err());
    assert!(read_all::<String>(&huge).is_err());
    // Random bytes never panic.
    let mut seed = 99;
    for _ in 0..2000 {
        let n = (xorshift(&mut seed) % 24) as usize;
        let mut bytes: Vec<u8> = (0..n).map(|_| xorshift(&mut seed) as u8).collect();
        if n > 0 && xorshift(&mut seed).is_multiple_of(2) {
            bytes[0] %= 4; // short lengths and valid tags, to get deeper into the decoder
        }
        let _ = read_all::<Vec<(String, Option<char>, bool)>>(&bytes);
        let _ = read_all::<(Vec<()>, String)>(&bytes);
    }
}

/// Writes `xs` in the compact form, each after the one before, reads them back the same way,
/// and checks that every strict prefix fails to read the whole sequence; returns the bytes.
fn round_trip_after<T: Persist + PartialEq + Debug>(xs: &[T]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (i, x) in xs.iter().enumerate() {
        x.write_after(i.checked_sub(1).map(|j| &xs[j]), &mut bytes);
    }
    let read = |mut input: &[u8]| -> Result<Vec<T>, Error> {
        let mut back: Vec<T> = Vec::new();
        for _ in xs {
            let x = T::read_after(back.last(), &mut input)?;
            back.push(x);
        }
        Ok(back)
    };
    assert_eq!(read(&bytes).unwrap(), xs);
    for cut in 0..bytes.len() {
        let e = read(&bytes[..cut]).expect_err(&format!("prefix {cut} of {xs:?} must not decode"));
        assert!(e.to_string().starts_with("corrupt checkpoint"), "{e}");
    }
    bytes
}

#[test]
fn the_compact_form_round_trips_and_repeats_cost_little() {
    use crate::structured::time::{Date, Timestamp};
    round_trip_after(&[i64::MIN, i64::MAX, 0, -1, i64::MIN]);
    round_trip_after(&[u64::MAX, 0, u64::MAX, 1 << 63]);
    round_trip_after(&[i16::MIN, i16::MAX, 3]);
    round_trip_after(&[u32::MAX, 0, 7]);
    round_trip_after(&[usize::MAX, 0]);
    round_trip_after(&[isize::MIN, isize::MAX]);
    round_trip_after(&[Date(-5), Date(i32::MAX)]);
    round_trip_after(&[Some(String::from("é")), None, Some(String::new())]);
    round_trip_after(&[vec![5u32, 3, 900], vec![], vec![1]]);
    round_trip_after(&[(1.5f64, 'x', true, 7u8, -3i128), (f64::MIN, '→', false, 0, i128::MAX)]);
    // A window's bounds repeated, a short word and a count of one: 2 + 1 + 3 + 1 bytes.
    type Entry = ((Timestamp, Timestamp, String), i64);
    let w = |word: &str| ((Timestamp(1_700_000_000_000_000), Timestamp(1_700_000_600_000_000), word.to_owned()), 1);
    let entries: Vec<Entry> = vec![w("cat"), w("dog"), w("owl")];
    let bytes = round_trip_after(&entries);
    let mut first = Vec::new();
    entries[0].write_after(None, &mut first);
    assert_eq!(bytes.len() - first.len(), 2 * 7, "{bytes:?}");
    let mut seed = 0x5eed;
    for _ in 0..100 {
        let xs: Vec<(Timestamp, String, Option<i32>)> = (0..xorshift(&mut seed) % 5)
            .map(|_| {
                let t = Timestamp(xorshift(&mut seed) as i64 >> (xorshift(&mut seed) % 64));
                let o = xorshift(&mut seed).is_multiple_of(2).then(|| xorshift(&mut seed) as i32);
                (t, string(&mut seed), o)
            })
            .collect();
        round_trip_after(&xs);
    }
    // Malformed: a varint of more than 64 bits, a value out of its type's range.
    assert!(i64::read_after(None, &mut &[0xff; 11][..]).is_err());
    let mut big = Vec::new();
    crate::codec::put_varint(&mut big, u64::from(u32::MAX) + 1);
    assert!(u32::read_after(None, &mut &big[..]).is_err());
}
