//! ACL LOG: the latest refusals (commands, keys, channels, failed AUTH),
//! newest first, a repeat within a minute counted on its earlier entry.

use std::collections::VecDeque;

/// Entries this close in time (ms) with the same details are one entry.
const GROUPING_WINDOW_MS: i64 = 60_000;
/// A new entry is compared with this many of the latest only.
const GROUPING_SCAN: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    TopLevel,
    Multi,
    Lua,
}

impl Context {
    fn name(self) -> &'static str {
        match self {
            Context::TopLevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

pub struct Entry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    /// The command, key, channel or (for AUTH) the command's name.
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    pub millis: i64,
    /// The client, as CLIENT LIST shows it.
    pub client_info: String,
}

impl Entry {
    fn same_event(&self, other: &Entry) -> bool {
        self.reason == other.reason
            && self.context == other.context
            && (self.millis - other.millis).abs() <= GROUPING_WINDOW_MS
            && self.object == other.object
            && self.username == other.username
    }

    /// The entry's fields as ACL LOG shows them, the age from `now_ms`.
    pub fn fields(&self, now_ms: i64) -> [(&'static str, Field<'_>); 7] {
        [
            ("count", Field::Int(self.count as i64)),
            ("reason", Field::Text(self.reason.name().as_bytes())),
            ("context", Field::Text(self.context.name().as_bytes())),
            ("object", Field::Text(&self.object)),
            ("username", Field::Text(&self.username)),
            ("age-seconds", Field::Double((now_ms - self.millis) as f64 / 1000.0)),
            ("client-info", Field::Text(self.client_info.as_bytes())),
        ]
    }
}

pub enum Field<'a> {
    Int(i64),
    Text(&'a [u8]),
    Double(f64),
}

#[derive(Default)]
pub struct AclLog {
    entries: VecDeque<Entry>,
}

impl AclLog {
    /// Records `entry`, or counts it on a recent one of the same event
    /// (which moves to the front); keeps at most `max_len` entries.
    pub fn add(&mut self, entry: Entry, max_len: usize) {
        let scanned = self.entries.len().min(GROUPING_SCAN);
        if let Some(i) = (0..scanned).find(|&i| self.entries[i].same_event(&entry)) {
            let mut found = self.entries.remove(i).expect("index in range");
            found.count += 1;
            found.millis = entry.millis;
            found.client_info = entry.client_info;
            self.entries.push_front(found);
            return;
        }
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }

    pub fn latest(&self, count: usize) -> impl ExactSizeIterator<Item = &Entry> {
        self.entries.iter().take(count)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(object: &str, millis: i64) -> Entry {
        Entry {
            count: 1,
            reason: Reason::Command,
            context: Context::TopLevel,
            object: object.into(),
            username: b"u".to_vec(),
            millis,
            client_info: format!("at {millis}"),
        }
    }

    #[test]
    fn repeats_within_a_minute_are_counted_once() {
        let mut log = AclLog::default();
        log.add(entry("get", 0), 10);
        log.add(entry("set", 1), 10);
        log.add(entry("get", 2), 10);
        let latest: Vec<_> = log.latest(10).map(|e| (e.object.clone(), e.count)).collect();
        assert_eq!(latest, [(b"get".to_vec(), 2), (b"set".to_vec(), 1)]);
        log.add(entry("get", 70_000), 10);
        assert_eq!(log.latest(10).len(), 3);
        log.add(entry("x", 70_001), 2);
        assert_eq!(log.latest(10).len(), 2);
    }
}
