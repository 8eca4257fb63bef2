//! Notes: messages between two processes outside the rounds, with which a process that has
//! ended its share of a batch takes blocks of another's ([`crate::app::Collective::steal`]).
//!
//! A note is a request (`steal`: "a block of your share of session `s`, please") or a reply
//! (a block's text and where it lies in the share, "done", or "not yet"). The timely worker
//! thread routes the notes that arrive ([`Router::arrived`]): a request to the thread that
//! serves this process's offered share ([`Router::offer`]), or, when there is none, straight
//! back as "done" (the session is over here) or "not yet" (this process has not reached it);
//! a reply to the batch thread waiting for it.

use std::sync::mpsc::Sender;

use crate::app::{StealRequest, Stolen};
use crate::error::Error;

const REQUEST: u8 = 0;
const REPLY: u8 = 1;
const BLOCK: u8 = 0;
const DONE: u8 = 1;
const NOT_YET: u8 = 2;

/// A note's last bytes: two numbers (little-endian), its kind and what it says. A block's
/// lines come before them, so that the note's bytes, cut short, are the block's.
const TRAILER: usize = 18;

fn with_trailer(mut m: Vec<u8>, a: u64, b: u64, kind: u8, says: u8) -> Vec<u8> {
    m.extend_from_slice(&a.to_le_bytes());
    m.extend_from_slice(&b.to_le_bytes());
    m.extend_from_slice(&[kind, says]);
    m
}

/// A request for a block of session `session` (the numbers of a batch's calls that read in
/// shares, the same on every process), `id` the thief's own number for it.
pub(super) fn request(session: u64, id: u64) -> Vec<u8> {
    with_trailer(Vec::with_capacity(TRAILER), session, id, REQUEST, 0)
}

/// The reply to request `id`: a block (where it starts in the share, its text), or none
/// (`done`: the session is over on the replying process; else not yet begun there).
pub(super) fn reply(id: u64, block: Option<(u64, &[u8])>, done: bool) -> Vec<u8> {
    match block {
        Some((offset, text)) => {
            let mut m = Vec::with_capacity(text.len() + TRAILER);
            m.extend_from_slice(text);
            with_trailer(m, id, offset, REPLY, BLOCK)
        }
        None => with_trailer(Vec::with_capacity(TRAILER), id, 0, REPLY, if done { DONE } else { NOT_YET }),
    }
}

/// A reply, as the thief reads it: its request's id and what it says.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) id: u64,
    pub(super) stolen: Stolen,
}

/// Where the notes that arrive go. Shared by the worker thread (which routes) and the batch
/// thread (which offers and withdraws its share).
#[derive(Debug, Default)]
pub(super) struct Router {
    /// The session whose share this process offers, and where its requests go.
    offered: Option<(u64, Sender<StealRequest>)>,
    /// The newest session over on this process (withdrawn, or never offered).
    done: Option<u64>,
    /// The newest session some process asked about, and the processes that did: each asks
    /// only once its own share is done, so it has nothing left to lend.
    asked: Option<(u64, Vec<usize>)>,
}

/// What the worker thread does with a note that arrived.
pub(super) enum Routed {
    /// A reply for the batch thread.
    Reply(Reply),
    /// A note to send back to the process that asked.
    Answer(Vec<u8>),
    /// Passed to the thread serving the offered share.
    Served,
}

impl Router {
    /// Requests for `session` go to the returned receiver's thread from now on.
    pub(super) fn offer(&mut self, session: u64) -> std::sync::mpsc::Receiver<StealRequest> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.offered = Some((session, tx));
        rx
    }

    /// `session` is over here: its requests are answered "done" (the serving thread's channel
    /// closes, so it ends once it has answered what it got).
    pub(super) fn withdraw(&mut self, session: u64) {
        if self.offered.as_ref().is_some_and(|(s, _)| *s <= session) {
            self.offered = None;
        }
        self.done = Some(self.done.map_or(session, |d| d.max(session)));
    }

    /// Whether process `p` has asked this one about `session` (its own share is done).
    pub(super) fn has_asked(&self, session: u64, p: usize) -> bool {
        self.asked.as_ref().is_some_and(|(s, who)| *s == session && who.contains(&p))
    }

    /// Routes the note `bytes` that process `from` sent.
    pub(super) fn arrived(&mut self, from: usize, mut bytes: Vec<u8>) -> Result<Routed, Error> {
        let bad = || Error::Cluster(format!("a note of process {from} does not read back"));
        let body = bytes.len().checked_sub(TRAILER).ok_or_else(bad)?;
        let t = &bytes[body..];
        let number = |at: usize| u64::from_le_bytes(t[at..at + 8].try_into().expect("8 bytes"));
        let (a, b, kind, says) = (number(0), number(8), t[16], t[17]);
        bytes.truncate(body);
        match (kind, says) {
            (REQUEST, 0) if bytes.is_empty() => {
                let (session, id) = (a, b);
                match &mut self.asked {
                    Some((s, who)) if *s == session => {
                        // Once per process, however often it asks again ("not yet").
                        if !who.contains(&from) {
                            who.push(from);
                        }
                    }
                    Some((s, _)) if *s > session => {}
                    _ => self.asked = Some((session, vec![from])),
                }
                if let Some((s, tx)) = &self.offered
                    && *s == session
                    && tx.send(StealRequest { from, session, id }).is_ok()
                {
                    return Ok(Routed::Served);
                }
                let done = self.done.is_some_and(|d| d >= session);
                Ok(Routed::Answer(reply(id, None, done)))
            }
            (REPLY, BLOCK) => Ok(Routed::Reply(Reply { id: a, stolen: Stolen::Block { offset: b, text: bytes } })),
            (REPLY, DONE) if bytes.is_empty() => Ok(Routed::Reply(Reply { id: a, stolen: Stolen::Done })),
            (REPLY, NOT_YET) if bytes.is_empty() => Ok(Routed::Reply(Reply { id: a, stolen: Stolen::NotYet })),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_of(r: Routed) -> Reply {
        match r {
            Routed::Reply(r) => r,
            _ => panic!("not a reply"),
        }
    }

    fn answered(r: Routed) -> Stolen {
        match r {
            Routed::Answer(bytes) => reply_of(Router::default().arrived(1, bytes).unwrap()).stolen,
            _ => panic!("not answered"),
        }
    }

    #[test]
    fn requests_go_to_the_offered_session_and_are_answered_otherwise() {
        let mut r = Router::default();
        // Nothing offered or over yet: not yet.
        assert!(matches!(answered(r.arrived(1, request(5, 1)).unwrap()), Stolen::NotYet));
        let rx = r.offer(5);
        assert!(matches!(r.arrived(1, request(5, 2)).unwrap(), Routed::Served));
        let got = rx.try_recv().unwrap();
        assert_eq!((got.from, got.session, got.id), (1, 5, 2));
        // A later session is not begun here; an earlier one is over.
        assert!(matches!(answered(r.arrived(1, request(6, 3)).unwrap()), Stolen::NotYet));
        r.withdraw(5);
        assert!(rx.recv().is_err(), "the serving thread's channel closes");
        assert!(matches!(answered(r.arrived(1, request(5, 4)).unwrap()), Stolen::Done));
        assert!(matches!(answered(r.arrived(1, request(4, 5)).unwrap()), Stolen::Done));
        assert!(matches!(answered(r.arrived(1, request(6, 6)).unwrap()), Stolen::NotYet));
        // Who asked about the newest session.
        assert!(r.has_asked(6, 1) && !r.has_asked(6, 2) && !r.has_asked(5, 1));
        let _ = r.arrived(2, request(6, 7)).unwrap();
        let _ = r.arrived(2, request(5, 8)).unwrap();
        assert!(r.has_asked(6, 1) && r.has_asked(6, 2));
    }

    #[test]
    fn a_block_reads_back_and_bad_notes_are_errors() {
        let text = b"a b\nc d\n";
        let got = reply_of(Router::default().arrived(0, reply(7, Some((1234, text)), false)).unwrap());
        assert_eq!(got.id, 7);
        assert!(matches!(got.stolen, Stolen::Block { offset: 1234, text: ref t } if t == text));
        let mut r = Router::default();
        assert!(r.arrived(0, vec![9]).is_err());
        assert!(r.arrived(0, vec![]).is_err());
        let mut wrong_kind = request(1, 1);
        wrong_kind[TRAILER - 2] = 7;
        assert!(r.arrived(0, wrong_kind).is_err());
        // A "done" with lines, a request with a body: not notes this build sends.
        let mut long_done = vec![b'x'];
        long_done.extend(reply(3, None, true));
        assert!(r.arrived(0, long_done).is_err());
        let mut long_request = vec![b'x'];
        long_request.extend(request(1, 1));
        assert!(r.arrived(0, long_request).is_err());
    }
}
