//! XADD/XTRIM trimming by length (MAXLEN) or by ID (MINID).
//!
//! Exact trimming (`=`) removes every entry past the threshold. Redis's
//! approximate trimming (`~`) removes only whole listpack nodes; forkv has
//! no nodes, so it trims in steps of `NODE_ENTRIES` entries counted from
//! the head — what Redis does on a stream filled by XADD alone, whose nodes
//! hold that many entries each. LIMIT caps the entries removed, in the same
//! whole steps.

use super::{Stream, StreamId};

/// Entries per node (Redis's default `stream-node-max-entries`).
pub const NODE_ENTRIES: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    MaxLen(usize),
    MinId(StreamId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trim {
    pub strategy: TrimStrategy,
    pub approx: bool,
    /// At most this many entries (0: no cap); only with `approx`.
    pub limit: usize,
}

impl Stream {
    /// Trims the oldest entries; returns how many were removed.
    pub fn trim(&mut self, t: &Trim) -> usize {
        let excess = match t.strategy {
            TrimStrategy::MaxLen(max) => self.len().saturating_sub(max),
            TrimStrategy::MinId(id) => self.count_below(id),
        };
        let n = if t.approx {
            let cap = if t.limit == 0 { excess } else { excess.min(t.limit) };
            cap / NODE_ENTRIES * NODE_ENTRIES
        } else {
            excess
        };
        self.pop_front(n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::stream::filled;

    fn trim(s: &mut Stream, strategy: TrimStrategy, approx: bool, limit: usize) -> usize {
        s.trim(&Trim { strategy, approx, limit })
    }

    #[test]
    fn trims_exactly_or_by_whole_nodes() {
        let mut s = filled(350);
        assert_eq!(trim(&mut s, TrimStrategy::MaxLen(300), true, 0), 0);
        assert_eq!(trim(&mut s, TrimStrategy::MaxLen(100), true, 0), 200);
        assert_eq!((s.len(), s.first_id), (150, StreamId::new(201, 0)));
        assert_eq!(trim(&mut s, TrimStrategy::MaxLen(10), false, 0), 140);
        assert_eq!(s.first_id, StreamId::new(341, 0));
        let mut s = filled(350);
        assert_eq!(trim(&mut s, TrimStrategy::MaxLen(0), true, 250), 200);
        assert_eq!(trim(&mut s, TrimStrategy::MinId(StreamId::new(300, 0)), true, 0), 0);
        assert_eq!(trim(&mut s, TrimStrategy::MinId(StreamId::new(300, 0)), false, 0), 99);
        assert_eq!(trim(&mut s, TrimStrategy::MaxLen(0), false, 0), 51);
        assert_eq!((s.first_id, s.last_id, s.entries_added), (StreamId::MIN, StreamId::new(350, 0), 350));
    }
}
