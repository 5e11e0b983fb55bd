//! The slow log: commands that ran at least `slowlog-log-slower-than`
//! microseconds, newest first, at most `slowlog-max-len` of them, each with
//! its arguments trimmed as Redis trims them (32 arguments, 128 bytes each)
//! and passwords redacted.

use std::collections::VecDeque;

/// Arguments kept per entry; the last one says how many were left out.
const MAX_ARGS: usize = 32;
/// Bytes kept per argument.
const MAX_ARG_BYTES: usize = 128;

pub struct Entry {
    pub id: u64,
    /// Unix time in seconds when the command finished.
    pub time: i64,
    pub micros: u64,
    pub args: Vec<Vec<u8>>,
    /// `ip:port` of the client.
    pub peer: String,
    pub client_name: Vec<u8>,
}

#[derive(Default)]
pub struct SlowLog {
    /// Newest first.
    entries: VecDeque<Entry>,
    next_id: u64,
}

impl SlowLog {
    /// Adds an entry for `args` and drops the oldest beyond `max_len`.
    pub fn push(&mut self, args: &[&[u8]], micros: u64, time: i64, peer: &str, client_name: &[u8], max_len: usize) {
        let entry = Entry {
            id: self.next_id,
            time,
            micros,
            args: logged_args(args),
            peer: peer.to_string(),
            client_name: client_name.to_vec(),
        };
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }

    /// The newest `count` entries.
    pub fn latest(&self, count: usize) -> impl Iterator<Item = &Entry> {
        self.entries.iter().take(count)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Empties the log; ids go on from where they were, as in Redis.
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

/// The arguments as the log keeps them: trimmed, and with what would show
/// a password replaced by `(redacted)`.
fn logged_args(args: &[&[u8]]) -> Vec<Vec<u8>> {
    let secret = secret_positions(args);
    let kept = args.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (i, arg) in args.iter().take(kept).enumerate() {
        if kept < args.len() && i == kept - 1 {
            out.push(format!("... ({} more arguments)", args.len() - kept + 1).into_bytes());
        } else if secret.contains(&i) {
            out.push(b"(redacted)".to_vec());
        } else if arg.len() > MAX_ARG_BYTES {
            let mut trimmed = arg[..MAX_ARG_BYTES].to_vec();
            trimmed.extend_from_slice(format!("... ({} more bytes)", arg.len() - MAX_ARG_BYTES).as_bytes());
            out.push(trimmed);
        } else {
            out.push(arg.to_vec());
        }
    }
    out
}

/// Positions of passwords: AUTH's arguments, HELLO's AUTH user and
/// password, CONFIG SET requirepass's value, ACL SETUSER's rules.
fn secret_positions(args: &[&[u8]]) -> Vec<usize> {
    let is = |i: usize, word: &str| args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()));
    if is(0, "auth") {
        return (1..args.len()).collect();
    }
    if is(0, "hello") {
        return (2..args.len()).filter(|&i| is(i, "auth")).flat_map(|i| [i + 1, i + 2]).collect();
    }
    if is(0, "acl") && is(1, "setuser") {
        return (2..args.len()).collect();
    }
    if is(0, "migrate") {
        return crate::commands::migrate::secret_positions(args);
    }
    if is(0, "config") && is(1, "set") {
        return (2..args.len()).step_by(2).filter(|&i| is(i, "requirepass")).map(|i| i + 1).collect();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_of(log: &SlowLog) -> Vec<Vec<String>> {
        log.latest(usize::MAX)
            .map(|e| e.args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect())
            .collect()
    }

    #[test]
    fn keeps_the_newest_entries_up_to_the_limit() {
        let mut log = SlowLog::default();
        for i in 0..5 {
            log.push(&[b"SET", format!("k{i}").as_bytes(), b"v"], 10, 0, "127.0.0.1:1", b"", 3);
        }
        assert_eq!(log.len(), 3);
        let ids: Vec<u64> = log.latest(10).map(|e| e.id).collect();
        assert_eq!(ids, [4, 3, 2]);
        log.reset();
        assert!(log.is_empty());
        log.push(&[b"GET", b"k"], 10, 0, "127.0.0.1:1", b"", 3);
        assert_eq!(log.latest(1).next().unwrap().id, 5);
    }

    #[test]
    fn trims_long_commands_and_arguments_as_redis_does() {
        let mut log = SlowLog::default();
        let many: Vec<Vec<u8>> = (0..40).map(|i| i.to_string().into_bytes()).collect();
        let many: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
        log.push(&many, 1, 0, "", b"", 10);
        let long = vec![b'x'; 200];
        log.push(&[b"SET", b"k", &long], 1, 0, "", b"", 10);
        let logged = args_of(&log);
        assert_eq!(logged[0][2], format!("{}... (72 more bytes)", "x".repeat(128)));
        assert_eq!(logged[1].len(), 32);
        assert_eq!(logged[1][30], "30");
        assert_eq!(logged[1][31], "... (9 more arguments)");
    }

    #[test]
    fn passwords_are_redacted() {
        let mut log = SlowLog::default();
        log.push(&[b"AUTH", b"user", b"secret"], 1, 0, "", b"", 10);
        log.push(&[b"HELLO", b"3", b"AUTH", b"default", b"secret", b"SETNAME", b"me"], 1, 0, "", b"", 10);
        log.push(&[b"CONFIG", b"SET", b"requirepass", b"secret", b"hz", b"10"], 1, 0, "", b"", 10);
        log.push(&[b"ACL", b"SETUSER", b"alice", b">secret"], 1, 0, "", b"", 10);
        let migrate: [&[u8]; 13] =
            [b"MIGRATE", b"h", b"1", b"", b"0", b"0", b"COPY", b"AUTH", b"pw", b"AUTH2", b"u", b"pw2", b"KEYS"];
        log.push(&migrate, 1, 0, "", b"", 10);
        let logged = args_of(&log);
        assert_eq!(logged[0][6..], ["COPY", "AUTH", "(redacted)", "AUTH2", "(redacted)", "(redacted)", "KEYS"]);
        let logged = &logged[1..];
        assert_eq!(logged[0], ["ACL", "SETUSER", "(redacted)", "(redacted)"]);
        let logged = &logged[1..];
        assert_eq!(logged[0], ["CONFIG", "SET", "requirepass", "(redacted)", "hz", "10"]);
        assert_eq!(logged[1], ["HELLO", "3", "AUTH", "(redacted)", "(redacted)", "SETNAME", "me"]);
        assert_eq!(logged[2], ["AUTH", "(redacted)", "(redacted)"]);
    }
}
