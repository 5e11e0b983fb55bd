//! XINFO STREAM, GROUPS and CONSUMERS. forkv streams hold no consumer
//! groups yet, so GROUPS lists none and CONSUMERS finds no group.

use super::streams::{read_stream, reply_entry, reply_range};
use crate::engine::{Call, Engine};
use crate::types::stream::{StreamId, NODE_ENTRIES};
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
    let s = match read_stream(e, c, c.arg(2)) {
        Err(()) => return,
        Ok(None) => return c.out.error("ERR no such key"),
        Ok(Some(s)) => s,
    };
    match sub.as_slice() {
        b"stream" => stream_info(c, s),
        b"groups" => c.out.array(0),
        _ => {
            let (group, key) = (String::from_utf8_lossy(c.arg(3)), String::from_utf8_lossy(c.arg(2)));
            c.out.error(&format!("NOGROUP No such consumer group '{group}' for key name '{key}'"));
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
            let sub = String::from_utf8_lossy(c.arg(1)).into_owned();
            return c
                .out
                .error(&format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try XINFO HELP."));
        }
        if opts == 3 {
            let Some(n) = c.int_arg(5) else { return };
            count = if n < 0 { 10 } else { n as usize };
        }
    }
    c.out.map(if full { 9 } else { 10 });
    let out = &mut *c.out;
    let field = |out: &mut crate::reply::Reply, name: &str| out.bulk(name.as_bytes());
    let id = |out: &mut crate::reply::Reply, id: StreamId| out.bulk(id.to_string().as_bytes());
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
        out.array(0);
    } else {
        field(out, "groups");
        out.int(0);
        for (name, edge) in [("first-entry", s.iter().next()), ("last-entry", s.iter().next_back())] {
            field(out, name);
            match edge {
                Some((entry_id, items)) => reply_entry(out, entry_id, items),
                None => out.null(),
            }
        }
    }
}
