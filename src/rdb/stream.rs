//! Streams in RDB type 19 (RDB_TYPE_STREAM_LISTPACKS_2): entries in
//! listpack nodes keyed by their master ID, in Redis's entry layout.
//!
//! A node starts with a master entry `count deleted num-fields field… 0`;
//! each entry is `flags ms-delta seq-delta [num-fields field…] value…
//! lp-count`, its ID relative to the master ID and its field names left
//! out (SAMEFIELDS flag) when they are the master's.

use super::encodings;
use super::lp_encode::LpBuilder;
use crate::types::stream::StreamId;
use crate::util::parse_i64;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
/// Redis's defaults for starting a new node (stream-node-max-bytes/-entries).
const NODE_MAX_BYTES: usize = 4096;
const NODE_MAX_ENTRIES: usize = 100;

/// The counters a stream stores after its nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamMeta {
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
}

/// A pending entry of a consumer group: delivery time (ms) and count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbNack {
    pub id: StreamId,
    pub delivery_time: i64,
    pub delivery_count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbConsumer {
    pub name: Vec<u8>,
    pub seen_time: i64,
    /// IDs of its pending entries (each also in the group's PEL).
    pub pending: Vec<StreamId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbGroup {
    pub name: Vec<u8>,
    pub last_id: StreamId,
    /// Entries read, or -1 when unknown (Redis's SCG_INVALID_ENTRIES_READ).
    pub entries_read: i64,
    pub pel: Vec<RdbNack>,
    pub consumers: Vec<RdbConsumer>,
}

/// A decoded stream: live entries (fields and values alternating).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RdbStream {
    pub meta: StreamMeta,
    pub entries: Vec<(StreamId, Vec<Vec<u8>>)>,
    pub groups: Vec<RdbGroup>,
}

/// Packs entries into nodes as Redis's XADD fills them.
#[derive(Default)]
pub struct StreamNodes {
    done: Vec<(StreamId, Vec<u8>)>,
    open: Option<OpenNode>,
}

struct OpenNode {
    master: StreamId,
    fields: Vec<Vec<u8>>,
    lp: LpBuilder,
    count: usize,
}

impl StreamNodes {
    pub fn new() -> Self {
        StreamNodes::default()
    }

    /// Adds the next entry (IDs ascending); `items` alternate fields and values.
    pub fn push<'a>(&mut self, id: StreamId, items: impl Iterator<Item = &'a [u8]> + Clone) {
        let item_bytes: usize = items.clone().map(<[u8]>::len).sum();
        let full = self
            .open
            .as_ref()
            .is_some_and(|n| n.lp.bytes() + item_bytes >= NODE_MAX_BYTES || n.count >= NODE_MAX_ENTRIES);
        if full {
            self.close();
        }
        let node = self.open.get_or_insert_with(|| OpenNode::new(id, items.clone().step_by(2)));
        let num_fields = items.clone().count() / 2;
        let same = num_fields == node.fields.len() && items.clone().step_by(2).zip(&node.fields).all(|(a, b)| a == b);
        let lp = &mut node.lp;
        lp.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
        lp.push_int(id.ms.wrapping_sub(node.master.ms) as i64);
        lp.push_int(id.seq.wrapping_sub(node.master.seq) as i64);
        if !same {
            lp.push_int(num_fields as i64);
        }
        for (i, item) in items.enumerate() {
            if !same || i % 2 == 1 {
                lp.push(item);
            }
        }
        let pieces = if same { 3 + num_fields } else { 4 + 2 * num_fields };
        lp.push_int(pieces as i64);
        node.count += 1;
    }

    fn close(&mut self) {
        if let Some(mut node) = self.open.take() {
            node.lp.set_first(node.count as u8);
            self.done.push((node.master, node.lp.finish()));
        }
    }

    /// The nodes as (master ID, listpack) pairs.
    pub fn finish(mut self) -> Vec<(StreamId, Vec<u8>)> {
        self.close();
        self.done
    }
}

impl OpenNode {
    /// A node whose master entry takes the fields of its first entry. Its
    /// live count is written as 1 and set when the node closes: any count
    /// up to NODE_MAX_ENTRIES has the same one-byte encoding.
    fn new<'a>(master: StreamId, fields: impl Iterator<Item = &'a [u8]>) -> Self {
        let fields: Vec<Vec<u8>> = fields.map(<[u8]>::to_vec).collect();
        let mut lp = LpBuilder::new();
        lp.push_int(1);
        lp.push_int(0);
        lp.push_int(fields.len() as i64);
        for f in &fields {
            lp.push(f);
        }
        lp.push_int(0);
        OpenNode { master, fields, lp, count: 0 }
    }
}

/// Decodes one node into `out`, skipping entries flagged deleted.
pub(crate) fn decode_node(
    master: StreamId,
    blob: &[u8],
    out: &mut Vec<(StreamId, Vec<Vec<u8>>)>,
) -> Result<(), String> {
    let items = encodings::listpack(blob)?;
    if items.is_empty() {
        return Err("Empty listpack inside stream".into());
    }
    let mut it = items.into_iter();
    let int = |it: &mut std::vec::IntoIter<Vec<u8>>| -> Result<i64, String> {
        it.next().as_deref().and_then(parse_i64).ok_or_else(|| "malformed stream listpack".to_string())
    };
    let _count = int(&mut it)?;
    let _deleted = int(&mut it)?;
    let master_fields = usize::try_from(int(&mut it)?).map_err(|_| "negative field count")?;
    let fields: Vec<Vec<u8>> = it.by_ref().take(master_fields).collect();
    if fields.len() != master_fields || int(&mut it)? != 0 {
        return Err("malformed stream master entry".into());
    }
    while it.len() > 0 {
        let flags = int(&mut it)?;
        let ms = master.ms.wrapping_add(int(&mut it)? as u64);
        let seq = master.seq.wrapping_add(int(&mut it)? as u64);
        let mut entry = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for f in &fields {
                entry.push(f.clone());
                entry.push(it.next().ok_or("truncated stream entry")?);
            }
        } else {
            let n = usize::try_from(int(&mut it)?).map_err(|_| "negative field count")?;
            for _ in 0..n.saturating_mul(2) {
                entry.push(it.next().ok_or("truncated stream entry")?);
            }
        }
        int(&mut it)?;
        if flags & FLAG_DELETED == 0 {
            out.push((StreamId::new(ms, seq), entry));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn lays_out_a_node_as_redis() {
        let mut nodes = StreamNodes::new();
        nodes.push(id(5, 1), [&b"f"[..], b"v1"].into_iter());
        nodes.push(id(6, 0), [&b"f"[..], b"2"].into_iter());
        nodes.push(id(6, 1), [&b"g"[..], b"x"].into_iter());
        let out = nodes.finish();
        assert_eq!(out.len(), 1);
        let items: Vec<String> =
            encodings::listpack(&out[0].1).unwrap().into_iter().map(|v| String::from_utf8(v).unwrap()).collect();
        #[rustfmt::skip]
        let want = [
            "3", "0", "1", "f", "0",          // master: count, deleted, fields, 0
            "2", "0", "0", "v1", "4",         // SAMEFIELDS, deltas, value, lp-count
            "2", "1", "-1", "2", "4",         // seq delta wraps below the master's
            "0", "1", "0", "1", "g", "x", "6", // own fields
        ];
        assert_eq!(items, want);
        let mut back = Vec::new();
        decode_node(out[0].0, &out[0].1, &mut back).unwrap();
        assert_eq!(back[1], (id(6, 0), vec![b"f".to_vec(), b"2".to_vec()]));
        assert_eq!(back[2], (id(6, 1), vec![b"g".to_vec(), b"x".to_vec()]));
    }

    #[test]
    fn starts_nodes_at_100_entries_or_4kb() {
        let mut nodes = StreamNodes::new();
        for i in 0..250 {
            nodes.push(id(i, 0), [&b"f"[..], b"v"].into_iter());
        }
        let counts: Vec<usize> = nodes
            .finish()
            .iter()
            .map(|(m, lp)| {
                let mut v = Vec::new();
                decode_node(*m, lp, &mut v).unwrap();
                v.len()
            })
            .collect();
        assert_eq!(counts, [100, 100, 50]);
        let big = vec![b'x'; 1500];
        let mut nodes = StreamNodes::new();
        for i in 0..5 {
            nodes.push(id(i, 0), [&b"f"[..], &big].into_iter());
        }
        assert_eq!(nodes.finish().len(), 3);
    }
}
