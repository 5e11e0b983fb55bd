//! The stream type: entries ordered by ID, plus the counters Redis 7.0
//! keeps (last generated ID, first ID, largest deleted ID, entries ever
//! added).
//!
//! Entries live in a B-tree keyed by ID, each one allocation holding its
//! fields and values (see `entry`). Range reads, appends at the tail and
//! trims at the head are O(log n) to reach; deleting an entry frees it at
//! once, where Redis leaves tombstones in its listpack nodes. Redis's node
//! structure is rebuilt only where it is observable: RDB and DUMP output
//! (see `rdb::stream`) and the granularity of approximate trimming.

pub mod entry;
mod groups;
pub mod id;
mod trim;

pub use groups::{Consumer, Group, Nack, UNKNOWN_READS};
pub use id::{parse_exact, parse_id, IdArg, StreamId, INVALID_ID};
pub use trim::{Trim, TrimStrategy, NODE_ENTRIES};

use std::collections::BTreeMap;
use std::ops::Bound;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    entries: BTreeMap<StreamId, Box<[u8]>>,
    /// The ID of the last entry ever added (or set by XSETID).
    pub last_id: StreamId,
    /// The first live entry's ID as Redis records it (0-0 when empty).
    pub first_id: StreamId,
    /// The largest ID XDEL removed.
    pub max_deleted_id: StreamId,
    /// Entries ever added, trimmed and deleted ones included.
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// Why XADD cannot add an entry with the ID it was given.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    /// Not above the stream's last ID.
    NotGreater,
}

impl Stream {
    pub fn new() -> Self {
        Stream::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// Bytes allocated for the entries (B-tree slots plus packed items)
    /// and the groups (PEL entries, consumers and their owned IDs).
    pub fn heap_bytes(&self, samples: usize) -> usize {
        use std::mem::size_of;
        let slot = size_of::<StreamId>() + size_of::<Box<[u8]>>();
        let entries =
            self.len() * slot + super::sampled_bytes(self.len(), samples, self.entries.values().map(|e| e.len()));
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| {
                let pel = g.pel.values().map(|n| 2 * size_of::<StreamId>() + size_of::<Nack>() + n.consumer.len());
                let consumers = g.consumers.keys().map(|n| n.len() + size_of::<Consumer>());
                name.len() + size_of::<Group>() + pel.sum::<usize>() + consumers.sum::<usize>()
            })
            .sum();
        entries + groups
    }

    /// The ID XADD would give an entry: `arg` is the one it was given (None
    /// for `*`), `now_ms` the clock for generated ones.
    pub fn next_id(&self, arg: Option<IdArg>, now_ms: u64) -> Result<StreamId, AddError> {
        let id = match arg {
            None => self.last_id.next_at(now_ms),
            Some(IdArg::Exact(id)) => id,
            Some(IdArg::AutoSeq(ms)) if ms == self.last_id.ms => {
                self.last_id.seq.checked_add(1).map(|seq| StreamId::new(ms, seq)).ok_or(AddError::NotGreater)?
            }
            Some(IdArg::AutoSeq(ms)) => StreamId::new(ms, 0),
        };
        if id <= self.last_id {
            return Err(AddError::NotGreater);
        }
        Ok(id)
    }

    /// Appends an entry whose ID `next_id` returned; `items` alternate
    /// fields and values.
    pub fn append<'a>(&mut self, id: StreamId, items: impl Iterator<Item = &'a [u8]> + Clone) {
        self.insert_loaded(id, entry::pack(items));
        self.entries_added += 1;
        self.last_id = id;
        if self.len() == 1 {
            self.first_id = id;
        }
    }

    /// Adds an entry as a loader found it, the counters left alone.
    pub fn insert_loaded(&mut self, id: StreamId, packed: Box<[u8]>) {
        self.entries.insert(id, packed);
    }

    /// Entries with IDs in `start..=end`, forwards (or backwards with `.rev()`).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
    ) -> impl DoubleEndedIterator<Item = (StreamId, entry::Items<'_>)> {
        let bounds = if start <= end {
            (Bound::Included(start), Bound::Included(end))
        } else {
            // An empty range: BTreeMap panics on inverted bounds.
            (Bound::Included(start), Bound::Excluded(start))
        };
        self.entries.range(bounds).map(|(id, e)| (*id, entry::items(e)))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (StreamId, entry::Items<'_>)> {
        self.range(StreamId::MIN, StreamId::MAX)
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.entries.contains_key(&id)
    }

    /// The last live entry's ID, 0-0 when empty (streamLastValidID).
    pub fn last_entry_id(&self) -> StreamId {
        self.entries.keys().next_back().copied().unwrap_or_default()
    }

    /// The first live entry's ID, or the largest ID when empty (what
    /// Redis's streamGetEdgeID answers for the head).
    pub fn first_entry_id_or_max(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or(StreamId::MAX)
    }

    /// XDEL: removes the entries with these IDs; returns how many existed.
    pub fn delete(&mut self, ids: &[StreamId]) -> usize {
        let mut deleted = 0;
        let mut first_deleted = false;
        for &id in ids {
            if self.entries.remove(&id).is_some() {
                first_deleted |= id == self.first_id;
                self.max_deleted_id = self.max_deleted_id.max(id);
                deleted += 1;
            }
        }
        if deleted > 0 && (first_deleted || self.is_empty()) {
            self.refresh_first_id();
        }
        deleted
    }

    fn refresh_first_id(&mut self) {
        self.first_id = self.entries.keys().next().copied().unwrap_or_default();
    }

    /// Removes the `n` oldest entries.
    fn pop_front(&mut self, n: usize) {
        if n >= self.len() {
            self.entries.clear();
        } else if n > 0 {
            let keep_from = *self.entries.keys().nth(n).expect("n < len");
            self.entries = self.entries.split_off(&keep_from);
        }
        if n > 0 {
            self.refresh_first_id();
        }
    }

    /// Entries with IDs below `id`.
    fn count_below(&self, id: StreamId) -> usize {
        self.entries.range(..id).count()
    }
}

/// A stream of entries 1-0 … n-0, each `f v`.
#[cfg(test)]
pub(crate) fn filled(n: u64) -> Stream {
    let mut s = Stream::new();
    for i in 1..=n {
        let id = s.next_id(Some(IdArg::Exact(StreamId::new(i, 0))), 0).unwrap();
        s.append(id, [&b"f"[..], b"v"].into_iter());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &mut Stream, ms: u64, seq: u64) {
        let id = s.next_id(Some(IdArg::Exact(StreamId::new(ms, seq))), 0).unwrap();
        s.append(id, [&b"f"[..], b"v"].into_iter());
    }

    #[test]
    fn generates_ids_after_the_last_one() {
        let mut s = Stream::new();
        assert_eq!(s.next_id(None, 5), Ok(StreamId::new(5, 0)));
        add(&mut s, 5, 0);
        assert_eq!(s.next_id(None, 5), Ok(StreamId::new(5, 1)));
        assert_eq!(s.next_id(None, 3), Ok(StreamId::new(5, 1)));
        assert_eq!(s.next_id(Some(IdArg::AutoSeq(5)), 0), Ok(StreamId::new(5, 1)));
        assert_eq!(s.next_id(Some(IdArg::AutoSeq(6)), 0), Ok(StreamId::new(6, 0)));
        assert_eq!(s.next_id(Some(IdArg::AutoSeq(4)), 0), Err(AddError::NotGreater));
        assert_eq!(s.next_id(Some(IdArg::Exact(StreamId::new(5, 0))), 0), Err(AddError::NotGreater));
        s.last_id = StreamId::new(7, u64::MAX);
        assert_eq!(s.next_id(Some(IdArg::AutoSeq(7)), 0), Err(AddError::NotGreater));
    }

    #[test]
    fn deletes_and_tracks_first_and_max_deleted() {
        let mut s = Stream::new();
        for i in 1..=4 {
            add(&mut s, i, 0);
        }
        assert_eq!((s.first_id, s.entries_added), (StreamId::new(1, 0), 4));
        assert_eq!(s.delete(&[StreamId::new(1, 0), StreamId::new(3, 0), StreamId::new(9, 0)]), 2);
        assert_eq!((s.first_id, s.max_deleted_id), (StreamId::new(2, 0), StreamId::new(3, 0)));
        assert_eq!(s.delete(&[StreamId::new(2, 0), StreamId::new(4, 0)]), 2);
        assert_eq!((s.first_id, s.len(), s.last_id), (StreamId::MIN, 0, StreamId::new(4, 0)));
        let ids: Vec<_> = s.range(StreamId::new(5, 0), StreamId::new(1, 0)).collect();
        assert!(ids.is_empty());
    }
}
