//! MONITOR: each command a client runs, as one status line to every
//! monitoring client — `+<unix time.µs> [<db> <addr>] "arg" "arg"…` — as
//! Redis's replicationFeedMonitors writes it. Administrative commands are
//! not shown, nor what the AOF loader replays; passwords are redacted.

use super::table::{CommandSpec, ADMIN, SKIP_MONITOR};
use super::{Client, ClientId, Engine, Outbound};
use bytes::Bytes;
use std::io::Write;

#[derive(Default)]
pub struct Monitors {
    clients: Vec<ClientId>,
}

impl Monitors {
    pub fn add(&mut self, id: ClientId) {
        self.clients.push(id);
    }

    pub fn remove(&mut self, id: ClientId) {
        self.clients.retain(|&c| c != id);
    }
}

impl Engine {
    /// Shows a command that just ran to the monitoring clients.
    pub(crate) fn feed_monitors(&mut self, spec: &CommandSpec, client: &Client, args: &[&[u8]]) {
        if !spec.has(ADMIN | SKIP_MONITOR) {
            self.show_to_monitors(client, args);
        }
    }

    /// Shows a command to the monitoring clients, whatever it is.
    pub(crate) fn show_to_monitors(&mut self, client: &Client, args: &[&[u8]]) {
        if self.monitors.clients.is_empty() || client.loader {
            return;
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let line = monitor_line(now, client.db, &client.addr, args);
        for &id in &self.monitors.clients {
            self.outbox.push((id, Outbound::Data(line.clone())));
        }
    }
}

fn monitor_line(now: std::time::Duration, db: usize, addr: &str, args: &[&[u8]]) -> Bytes {
    let mut line = Vec::with_capacity(64 + args.iter().map(|a| a.len() + 3).sum::<usize>());
    let _ = write!(line, "+{}.{:06} [{db} {addr}]", now.as_secs(), now.subsec_micros());
    let redacted = redacted_from(args);
    for (i, arg) in args.iter().enumerate() {
        line.push(b' ');
        quote(&mut line, if redacted.contains(&i) { b"(redacted)" } else { arg });
    }
    line.extend_from_slice(b"\r\n");
    line.into()
}

/// Positions holding secrets: AUTH's arguments, HELLO's AUTH user and
/// password, MIGRATE's AUTH and AUTH2 ones.
fn redacted_from(args: &[&[u8]]) -> Vec<usize> {
    let name = args[0];
    if name.eq_ignore_ascii_case(b"auth") {
        return (1..args.len()).collect();
    }
    if name.eq_ignore_ascii_case(b"migrate") {
        return crate::commands::migrate::secret_positions(args);
    }
    if name.eq_ignore_ascii_case(b"hello") {
        if let Some(at) = args.iter().position(|a| a.eq_ignore_ascii_case(b"auth")) {
            return vec![at + 1, at + 2];
        }
    }
    Vec::new()
}

/// Redis's sdscatrepr: a double-quoted string with C escapes.
fn quote(out: &mut Vec<u8>, arg: &[u8]) {
    out.push(b'"');
    for &b in arg {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b),
            b => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_line_quotes_every_argument_as_redis_does() {
        let line = monitor_line(
            Duration::new(1339518083, 107_412_000),
            3,
            "127.0.0.1:60866",
            &[b"SET", b"k y", b"a\"\\\n\x01\xff"],
        );
        assert_eq!(
            &line[..],
            &b"+1339518083.107412 [3 127.0.0.1:60866] \"SET\" \"k y\" \"a\\\"\\\\\\n\\x01\\xff\"\r\n"[..]
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let line = monitor_line(Duration::ZERO, 0, "a", &[b"AUTH", b"user", b"pw"]);
        assert_eq!(&line[..], &b"+0.000000 [0 a] \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"[..]);
        let line = monitor_line(Duration::ZERO, 0, "a", &[b"HELLO", b"3", b"auth", b"u", b"p", b"SETNAME", b"n"]);
        assert_eq!(
            &line[..],
            &b"+0.000000 [0 a] \"HELLO\" \"3\" \"auth\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"n\"\r\n"[..]
        );
        let line = monitor_line(Duration::ZERO, 0, "a", &[b"MIGRATE", b"h", b"1", b"k", b"0", b"0", b"AUTH", b"pw"]);
        assert!(line.ends_with(b"\"AUTH\" \"(redacted)\"\r\n"));
    }
}
