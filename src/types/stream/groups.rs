//! Consumer groups: the last ID delivered, how many entries that is
//! (`entries_read`, -1 when unknown), the pending entries list (PEL) of
//! delivered but unacknowledged entries, and the consumers that own them.
//! A PEL entry names its owner; each consumer keeps the set of IDs it owns.

use super::{Stream, StreamId};
use std::collections::{BTreeMap, BTreeSet};

/// Redis's SCG_INVALID_ENTRIES_READ.
pub const UNKNOWN_READS: i64 = -1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// When it was last delivered (ms).
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Vec<u8>,
}

impl Nack {
    /// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n`: how the AOF
    /// recreates this entry (callers add FORCE, JUSTID and LASTID as Redis
    /// orders them for a rewrite or a propagated claim).
    pub fn claim_command(&self, key: &[u8], group: &[u8], id: StreamId) -> Vec<Vec<u8>> {
        let mut args: Vec<Vec<u8>> = [&b"XCLAIM"[..], key, group, &self.consumer, b"0"].map(<[u8]>::to_vec).to_vec();
        args.extend([id.to_bytes(), b"TIME".to_vec(), self.delivery_time.to_string().into_bytes()]);
        args.extend([b"RETRYCOUNT".to_vec(), self.delivery_count.to_string().into_bytes()]);
        args
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    pub seen_time: i64,
    pub pending: BTreeSet<StreamId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Self {
        Group { last_id, entries_read, ..Group::default() }
    }

    /// Adds a consumer seen at `now`; false if it exists.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(name.to_vec(), Consumer { seen_time: now, pending: BTreeSet::new() });
        true
    }

    /// Removes a consumer and its pending entries; how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pending {
            self.pel.remove(id);
        }
        Some(consumer.pending.len())
    }

    /// XACK of one ID: whether it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else { return false };
        if let Some(owner) = self.consumers.get_mut(&nack.consumer) {
            owner.pending.remove(&id);
        }
        true
    }

    /// Makes `consumer` (which exists) own `id` with these delivery
    /// details, creating the PEL entry if needed.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], delivery_time: i64, delivery_count: u64) {
        let nack = self.pel.entry(id).or_insert_with(|| Nack { delivery_time, delivery_count, consumer: Vec::new() });
        if nack.consumer != consumer {
            if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                old.pending.remove(&id);
            }
            nack.consumer = consumer.to_vec();
        }
        nack.delivery_time = delivery_time;
        nack.delivery_count = delivery_count;
        self.consumers.get_mut(consumer).expect("consumer exists").pending.insert(id);
    }
}

impl Stream {
    /// Whether XDEL left a hole between `start` and the end
    /// (streamRangeHasTombstones).
    fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.is_empty() || self.max_deleted_id == StreamId::MIN || self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id
    }

    /// How many entries were ever added up to `id`, when it can be told
    /// (streamEstimateDistanceFromFirstEverEntry); UNKNOWN_READS if not.
    pub fn reads_up_to(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.is_empty() && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        }
        if id > self.last_id {
            return UNKNOWN_READS;
        }
        if self.max_deleted_id == StreamId::MIN || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return added - self.len() as i64;
            }
            if id == self.first_id {
                return added - self.len() as i64 + 1;
            }
        }
        UNKNOWN_READS
    }

    /// Entries not yet delivered to the group, None when unknown.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != UNKNOWN_READS && !self.has_tombstones_from(g.last_id) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.reads_up_to(g.last_id);
        (read != UNKNOWN_READS).then(|| self.entries_added as i64 - read)
    }

    /// Moves the group's last delivered ID forward to `id`, an entry it
    /// is being served, keeping `entries_read` as Redis does.
    pub fn advance_group(&self, g: &mut Group, id: StreamId) {
        if id <= g.last_id {
            return;
        }
        if g.entries_read != UNKNOWN_READS && !self.has_tombstones_from(id) {
            g.entries_read += 1;
        } else if self.entries_added > 0 {
            g.entries_read = self.reads_up_to(id);
        }
        g.last_id = id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::stream::filled;

    #[test]
    fn tracks_reads_and_lag() {
        let mut s = filled(5);
        let mut g = Group::new(StreamId::MIN, UNKNOWN_READS);
        assert_eq!(s.lag(&g), Some(5));
        s.advance_group(&mut g, StreamId::new(1, 0));
        assert_eq!((g.entries_read, s.lag(&g)), (1, Some(4)));
        s.advance_group(&mut g, StreamId::new(2, 0));
        assert_eq!(s.lag(&g), Some(3));
        // A deletion ahead of the group makes the lag unknown.
        s.delete(&[StreamId::new(4, 0)]);
        assert_eq!(s.lag(&g), None);
        s.advance_group(&mut g, StreamId::new(3, 0));
        assert_eq!(g.entries_read, UNKNOWN_READS);
        // The last entry's count is known again.
        s.advance_group(&mut g, StreamId::new(5, 0));
        assert_eq!((g.entries_read, s.lag(&g)), (5, Some(0)));
    }

    #[test]
    fn moves_pending_entries_between_consumers() {
        let mut g = Group::new(StreamId::MIN, 0);
        assert!(g.create_consumer(b"a", 1));
        assert!(!g.create_consumer(b"a", 2));
        g.create_consumer(b"b", 1);
        let id = StreamId::new(1, 0);
        g.assign(id, b"a", 10, 1);
        g.assign(id, b"b", 20, 2);
        assert!(g.consumers[&b"a"[..]].pending.is_empty());
        assert_eq!(g.pel[&id].consumer, b"b");
        assert!(g.ack(id) && !g.ack(id));
        g.assign(id, b"a", 30, 1);
        assert_eq!(g.delete_consumer(b"a"), Some(1));
        assert!(g.pel.is_empty());
    }
}
