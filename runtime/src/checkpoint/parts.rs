//! Parts (`parts/<T>`): the immutable pieces of state snapshots (a window's panes) that are
//! written once, into the part file of the first commit that uses them, and referred to by
//! later commits ([`PartRef`]).

use std::collections::{HashMap, HashSet};

use super::format::{Invalid, Reader, checked_body, seal};
use super::layout::FORMAT_VERSION;
use crate::codec;

const PART_MAGIC: &[u8; 8] = b"SCPART\r\n";

/// A commit's reference to a part of a state's snapshot, in the part file `parts/<file>`
/// ([`part_file_path`](super::layout::part_file_path)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PartRef {
    /// The part's id, unique within the state's snapshot (a window pane: its batch time).
    pub id: i64,
    /// What the part's content is at (a window pane: its length, as a pane only grows): a part
    /// with the same id and stamp has the same bytes.
    pub stamp: u64,
    /// The time of the commit that wrote it, which names its part file.
    pub file: i64,
}

/// One part in a part file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The name of the state it belongs to.
    pub state: String,
    /// The part's id.
    pub id: i64,
    /// The part's stamp.
    pub stamp: u64,
    /// The bytes the state wrote.
    pub bytes: Vec<u8>,
}

/// The contents of a part file (`parts/<T>`): the parts first used by the commit of time `T`,
/// of every state of that commit.
///
/// Law: `PartFile::decode(&f.encode()) == Ok(f)`, and `decode` fails on any truncation or any
/// changed byte of an encoding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartFile {
    /// The parts, in the order they were added.
    pub parts: Vec<Part>,
}

impl PartFile {
    /// The file's bytes, checksum included.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = PartFileWriter::default();
        for p in &self.parts {
            w.add(&p.state, p.id, p.stamp, |out| out.extend_from_slice(&p.bytes));
        }
        w.finish().0
    }

    /// Reads a file's bytes, checking the checksum and the format version.
    pub fn decode(bytes: &[u8]) -> Result<Self, Invalid> {
        let mut r = Reader(checked_body(bytes, PART_MAGIC, "part")?);
        r.version()?;
        let n = r.u32("part count")?;
        let mut parts = Vec::new();
        for _ in 0..n {
            let state = r.str("state name")?;
            let id = r.i64("part id")?;
            let stamp = r.u64("part stamp")?;
            let bytes = r.bytes("part bytes")?;
            parts.push(Part { state, id, stamp, bytes });
        }
        r.end()?;
        Ok(PartFile { parts })
    }
}

/// A part file being written: the bytes of its parts, appended in place as states add them.
#[derive(Debug)]
pub(crate) struct PartFileWriter {
    out: Vec<u8>,
    count: u32,
}

impl Default for PartFileWriter {
    fn default() -> Self {
        let mut out = Vec::new();
        out.extend_from_slice(PART_MAGIC);
        codec::put_u32(&mut out, FORMAT_VERSION);
        // The count, patched in by `finish`.
        codec::put_u32(&mut out, 0);
        PartFileWriter { out, count: 0 }
    }
}

impl PartFileWriter {
    /// Adds part `id` (of `stamp`) of state `state`, with what `write` appends as its bytes.
    pub(crate) fn add(&mut self, state: &str, id: i64, stamp: u64, write: impl FnOnce(&mut Vec<u8>)) {
        let out = &mut self.out;
        codec::put_str32(out, state);
        codec::put_i64(out, id);
        codec::put_u64(out, stamp);
        // The length is patched in once `write` has written the bytes in place.
        let at = out.len();
        codec::put_u64(out, 0);
        write(out);
        let len = (out.len() - at - 8) as u64;
        codec::patch_u64(out, at, len);
        self.count = self.count.checked_add(1).expect("fewer than 2^32 parts");
    }

    /// The file's bytes, checksum included, and the checksum.
    pub(crate) fn finish(mut self) -> (Vec<u8>, u64) {
        let at = PART_MAGIC.len() + 4;
        codec::patch_u32(&mut self.out, at, self.count);
        let sum = seal(&mut self.out);
        (self.out, sum)
    }
}

/// The part file of the commit being prepared: the parts it uses first, of every state, each
/// added once.
#[derive(Debug)]
pub(crate) struct NewParts {
    /// The time of the commit, which names the file.
    pub(crate) time: i64,
    writer: Option<PartFileWriter>,
    added: HashMap<String, HashSet<(i64, u64)>>,
}

impl NewParts {
    pub(crate) fn new(time: i64) -> Self {
        NewParts { time, writer: None, added: HashMap::new() }
    }

    /// Adds part `id` (of `stamp`) of state `state`, with what `write` appends as its bytes,
    /// unless it is in the file already.
    pub(crate) fn add(&mut self, state: &str, id: i64, stamp: u64, write: impl FnOnce(&mut Vec<u8>)) {
        let added = match self.added.get_mut(state) {
            Some(a) => a,
            None => self.added.entry(state.to_owned()).or_default(),
        };
        if added.insert((id, stamp)) {
            self.writer.get_or_insert_with(PartFileWriter::default).add(state, id, stamp, write);
        }
    }

    /// The file's bytes and checksum; `None` if no part was added.
    pub(crate) fn finish(self) -> Option<(Vec<u8>, u64)> {
        self.writer.map(PartFileWriter::finish)
    }
}
