//! Shares that move within a batch: a cluster process that ends its share of a batch first
//! takes a block of lines from the back of another's and runs the stage over it, so the
//! processes reach the batch's round at about the same time whatever their shares cost.
//!
//! The shares process 0 learns between batches (`batch_loop/shares.rs`) follow a process's
//! speed from batch to batch, two batches late; the cores of a shared machine change speed
//! faster than that (a 2-process word count's two shares of the same size took 13 and 25 ms
//! of CPU in one batch, and the other way round two batches later), and whichever process was
//! slower kept the other waiting in the batch's first round.
//!
//! Each process reads its share as [`Chunks`] from the front (as a worker reads its part,
//! `parallel.rs`) and offers it ([`Collective::offer`]): a thread of its own answers the
//! requests of the others with the back half of the chunks left
//! ([`Chunks::steal_back_from`]) while at least [`MIN_CHUNKS_LEFT`] are left. A process whose
//! share is done asks each other process once ([`Collective::steal`]; not one that asked it
//! first) and runs the stage over the block it gets. Every partial is tagged with where its
//! lines lie in the batch: the process whose share they are, and their offset in it. The pieces
//! are merged in that order on every process, so the batch is merged in line order whoever ran
//! which lines (the partials must merge exactly, whatever the cut, as for the learned shares).
//! The learned shares still take the steady differences (process 0's duties): each process
//! reports its work as it would have been over its own share ([`Lending::own_work`]).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::input::{BatchInput, Collective, Stolen};
use super::lending::Lending;
use crate::error::Error;
use crate::parallel::Parts;
use crate::ship::Received;
use crate::source::{Chunks, Lines, TextBatch};

/// Where a partial's lines lie in a batch: the process whose share they are, and their offset
/// in that share (bytes; a process's own partials of several workers: their index).
pub(super) type Tag = (u32, u64);

/// The chunks a lent share is read in: a request waits for at most one (the reader yields its
/// core before each, [`Chunks::yielding`]), ~0.2 ms of a word count's work.
const LEND_CHUNK_BYTES: usize = 32 << 10;

/// A share is lent from while this many chunks are left (the back half of them goes): a
/// block costs its taker a round trip and a partial of its own to build, cut and merge, worth
/// it for ~3 chunks or more.
const MIN_CHUNKS_LEFT: u32 = 6;

/// How long a process first waits before asking again a process that has not begun the
/// session yet (doubled each time, up to [`NOT_YET_MAX`]).
const NOT_YET_PAUSE: Duration = Duration::from_micros(50);
const NOT_YET_MAX: Duration = Duration::from_millis(1);

impl BatchInput {
    /// The partials of this process of a cluster over `text`, each with its [`Tag`]: its own
    /// share's (on its workers when it has more than one and the share is worth splitting,
    /// `share_parts`), then, with one worker, those of the blocks it took from the others
    /// once its share was done ([`run_stealing`]). Every process must call it for the same
    /// texts in the same order (each call is a session its requests name).
    pub(super) fn tagged_partials<'t, R, F>(
        &'t self,
        peers: &Arc<dyn Collective>,
        text: &'t TextBatch,
        partial: &F,
    ) -> Result<Vec<(Tag, R)>, Error>
    where
        F: Fn(Lines<'t>) -> R + Sync,
        R: Send,
    {
        let (me, n) = (peers.index(), peers.count());
        let session = self.batch_id << 16 | (self.sessions.fetch_add(1, Ordering::Relaxed) & 0xffff);
        if self.workers > 1 {
            // Its workers balance the share among themselves (`Parts`); it lends nothing.
            let parts = Parts::new(self.share_parts(text, me, n), partial).with_pool(self.pool.clone()).run();
            peers.withdraw(session);
            return Ok(parts.into_iter().enumerate().map(|(k, r)| ((me as u32, k as u64), r)).collect());
        }
        run_stealing(peers.as_ref(), session, text.split_part(me, n), &self.received, &self.lending, partial)
    }
}

/// `partial` over this process's `share` of `session` (none: an empty share), offered to the
/// others while it runs, then over a block of each other process's share (module docs): the
/// partials with their tags, in the order run. The blocks' text is kept in `received`; what
/// was lent and taken is added to `lending`.
pub(super) fn run_stealing<'t, R, F>(
    peers: &dyn Collective,
    session: u64,
    share: Option<Lines<'t>>,
    received: &'t Received,
    lending: &Mutex<Lending>,
    partial: &F,
) -> Result<Vec<(Tag, R)>, Error>
where
    F: Fn(Lines<'t>) -> R + Sync,
    R: Send,
{
    let (me, n) = (peers.index(), peers.count());
    let mut out = Vec::new();
    match share {
        Some(share) => out.push(((me as u32, 0), own_share(peers, session, share, lending, partial)?)),
        None => peers.withdraw(session),
    }
    // Then a block of each other's share: the back half of what it has left, which it would
    // end at about the time this process ends the block. Not asked again: the answer would
    // wait for the other's threads, on a core busy with the end of its share. Not asked at all
    // when it asked first (its share is done).
    let mut others: VecDeque<(usize, Duration)> = (1..n).map(|k| ((me + k) % n, NOT_YET_PAUSE)).collect();
    while let Some((from, pause)) = others.pop_front() {
        if peers.has_asked(session, from) {
            continue;
        }
        let asked = Instant::now();
        let answer = peers.steal(session, from)?;
        Lending::of(lending).waited += asked.elapsed();
        match answer {
            Stolen::Block { offset, text } => {
                Lending::of(lending).taken += text.len() as u64;
                let text = crate::utf8::as_str(received.keep(text)).ok_or_else(|| {
                    Error::Cluster(format!("the lines process {from} lent are not UTF-8; this is a bug in streamc"))
                })?;
                // Read yielding too: the others' requests (to this process, done) are answered
                // by its other threads.
                let chunks = Arc::new(Chunks::new(text, LEND_CHUNK_BYTES).yielding());
                out.push(((from as u32, offset), partial(Lines::claiming(chunks))));
            }
            Stolen::Done => {}
            Stolen::NotYet => {
                std::thread::sleep(pause);
                Lending::of(lending).waited += pause;
                others.push_back((from, (pause * 2).min(NOT_YET_MAX)));
            }
        }
    }
    Ok(out)
}

/// `partial` over what the others leave of `share`, which is offered to them while it runs
/// (`session`); withdrawn once it is done.
fn own_share<'t, R, F>(
    peers: &dyn Collective,
    session: u64,
    share: Lines<'t>,
    lending: &Mutex<Lending>,
    partial: &F,
) -> Result<R, Error>
where
    F: Fn(Lines<'t>) -> R + Sync,
    R: Send,
{
    Lending::of(lending).own += share.len_bytes() as u64;
    let Some(requests) = peers.offer(session) else {
        let r = partial(share);
        peers.withdraw(session);
        return Ok(r);
    };
    // Withdrawn however the stage ends (a panic too): the serving thread ends with it.
    struct Withdraw<'a>(&'a dyn Collective, u64);
    impl Drop for Withdraw<'_> {
        fn drop(&mut self) {
            self.0.withdraw(self.1);
        }
    }
    let whole = share.text();
    let chunks = Arc::new(Chunks::new(whole, LEND_CHUNK_BYTES).yielding());
    std::thread::scope(|scope| {
        let withdraw = Withdraw(peers, session);
        let lent = Arc::clone(&chunks);
        let server = scope.spawn(move || -> Result<(), Error> {
            // Until the share is withdrawn and every request that came before is answered.
            while let Ok(request) = requests.recv() {
                let block = lent
                    .steal_back_from(MIN_CHUNKS_LEFT)
                    .map(|b| ((b.as_ptr() as usize - whole.as_ptr() as usize) as u64, b.as_bytes()));
                if let Some((_, b)) = block {
                    Lending::of(lending).lent += b.len() as u64;
                }
                peers.answer(&request, block)?;
            }
            Ok(())
        });
        let r = partial(Lines::claiming(chunks));
        drop(withdraw);
        let served = server.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        served.map(|()| r)
    })
}

#[cfg(all(test, feature = "cluster"))]
mod tests {
    use super::*;
    use crate::cluster::{Membership, Peers};
    use crate::persist::{Persist, read_all};

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    /// Clusters of 2 and 3 in threads, process 0 slow: for each of three sessions in a row
    /// (a round after each, as a batch has), every line of the batch is in exactly one partial,
    /// the partials in tag order are the lines in order, and process 0 kept less than its
    /// share (the others took blocks from its back).
    #[test]
    fn blocks_of_a_slow_share_are_taken_and_every_line_is_run_once_in_order() {
        let lines: Vec<String> = (0..6000).map(|i| format!("line {i:05} {}", "x".repeat(200 + i % 23))).collect();
        for n in [2, 3] {
            let addresses: Vec<String> = (0..n).map(|_| format!("127.0.0.1:{}", free_port())).collect();
            let handles: Vec<_> = (0..n)
                .map(|p| {
                    let m = Membership::new(p, addresses.clone()).unwrap();
                    let lines = lines.clone();
                    std::thread::spawn(move || {
                        let peers = Peers::connect(&m).unwrap();
                        let mut text = TextBatch::new();
                        for l in &lines {
                            text.push_line(l);
                        }
                        let mut kept_own = Vec::new();
                        for session in 1..=3u64 {
                            let received = Received::default();
                            // Two passes over the part, as a DStream partial with two chains makes.
                            let stage = |part: Lines<'_>| -> Vec<String> {
                                let first: Vec<String> = part
                                    .clone()
                                    .map(|l| {
                                        if p == 0 {
                                            std::thread::sleep(Duration::from_micros(10));
                                        }
                                        l.to_owned()
                                    })
                                    .collect();
                                assert!(part.eq(first.iter().map(String::as_str)), "a second pass read other lines");
                                first
                            };
                            let lending = Mutex::default();
                            let got = run_stealing(&peers, session, text.split_part(p, n), &received, &lending, &stage)
                                .unwrap();
                            let own = text.split_part(p, n).map_or(0, |s| s.count());
                            kept_own
                                .push((own, got.iter().find(|(t, _)| t.0 as usize == p).map_or(0, |(_, l)| l.len())));
                            let mut bytes = Vec::new();
                            got.write(&mut bytes);
                            let mut all: Vec<(Tag, Vec<String>)> = Vec::new();
                            for m in peers.all_gather(bytes).unwrap() {
                                all.extend(read_all::<Vec<(Tag, Vec<String>)>>(&m).unwrap());
                            }
                            all.sort_by_key(|(t, _)| *t);
                            let joined: Vec<String> = all.into_iter().flat_map(|(_, l)| l).collect();
                            assert_eq!(joined, lines, "{n} processes, session {session}");
                        }
                        kept_own
                    })
                })
                .collect();
            for (p, h) in handles.into_iter().enumerate() {
                let kept = h.join().unwrap();
                if p == 0 {
                    for (own, kept) in kept {
                        assert!(kept < own, "{n} processes: process 0 kept {kept} of its {own} lines");
                    }
                }
            }
        }
    }
}
