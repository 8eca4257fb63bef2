//! [`StrReduce`]: `reduce_by_key` over `&str` keys with numeric values, keeping each key's
//! first 16 bytes in its entry so that a probe does not read the batch's text.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::table::{SEED, index_u32};
use crate::persist::Persist;

/// [`KeyedReduce`](super::KeyedReduce) for the commonest table of a text pipeline: `&str` keys borrowed from the
/// batch, with numeric (`Copy`) values. Each entry keeps the key's first 16 bytes next to its
/// value, so a probe compares the key in the entry instead of reading the key's text where the
/// batch first had it (a cache miss per record in a large batch: the bulk of a word count's time
/// in `KeyedReduce`). Keys longer than 16 bytes are compared in full after their first 16.
///
/// Generated code picks it when the checker knows the key is `&str` and the value a number; its
/// methods are `KeyedReduce`'s, with the same order (keys in first-seen order) and results.
///
/// ```
/// use streamc_runtime::state::StrReduce;
/// let mut t = StrReduce::new();
/// for w in ["b", "a", "b", "a very long word, over sixteen bytes"] {
///     t.merge(w, 1, &mut |x, y| x + y);
/// }
/// assert_eq!(t.into_vec(), vec![("b", 2), ("a", 1), ("a very long word, over sixteen bytes", 1)]);
/// ```
pub struct StrReduce<'a, V> {
    table: HashTable<u32>,
    entries: Vec<StrEntry<'a, V>>,
    hasher: FixedState,
    /// In a cluster, how many keys the partial this table was cut from had (its own and those
    /// cut out for the other processes): what the next batch's partial needs room for
    /// ([`room`](Self::room)). 0 for a table not cut from a partial.
    cut_from: usize,
}

/// A key, its first 16 bytes (zero-padded), its hash and its value. The hash is kept so that
/// merging a worker's table ([`StrReduce::absorb`]) and growing the index never read the keys'
/// text again.
struct StrEntry<'a, V> {
    key: &'a str,
    head: [u64; 2],
    hash: u64,
    value: V,
}

/// The first 16 bytes of `s`, zero-padded, as two little-endian words (with the length, they
/// tell keys of up to 16 bytes apart).
///
/// Read as at most four fixed-size loads, two of which may overlap, instead of a copy of a
/// variable length into a buffer (which compiles to a call of `memcpy` per record: 2–4 % of a
/// word count's time).
#[inline(always)]
fn head(s: &str) -> [u64; 2] {
    let b = s.as_bytes();
    let n = b.len();
    if n >= 16 {
        return [le64(&b[..8]), le64(&b[8..16])];
    }
    if n >= 8 {
        // Bytes 8..n are the last n - 8 of the last eight, shifted down.
        let hi = if n == 8 { 0 } else { le64(&b[n - 8..]) >> (8 * (16 - n)) };
        return [le64(&b[..8]), hi];
    }
    // Under 8 bytes: two loads that overlap where the bytes are the same, so OR-ing them
    // places each byte once.
    let lo = if n >= 4 {
        u64::from(le32(&b[..4])) | (u64::from(le32(&b[n - 4..])) << (8 * (n - 4)))
    } else if n > 0 {
        u64::from(b[0]) | (u64::from(b[n / 2]) << (8 * (n / 2))) | (u64::from(b[n - 1]) << (8 * (n - 1)))
    } else {
        0
    };
    [lo, 0]
}

/// The first 8 bytes of `b` as a little-endian word.
#[inline(always)]
fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}

/// The first 4 bytes of `b` as a little-endian word.
#[inline(always)]
fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().expect("4 bytes"))
}

impl<V> std::fmt::Debug for StrReduce<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrReduce").field("len", &self.entries.len()).finish()
    }
}

impl<V: Copy> Default for StrReduce<'_, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, V: Copy> StrReduce<'a, V> {
    /// An empty table.
    #[inline]
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty table with room for `n` keys.
    #[inline]
    pub fn with_capacity(n: usize) -> Self {
        StrReduce {
            table: HashTable::with_capacity(n),
            entries: Vec::with_capacity(n),
            hasher: FixedState::with_seed(SEED),
            cut_from: 0,
        }
    }

    /// Adds `v` under `k`: a new key is inserted, an existing key's value becomes `f(old, v)`.
    #[inline]
    pub fn merge(&mut self, k: &'a str, v: V, f: &mut impl FnMut(V, V) -> V) {
        self.index();
        let hash = self.hasher.hash_one(k);
        self.merge_hashed(k, head(k), hash, v, f);
    }

    /// Appends `v` under `k`, a key the table does not have, without indexing it: a table
    /// read back from bytes, or a piece of a table cut by owner, is only iterated or merged
    /// into another, so its index is built only once something is merged into it
    /// ([`index`](Self::index)).
    pub(crate) fn push_distinct(&mut self, k: &'a str, v: V) {
        let hash = self.hasher.hash_one(k);
        self.entries.push(StrEntry { key: k, head: head(k), hash, value: v });
    }

    /// Appends every entry, in order, as a cluster ships a table ([`crate::ship`]): the key's
    /// length as a varint, its bytes, and the value in its compact form
    /// ([`Persist::write_after`] after nothing: a count is a byte or two). A key of up to 16
    /// bytes is copied from the entry's head with one fixed-size store (a call of `memcpy` per
    /// key was 1.5 % of a 2-process word count's time).
    pub(crate) fn ship_entries(&self, out: &mut Vec<u8>)
    where
        V: Persist,
    {
        for e in &self.entries {
            let n = e.key.len();
            crate::codec::put_varint(out, n as u64);
            if n <= 16 {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&e.head[0].to_le_bytes());
                bytes[8..].copy_from_slice(&e.head[1].to_le_bytes());
                let at = out.len();
                out.extend_from_slice(&bytes);
                out.truncate(at + n);
            } else {
                out.extend_from_slice(e.key.as_bytes());
            }
            e.value.write_after(None, out);
        }
    }

    /// Room for `n` more entries appended with [`push_distinct`](Self::push_distinct).
    pub(crate) fn reserve_distinct(&mut self, n: usize) {
        self.entries.reserve(n);
    }

    /// Builds the index of the entries appended without it ([`push_distinct`](Self::push_distinct),
    /// [`split_by`](Self::split_by)).
    #[inline]
    fn index(&mut self) {
        if self.table.len() != self.entries.len() {
            self.reindex();
        }
    }

    #[inline(never)]
    fn reindex(&mut self) {
        self.table.clear();
        // Room for as many keys as the entries have room for.
        self.table.reserve(self.entries.capacity(), |_| 0);
        let entries = &self.entries;
        for (i, e) in entries.iter().enumerate() {
            self.table.insert_unique(e.hash, index_u32(i), |&j| entries[j as usize].hash);
        }
    }

    /// [`merge`](Self::merge) with the key's head and hash already known.
    #[inline(always)]
    fn merge_hashed(&mut self, k: &'a str, h: [u64; 2], hash: u64, v: V, f: &mut impl FnMut(V, V) -> V) {
        let entries = &self.entries;
        let found = if k.len() <= 16 {
            self.table.find(hash, |&i| {
                let e = &entries[i as usize];
                e.head == h && e.key.len() == k.len()
            })
        } else {
            self.table.find(hash, |&i| {
                let e = &entries[i as usize];
                e.head == h && e.key == k
            })
        };
        match found {
            Some(&i) => {
                let e = &mut self.entries[i as usize];
                e.value = f(e.value, v);
            }
            None => self.insert_new(hash, k, h, v),
        }
    }

    /// The miss path, out of line so that the hit path stays small.
    #[inline(never)]
    fn insert_new(&mut self, hash: u64, key: &'a str, head: [u64; 2], value: V) {
        let i = index_u32(self.entries.len());
        let entries = &self.entries;
        self.table.insert_unique(hash, i, |&j| entries[j as usize].hash);
        self.entries.push(StrEntry { key, head, hash, value });
    }

    /// Merges the table `other` (a later part of the same batch, as a worker computed it) into
    /// this one, as [`KeyedReduce::absorb`](super::KeyedReduce::absorb) does.
    pub fn absorb(&mut self, other: Self, f: &mut impl FnMut(V, V) -> V) {
        if self.entries.is_empty() {
            // `other` in place of this empty table, with the room this one was made with (the
            // last batch's size, `with_capacity`): the later parts' new keys then go in
            // without growing the entries or the index (a 2-process word count spent 2 % of
            // its time growing them).
            let room = self.entries.capacity();
            let cut_from = self.cut_from.max(other.cut_from);
            *self = other;
            self.cut_from = cut_from;
            self.entries.reserve(room.saturating_sub(self.entries.len()));
            self.index();
            return;
        }
        self.cut_from = self.cut_from.max(other.cut_from);
        // `other`'s entries carry their hashes: it need not be indexed.
        self.index();
        // Same seed in every table, so the stored hashes are this table's too.
        for e in other.entries {
            self.merge_hashed(e.key, e.head, e.hash, e.value, f);
        }
    }

    /// The table cut in `n`: piece `j` has the keys for which `owner(key, hash)` says `j`
    /// (`hash` is the key's in this table, kept in its entry: no key is hashed again), each
    /// piece in this table's order (a cluster's processes each merge the keys they own).
    pub fn split_by(self, n: usize, mut owner: impl FnMut(&str, u64) -> usize) -> Vec<Self> {
        // The pieces are shipped, or merged into a state: they are not indexed (`index`). Room
        // for an even share and a quarter more, so that a piece rarely grows (each growth
        // copies the piece: a profile of a 2-process word count had 0.6 % of its time there).
        let share = self.entries.len() / n.max(1);
        let cut_from = self.entries.len();
        let mut parts: Vec<Self> = (0..n)
            .map(|_| {
                let mut p = Self::with_capacity(0);
                p.entries.reserve(share + share / 4 + 16);
                p.cut_from = cut_from;
                p
            })
            .collect();
        for e in self.entries {
            let j = owner(e.key, e.hash);
            parts[j].entries.push(e);
        }
        parts
    }

    /// How many keys the next batch's table should have room for: its keys, or, on a process
    /// of a cluster, the keys of the largest partial its pieces were cut from, if more (a
    /// partial also holds the keys other processes own; sized for this table's keys alone it
    /// grew in every batch: 3–4 % of a 2-process word count's samples).
    #[inline]
    pub fn room(&self) -> usize {
        self.len().max(self.cut_from)
    }

    /// The number of distinct keys.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key was merged yet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in first-insertion order, borrowed.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &V)> {
        self.entries.iter().map(|e| (e.key, &e.value))
    }

    /// The entries in first-insertion order.
    pub fn into_vec(self) -> Vec<(&'a str, V)> {
        self.entries.into_iter().map(|e| (e.key, e.value)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::head;

    /// The head as a copy into a zeroed buffer: what [`head`]'s loads must equal.
    fn copied(s: &str) -> [u64; 2] {
        let mut buf = [0u8; 16];
        let n = s.len().min(16);
        buf[..n].copy_from_slice(&s.as_bytes()[..n]);
        [u64::from_le_bytes(buf[..8].try_into().unwrap()), u64::from_le_bytes(buf[8..].try_into().unwrap())]
    }

    #[test]
    fn the_head_is_the_first_sixteen_bytes_zero_padded_at_every_length() {
        let text: String = (0..40u8).map(|i| char::from(b'!' + i)).collect();
        for n in 0..=text.len() {
            assert_eq!(head(&text[..n]), copied(&text[..n]), "length {n}");
        }
        // Multi-byte characters and zero bytes are bytes like any other.
        for s in ["é", "\0", "a\0b", "\0\0\0\0\0\0\0\0\0", "ünïcödé wörds", "日本語のテキスト"] {
            assert_eq!(head(s), copied(s), "{s:?}");
        }
    }
}
