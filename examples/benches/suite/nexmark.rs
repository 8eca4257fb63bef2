//! Benchmark 5: Nexmark-style queries written with `stream!` over a generated stream of
//! persons, auctions and bids (the proportions of the Nexmark generator: per 50 events 1 person,
//! 3 auctions, 46 bids; half the bids go to a few hot auctions), one CSV line per event, one file
//! per 1 s batch, replayed. Throughput counts every event of the input (as Nexmark does) and
//! includes reading the files and parsing the lines (Flink's generator hands objects to the
//! query; ours are text).
//!
//! * q0 pass-through: every bid, parsed, to a `foreach_batch` output.
//! * q1 currency conversion: bids with the price in euros (`price * 908 / 1000`).
//! * q2 selection: bids of auctions whose id is a multiple of 123.
//! * q5 hot items: bids per auction over a 10 s window sliding by 2 s, the auctions with the
//!   most bids (`reduce_by_key_and_window` then a `transform` keeping the maximum).
//! * q7 highest bid: the highest bid of each tumbling 10 s window (`reduce_by_window`).
//! * q8 monitor new users: persons joined with the auctions they opened in the same tumbling
//!   10 s window (`window` on both, `join`).

use crate::common::Rng;
use crate::report::Row;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use streamc_runtime::prelude::*;
use streamc_runtime::{BatchInput, BatchOutput};

/// Flink's published figures, events/s per core (the issue's): q0–q2 ~150k, q5/q7 12–35k.
const FLINK_Q0_Q2: f64 = 150_000.0;
const FLINK_Q5_Q7: f64 = 35_000.0;

const FIRST_NAMES: [&str; 8] = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie"];
const LAST_NAMES: [&str; 8] = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones"];
const CITIES: [&str; 6] = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend"];
const STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];

/// Writes the event files once: `files` batches of `per_file` events (a `done` marker beside).
fn corpus(events: usize, files: usize) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../target/bench-corpus/nexmark-{events}-{files}"));
    let dir = root.join("batches");
    if root.join("done").exists() {
        return dir;
    }
    eprintln!("generating {events} Nexmark events in {} ...", dir.display());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    let mut rng = Rng(11);
    let per_file = events / files;
    let base_ms: i64 = 1_700_000_000_000;
    let mut n: u64 = 0;
    for f in 0..files {
        let mut text = String::with_capacity(per_file * 100);
        for _ in 0..per_file {
            // One second of event time per file.
            let t = base_ms + f as i64 * 1000 + (n % per_file as u64) as i64 * 1000 / per_file as i64;
            let epoch = n / 50;
            let persons = epoch + 1; // persons so far, this one included when it is one
            let auctions = epoch * 3 + (n % 50).clamp(1, 3);
            match n % 50 {
                0 => {
                    let id = 1000 + epoch;
                    let first = FIRST_NAMES[(rng.next() % 8) as usize];
                    let last = LAST_NAMES[(rng.next() % 8) as usize];
                    let c = (rng.next() % 6) as usize;
                    text.push_str(&format!(
                        "P,{id},{first} {last},{}@example.com,{:016},{},{},{t}\n",
                        first.to_lowercase(),
                        rng.next() % 10_000_000_000_000_000,
                        CITIES[c],
                        STATES[c]
                    ));
                }
                1..=3 => {
                    let id = 1000 + auctions - 1;
                    // Sellers: mostly recent persons (new users open auctions).
                    let seller = 1000 + persons.saturating_sub(1 + rng.next() % 100.min(persons));
                    let initial = 100 + rng.next() % 10_000;
                    text.push_str(&format!(
                        "A,{id},item-{},an item for sale,{initial},{},{t},{},{seller},{}\n",
                        rng.next() % 100_000,
                        initial * 2,
                        t + 10_000 + (rng.next() % 20_000) as i64,
                        10 + rng.next() % 5
                    ));
                }
                _ => {
                    // Half the bids go to a hot auction (one in 100 of the recent ones).
                    let recent = auctions.min(1000);
                    let auction = if rng.next().is_multiple_of(2) {
                        1000 + (auctions - 1) / 100 * 100
                    } else {
                        1000 + auctions - 1 - rng.next() % recent
                    };
                    let bidder = 1000 + persons - 1 - rng.next() % persons.min(1000);
                    let price = (10f64.powf(rng.unit() * 6.0) * 100.0) as u64;
                    text.push_str(&format!(
                        "B,{auction},{bidder},{price},channel-{},https://www.nexmark.com/item.htm?id={},{t},\n",
                        rng.next() % 10,
                        rng.next() % 10_000
                    ));
                }
            }
            n += 1;
        }
        std::fs::write(dir.join(format!("part-{f:05}.csv")), text).expect("write corpus");
    }
    std::fs::write(root.join("done"), "").expect("write marker");
    dir
}

/// The `i`-th comma-separated field of a line, as a number (0 when absent or malformed).
fn num(line: &str, i: usize) -> u64 {
    line.split(',').nth(i).and_then(|f| f.parse().ok()).unwrap_or(0)
}

/// A bid line `B,auction,bidder,price,channel,url,date_time,extra` as
/// `(auction, bidder, price, date_time)`.
fn parse_bid(line: &str) -> (u64, u64, u64, u64) {
    let mut f = line.split(',').skip(1);
    let mut next = || f.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    let (auction, bidder, price) = (next(), next(), next());
    (auction, bidder, price, num(line, 6))
}

/// A person line `P,id,name,...` as `(id, name)`.
fn parse_person(line: &str) -> (u64, &str) {
    let mut f = line.split(',').skip(1);
    let id = f.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    (id, f.next().unwrap_or(""))
}

/// An auction line `A,id,...,seller,category` as `(seller, id)`.
fn parse_auction(line: &str) -> (u64, u64) {
    (num(line, 8), num(line, 1))
}

/// Runs the query `q` over the replayed files; returns the wall and CPU seconds and the number
/// of records its output saw.
fn run_query(q: &str, dir: &Path) -> (f64, f64, u64) {
    let out = Arc::new(AtomicU64::new(0));
    let out2 = Arc::clone(&out);
    let count = move |n: usize| {
        out2.fetch_add(n as u64, Ordering::Relaxed);
    };
    fn timed<F>(app: App<F>, dir: &Path) -> (f64, f64)
    where
        F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
    {
        let (t, c) = (Instant::now(), cpu_seconds());
        app.with_replay_all(dir).start().expect("start").await_termination().expect("run");
        (t.elapsed().as_secs_f64(), cpu_seconds() - c)
    }
    let (wall, cpu) = match q {
        "q0" => timed(
            stream! {
                app_name("nexmark_q0");
                batch_interval(Seconds(1));
                let events = socket_text_stream("localhost", 9999);
                let bids = events.filter(|l| l.starts_with("B,")).map(|l| parse_bid(l));
                bids.foreach_batch(|_t, records| count(black_box(records).len()));
            },
            dir,
        ),
        "q1" => timed(
            stream! {
                app_name("nexmark_q1");
                batch_interval(Seconds(1));
                let events = socket_text_stream("localhost", 9999);
                let bids = events.filter(|l| l.starts_with("B,")).map(|l| parse_bid(l));
                let euros = bids.map(|b| (b.0, b.1, b.2 * 908 / 1000, b.3));
                euros.foreach_batch(|_t, records| count(black_box(records).len()));
            },
            dir,
        ),
        // q1 again, compiled by the build script with fusion off (each operator a pass over a
        // `Vec`): what fusing its three narrow operators buys.
        "q1-unfused" => {
            // The generated handler does not use its `output` (the only output is foreach_batch).
            #[allow(unused_variables)]
            let app = include!(concat!(env!("OUT_DIR"), "/q1_unfused.rs"));
            timed(app, dir)
        }
        "q2" => timed(
            stream! {
                app_name("nexmark_q2");
                batch_interval(Seconds(1));
                let events = socket_text_stream("localhost", 9999);
                let bids = events.filter(|l| l.starts_with("B,")).map(|l| parse_bid(l));
                let selected = bids.filter(|b| b.0 % 123 == 0).map(|b| (b.0, b.2));
                selected.foreach_batch(|_t, records| count(black_box(records).len()));
            },
            dir,
        ),
        "q5" => timed(
            stream! {
                app_name("nexmark_q5");
                batch_interval(Seconds(1));
                let events = socket_text_stream("localhost", 9999);
                let bids = events.filter(|l| l.starts_with("B,")).map(|l| (parse_bid(l).0, 1i64));
                let per_auction = bids.reduce_by_key_and_window(|a, b| a + b, Seconds(10), Seconds(2));
                let hot = per_auction.transform(|batch: Vec<(u64, i64)>| {
                    let max = batch.iter().map(|kv| kv.1).max().unwrap_or(0);
                    batch.into_iter().filter(move |kv| kv.1 == max)
                });
                hot.foreach_batch(|_t, records| count(black_box(records).len()));
            },
            dir,
        ),
        "q7" => timed(
            stream! {
                app_name("nexmark_q7");
                batch_interval(Seconds(1));
                let events = socket_text_stream("localhost", 9999);
                let bids = events.filter(|l| l.starts_with("B,")).map(|l| {
                    let b = parse_bid(l);
                    (b.2, b.0, b.1)
                });
                let highest = bids.reduce_by_window(|a, b| if b.0 > a.0 { b } else { a }, Seconds(10), Seconds(10));
                highest.foreach_batch(|_t, records| count(black_box(records).len()));
            },
            dir,
        ),
        "q8" => timed(
            stream! {
                app_name("nexmark_q8");
                batch_interval(Seconds(1));
                let events = socket_text_stream("localhost", 9999);
                let persons = events.filter(|l| l.starts_with("P,")).map(|l| parse_person(l)).window(Seconds(10), Seconds(10));
                let auctions = events.filter(|l| l.starts_with("A,")).map(|l| parse_auction(l)).window(Seconds(10), Seconds(10));
                let new_sellers = persons.join(auctions);
                new_sellers.foreach_batch(|_t, records| count(black_box(records).len()));
            },
            dir,
        ),
        _ => unreachable!("unknown query {q}"),
    };
    (wall, cpu, out.load(Ordering::Relaxed))
}

/// CPU time of this process so far, in seconds (`utime + stime` of `/proc/self/stat`, in
/// 100 Hz ticks); 0 when unavailable.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the ')'.
    (tick(11) + tick(12)) / 100.0
}

pub fn run(rows: &mut Vec<Row>, events: usize, files: usize, runs: usize) {
    let dir = corpus(events, files);
    // Warm the page cache.
    for e in std::fs::read_dir(&dir).expect("corpus").flatten() {
        black_box(std::fs::read(e.path()).ok());
    }
    let b = "5. Nexmark";
    let mut q1_rate = 0.0;
    for q in ["q0", "q1", "q1-unfused", "q2", "q5", "q7", "q8"] {
        let mut measured: Vec<(f64, f64, u64)> = (0..runs).map(|_| run_query(q, &dir)).collect();
        measured.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (wall, cpu, outputs) = measured[measured.len() / 2];
        let per_core = events as f64 / cpu.max(wall);
        let flink = if matches!(q, "q5" | "q7" | "q8") { FLINK_Q5_Q7 } else { FLINK_Q0_Q2 };
        let target = match q {
            "q0" | "q1" | "q2" => Some(("≥ 1.5 M events/s/core", 1.5e6)),
            "q5" | "q7" => Some(("≥ 300 k events/s/core", 3e5)),
            _ => None,
        };
        let name = match q {
            "q0" => "q0 pass-through",
            "q1" => "q1 currency map",
            "q2" => "q2 filter",
            "q5" => "q5 hot items (10 s / 2 s)",
            "q7" => "q7 max bid (tumbling 10 s)",
            _ => "q8 new persons ⋈ auctions (10 s)",
        };
        if q == "q1" {
            q1_rate = per_core;
        }
        if q == "q1-unfused" {
            rows.push(
                Row::new(b, "q1 currency map, fusion off", per_core / 1e6, "M events/s/core")
                    .ratio(q1_rate / per_core, "= fused ÷ unfused events/s (what fusion buys)")
                    .chart(per_core),
            );
            eprintln!(
                "suite: nexmark {q}: {events} events in {wall:.3} s wall, {cpu:.2} s CPU, {outputs} output records"
            );
            continue;
        }
        let mut row = Row::new(b, name, per_core / 1e6, "M events/s/core")
            .ratio(per_core / flink, if flink == FLINK_Q0_Q2 { "Flink's ~150k/core" } else { "Flink's ≤35k/core" })
            .chart(per_core)
            .reference(flink, "Flink");
        if let Some((t, v)) = target {
            row = row.target(t, per_core >= v);
        }
        rows.push(row);
        eprintln!("suite: nexmark {q}: {events} events in {wall:.3} s wall, {cpu:.2} s CPU, {outputs} output records");
    }
}
