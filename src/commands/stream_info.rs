//! XINFO STREAM, GROUPS and CONSUMERS.

use super::stream_groups::no_such_group;
use super::streams::{read_stream, reply_entry, reply_range};
use crate::engine::{Call, Engine};
use crate::reply::Reply;
use crate::types::stream::{Group, StreamId, NODE_ENTRIES, UNKNOWN_READS};
use crate::types::Stream;

const HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

pub fn xinfo(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    let arity_ok = match sub.as_slice() {
        b"help" => c.argc() == 2,
        b"stream" => c.argc() >= 3,
        b"groups" => c.argc() == 3,
        b"consumers" => c.argc() == 4,
        _ => false,
    };
    if !arity_ok {
        return c.subcommand_error(&["help", "stream", "groups", "consumers"]);
    }
    if sub == b"help" {
        return c.out.help(HELP);
    }
    let now = e.now;
    let s = match read_stream(e, c, c.arg(2)) {
        Err(()) => return,
        Ok(None) => return c.out.error("ERR no such key"),
        Ok(Some(s)) => s,
    };
    match sub.as_slice() {
        b"stream" => stream_info(c, s),
        b"groups" => {
            c.out.array(s.groups.len());
            for (name, g) in &s.groups {
                named_map(c.out, 6, name);
                field(c.out, "consumers");
                c.out.int(g.consumers.len() as i64);
                field(c.out, "pending");
                c.out.int(g.pel.len() as i64);
                group_progress(c.out, s, g);
            }
        }
        _ => {
            let Some(g) = s.groups.get(c.arg(3)) else { return no_such_group(c, 2, 3) };
            c.out.array(g.consumers.len());
            for (name, consumer) in &g.consumers {
                named_map(c.out, 3, name);
                field(c.out, "pending");
                c.out.int(consumer.pending.len() as i64);
                field(c.out, "idle");
                c.out.int((now - consumer.seen_time).max(0));
            }
        }
    }
}

/// A map of `fields` fields, the first one `name`.
fn named_map(out: &mut Reply, fields: usize, name: &[u8]) {
    out.map(fields);
    field(out, "name");
    out.bulk(name);
}

fn field(out: &mut Reply, name: &str) {
    out.bulk(name.as_bytes());
}

fn id(out: &mut Reply, id: StreamId) {
    out.bulk(id.to_string().as_bytes());
}

/// last-delivered-id, entries-read and lag (null when unknown).
fn group_progress(out: &mut Reply, s: &Stream, g: &Group) {
    field(out, "last-delivered-id");
    id(out, g.last_id);
    field(out, "entries-read");
    match g.entries_read {
        UNKNOWN_READS => out.null(),
        n => out.int(n),
    }
    field(out, "lag");
    match s.lag(g) {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

/// XINFO STREAM FULL's groups, each PEL listing at most `count` (0: all).
fn full_groups(out: &mut Reply, s: &Stream, count: usize) {
    let limit = if count == 0 { usize::MAX } else { count };
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        named_map(out, 7, name);
        group_progress(out, s, g);
        field(out, "pel-count");
        out.int(g.pel.len() as i64);
        field(out, "pending");
        let shown = g.pel.len().min(limit);
        out.array(shown);
        for (pending, nack) in g.pel.iter().take(shown) {
            out.array(4);
            id(out, *pending);
            out.bulk(&nack.consumer);
            out.int(nack.delivery_time);
            out.int(nack.delivery_count as i64);
        }
        field(out, "consumers");
        out.array(g.consumers.len());
        for (consumer_name, consumer) in &g.consumers {
            named_map(out, 4, consumer_name);
            field(out, "seen-time");
            out.int(consumer.seen_time);
            field(out, "pel-count");
            out.int(consumer.pending.len() as i64);
            field(out, "pending");
            let shown = consumer.pending.len().min(limit);
            out.array(shown);
            for pending in consumer.pending.iter().take(shown) {
                let nack = &g.pel[pending];
                out.array(3);
                id(out, *pending);
                out.int(nack.delivery_time);
                out.int(nack.delivery_count as i64);
            }
        }
    }
}

/// XINFO STREAM key [FULL [COUNT count]].
fn stream_info(c: &mut Call, s: &Stream) {
    let opts = c.argc() - 3;
    let full = opts > 0;
    let mut count = 10;
    if full {
        if (opts != 1 && opts != 3) || !c.is(3, "FULL") || (opts == 3 && !c.is(4, "COUNT")) {
            return c.subcommand_syntax_error();
        }
        if opts == 3 {
            let Some(n) = c.int_arg(5) else { return };
            count = if n < 0 { 10 } else { n as usize };
        }
    }
    c.out.map(if full { 9 } else { 10 });
    let out = &mut *c.out;
    field(out, "length");
    out.int(s.len() as i64);
    // forkv keeps no listpack nodes: these are the nodes its RDB output
    // would hold, and a radix tree of them.
    let nodes = s.len().div_ceil(NODE_ENTRIES);
    field(out, "radix-tree-keys");
    out.int(nodes as i64);
    field(out, "radix-tree-nodes");
    out.int(nodes as i64 + 1);
    field(out, "last-generated-id");
    id(out, s.last_id);
    field(out, "max-deleted-entry-id");
    id(out, s.max_deleted_id);
    field(out, "entries-added");
    out.int(s.entries_added as i64);
    field(out, "recorded-first-entry-id");
    id(out, s.first_id);
    if full {
        field(out, "entries");
        reply_range(out, s, StreamId::MIN, StreamId::MAX, count, false);
        field(out, "groups");
        full_groups(out, s, count);
    } else {
        field(out, "groups");
        out.int(s.groups.len() as i64);
        for (name, edge) in [("first-entry", s.iter().next()), ("last-entry", s.iter().next_back())] {
            field(out, name);
            match edge {
                Some((entry_id, items)) => reply_entry(out, entry_id, items),
                None => out.null(),
            }
        }
    }
}
