//! INFO commandstats and errorstats, as Redis keeps them: per command the
//! calls, the time they took, the calls refused before running (arity,
//! auth, MISCONF…) and those that ran but answered an error; and every
//! error reply counted by its code (`ERR`, `WRONGTYPE`…).

use super::latency_histogram::LatencyHistogram;
use super::table::{CommandSpec, CONTAINER};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Redis stops tracking new error codes past this many (a client could
/// otherwise grow the table without bound with made-up codes).
const MAX_ERROR_CODES: usize = 128;

/// Subcommands Redis counts on their own (`cmdstat_client|id`); their
/// parents carry the table's CONTAINER flag.
pub const SUBCOMMANDS: &[&str] = &[
    "acl|cat",
    "acl|deluser",
    "acl|dryrun",
    "acl|genpass",
    "acl|getuser",
    "acl|help",
    "acl|list",
    "acl|load",
    "acl|log",
    "acl|save",
    "acl|setuser",
    "acl|users",
    "acl|whoami",
    "client|caching",
    "client|getname",
    "client|getredir",
    "client|help",
    "client|id",
    "client|info",
    "client|kill",
    "client|list",
    "client|no-evict",
    "client|pause",
    "client|reply",
    "client|setname",
    "client|tracking",
    "client|trackinginfo",
    "client|unblock",
    "client|unpause",
    "command|count",
    "command|docs",
    "command|getkeys",
    "command|getkeysandflags",
    "command|help",
    "command|info",
    "command|list",
    "config|get",
    "config|help",
    "config|resetstat",
    "config|rewrite",
    "config|set",
    "function|delete",
    "function|dump",
    "function|flush",
    "function|help",
    "function|kill",
    "function|list",
    "function|load",
    "function|restore",
    "function|stats",
    "latency|doctor",
    "latency|graph",
    "latency|help",
    "latency|histogram",
    "latency|history",
    "latency|latest",
    "latency|reset",
    "memory|doctor",
    "memory|help",
    "memory|malloc-stats",
    "memory|purge",
    "memory|stats",
    "memory|usage",
    "object|encoding",
    "object|freq",
    "object|help",
    "object|idletime",
    "object|refcount",
    "pubsub|channels",
    "pubsub|help",
    "pubsub|numpat",
    "pubsub|numsub",
    "pubsub|shardchannels",
    "pubsub|shardnumsub",
    "script|debug",
    "script|exists",
    "script|flush",
    "script|help",
    "script|kill",
    "script|load",
    "slowlog|get",
    "slowlog|help",
    "slowlog|len",
    "slowlog|reset",
    "xgroup|create",
    "xgroup|createconsumer",
    "xgroup|delconsumer",
    "xgroup|destroy",
    "xgroup|help",
    "xgroup|setid",
    "xinfo|consumers",
    "xinfo|groups",
    "xinfo|help",
    "xinfo|stream",
];

/// `parent|child` for a container called with a subcommand Redis knows
/// (its fullname), else None.
pub fn subcommand_name(spec: &CommandSpec, args: &[&[u8]]) -> Option<&'static str> {
    let sub = args.get(1).filter(|_| spec.has(CONTAINER))?;
    SUBCOMMANDS.iter().copied().find(|full| {
        full.split_once('|')
            .is_some_and(|(parent, child)| parent == spec.name && child.as_bytes().eq_ignore_ascii_case(sub))
    })
}

#[derive(Default)]
struct Counters {
    calls: u64,
    nanos: u64,
    rejected: u64,
    failed: u64,
    /// Made on the first call timed with `latency-tracking` on (24 kB).
    latency: Option<Box<LatencyHistogram>>,
}

/// One call's outcome, as `called` records it.
pub struct Timed {
    pub nanos: u64,
    pub failed: bool,
    pub track_latency: bool,
}

#[derive(Default)]
pub struct CommandStats {
    /// By the command's position in the command table.
    by_command: Vec<Counters>,
    /// Subcommands of containers, by `parent|child` name.
    by_subcommand: BTreeMap<&'static str, Counters>,
    by_error_code: BTreeMap<String, u64>,
    pub total_error_replies: u64,
}

impl CommandStats {
    /// The command ran for `nanos`; `failed` if it answered an error;
    /// `track_latency` adds it to its latency histogram. An unknown
    /// subcommand is not counted (Redis refuses it before any command is
    /// chosen).
    pub fn called(&mut self, id: usize, spec: &CommandSpec, args: &[&[u8]], call: Timed) {
        let Some(c) = self.counters(id, spec, args) else { return };
        c.calls += 1;
        c.nanos += call.nanos;
        c.failed += u64::from(call.failed);
        if call.track_latency {
            c.latency.get_or_insert_with(Default::default).record(call.nanos);
        }
    }

    /// The command was refused before it ran.
    pub fn rejected(&mut self, id: usize, spec: &CommandSpec, args: &[&[u8]]) {
        if let Some(c) = self.counters(id, spec, args) {
            c.rejected += 1;
        }
    }

    /// The counters a call goes to: its subcommand's for a container
    /// called with one (None if Redis does not know it), else its own.
    fn counters(&mut self, id: usize, spec: &CommandSpec, args: &[&[u8]]) -> Option<&mut Counters> {
        if args.len() > 1 && spec.has(CONTAINER) {
            let full = subcommand_name(spec, args)?;
            return Some(self.by_subcommand.entry(full).or_default());
        }
        if id >= self.by_command.len() {
            self.by_command.resize_with(id + 1, Counters::default);
        }
        Some(&mut self.by_command[id])
    }

    /// An error reply went out; `message` is its text without the `-`.
    pub fn error_replied(&mut self, message: &str) {
        self.total_error_replies += 1;
        let code = error_code(message);
        if let Some(n) = self.by_error_code.get_mut(code) {
            *n += 1;
        } else if self.by_error_code.len() < MAX_ERROR_CODES {
            self.by_error_code.insert(code.to_string(), 1);
        }
    }

    /// `cmdstat_<name>:calls=…,usec=…,usec_per_call=…,rejected_calls=…,failed_calls=…`
    /// for the commands used, by name; `name_of` names a command id.
    pub fn write_commandstats<'a>(&'a self, name_of: impl Fn(usize) -> &'a str, s: &mut String) {
        for (name, c) in self.by_name(name_of) {
            if c.calls + c.rejected + c.failed == 0 {
                continue;
            }
            let usec = c.nanos / 1000;
            let per_call = if c.calls == 0 { 0.0 } else { usec as f64 / c.calls as f64 };
            let _ = write!(
                s,
                "cmdstat_{name}:calls={},usec={usec},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                c.calls, c.rejected, c.failed
            );
        }
    }

    /// Every command and subcommand with its counters, by name.
    fn by_name<'a>(&'a self, name_of: impl Fn(usize) -> &'a str) -> Vec<(&'a str, &'a Counters)> {
        let mut all: Vec<(&str, &Counters)> = self.by_subcommand.iter().map(|(n, c)| (*n, c)).collect();
        all.extend(self.by_command.iter().enumerate().map(|(id, c)| (name_of(id), c)));
        all.sort_by_key(|(name, _)| *name);
        all
    }

    /// The latency histograms by (sub)command name, as LATENCY HISTOGRAM
    /// and INFO latencystats list them.
    pub fn latency_histograms<'a>(
        &'a self,
        name_of: impl Fn(usize) -> &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a LatencyHistogram)> {
        self.by_name(name_of).into_iter().filter_map(|(name, c)| Some((name, c.latency.as_deref()?)))
    }

    /// `errorstat_<code>:count=…`, by code.
    pub fn write_errorstats(&self, s: &mut String) {
        for (code, n) in &self.by_error_code {
            let _ = write!(s, "errorstat_{code}:count={n}\r\n");
        }
    }
}

/// The code of an error message: its first word when a space comes within
/// 32 bytes, else `ERR` (Redis's rule).
fn error_code(message: &str) -> &str {
    let head = &message.as_bytes()[..message.len().min(32)];
    match head.iter().position(|&b| b == b' ') {
        Some(end) if end > 0 => &message[..end],
        _ => "ERR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::table::CommandTable;

    fn spec(table: &CommandTable, name: &str) -> &'static CommandSpec {
        table.get(name.as_bytes()).unwrap()
    }

    fn timed(nanos: u64, failed: bool) -> Timed {
        Timed { nanos, failed, track_latency: true }
    }

    #[test]
    fn counts_calls_rejections_failures_and_subcommands() {
        let table = CommandTable::new(crate::commands::GROUPS);
        let (get, client) = (spec(&table, "get"), spec(&table, "client"));
        let (get_id, client_id) = (table.id(get), table.id(client));
        let mut st = CommandStats::default();
        st.called(get_id, get, &[b"GET", b"k"], timed(3_000, false));
        st.called(get_id, get, &[b"GET", b"k"], timed(5_000, true));
        st.rejected(get_id, get, &[b"GET"]);
        st.called(client_id, client, &[b"CLIENT", b"ID"], timed(1_000, false));
        st.called(client_id, client, &[b"CLIENT", b"NOSUCH"], timed(1_000, true));
        // A container called alone is refused under its own name.
        st.rejected(client_id, client, &[b"CLIENT"]);
        let mut s = String::new();
        st.write_commandstats(|id| table.all()[id].name, &mut s);
        assert_eq!(
            s,
            "cmdstat_client:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n\
             cmdstat_client|id:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n\
             cmdstat_get:calls=2,usec=8,usec_per_call=4.00,rejected_calls=1,failed_calls=1\r\n"
        );
    }

    #[test]
    fn latency_histograms_by_subcommand_only_while_tracking() {
        let table = CommandTable::new(crate::commands::GROUPS);
        let (get, set, client) = (spec(&table, "get"), spec(&table, "set"), spec(&table, "client"));
        let mut st = CommandStats::default();
        st.called(table.id(get), get, &[b"GET", b"k"], timed(3_000, false));
        st.called(table.id(get), get, &[b"GET", b"k"], timed(5_000, true));
        st.called(table.id(client), client, &[b"CLIENT", b"ID"], timed(1_000, false));
        st.called(
            table.id(set),
            set,
            &[b"SET", b"k", b"v"],
            Timed { nanos: 1_000, failed: false, track_latency: false },
        );
        let tracked: Vec<(&str, u64)> =
            st.latency_histograms(|id| table.all()[id].name).map(|(name, h)| (name, h.calls())).collect();
        assert_eq!(tracked, [("client|id", 1), ("get", 2)]);
    }

    #[test]
    fn containers_are_the_parents_of_the_subcommands() {
        let table = CommandTable::new(crate::commands::GROUPS);
        let mut flagged: Vec<&str> = table.all().iter().filter(|c| c.has(CONTAINER)).map(|c| c.name).collect();
        let mut parents: Vec<&str> = SUBCOMMANDS.iter().map(|s| s.split('|').next().unwrap()).collect();
        flagged.sort();
        parents.dedup();
        assert_eq!(flagged, parents);
    }

    #[test]
    fn errors_are_counted_by_code() {
        let mut st = CommandStats::default();
        st.error_replied("ERR wrong number of arguments for 'get' command");
        st.error_replied("WRONGTYPE Operation against a key holding the wrong kind of value");
        st.error_replied("ERR syntax error");
        st.error_replied("NOSPACEINTHISERRORMESSAGEATALLFORSURE");
        let mut s = String::new();
        st.write_errorstats(&mut s);
        assert_eq!(s, "errorstat_ERR:count=3\r\nerrorstat_WRONGTYPE:count=1\r\n");
        assert_eq!(st.total_error_replies, 4);
        for i in 0..200 {
            st.error_replied(&format!("CODE{i} text"));
        }
        assert_eq!(st.by_error_code.len(), MAX_ERROR_CODES);
        assert_eq!(st.total_error_replies, 204);
    }
}
