//! Keyspace notifications (Redis's notify.c): commands name what they did to
//! a key with `Engine::notify(class, event, db, key)`, which publishes it on
//! `__keyspace@<db>__:<key>` and/or `__keyevent@<db>__:<event>` when the
//! `notify-keyspace-events` classes include it. Off (the default), a call is
//! one test of a bit mask.

use super::Engine;

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: commands that apply to any type (DEL, EXPIRE, RENAME, …).
pub const GENERIC: u32 = 1 << 2;
/// `$`
pub const STRING: u32 = 1 << 3;
/// `l`
pub const LIST: u32 = 1 << 4;
/// `s`
pub const SET: u32 = 1 << 5;
/// `h`
pub const HASH: u32 = 1 << 6;
/// `z`
pub const ZSET: u32 = 1 << 7;
/// `x`: a key deleted because its TTL passed.
pub const EXPIRED: u32 = 1 << 8;
/// `e`: a key deleted to free memory.
pub const EVICTED: u32 = 1 << 9;
/// `t`
pub const STREAM: u32 = 1 << 10;
/// `m`: a read found no key (not part of `A`).
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module events.
pub const MODULE: u32 = 1 << 13;
/// `n`: a key was created (not part of `A`).
pub const NEW: u32 = 1 << 14;
/// `A`
pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The flag letters in the order Redis writes them after `A`'s classes.
const CLASS_LETTERS: [(u32, u8); 11] = [
    (GENERIC, b'g'),
    (STRING, b'$'),
    (LIST, b'l'),
    (SET, b's'),
    (HASH, b'h'),
    (ZSET, b'z'),
    (EXPIRED, b'x'),
    (EVICTED, b'e'),
    (STREAM, b't'),
    (MODULE, b'd'),
    (NEW, b'n'),
];

/// Parses a flag string as `notify-keyspace-events` takes it; None if a
/// character names no class.
pub fn parse_flags(text: &str) -> Option<u32> {
    text.bytes().try_fold(0, |flags, c| {
        let flag = match c {
            b'A' => ALL,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b'm' => KEY_MISS,
            _ => CLASS_LETTERS.iter().find(|(_, letter)| *letter == c)?.0,
        };
        Some(flags | flag)
    })
}

/// The canonical flag string CONFIG GET shows ("AKE", "gxE", …).
pub fn format_flags(flags: u32) -> String {
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
        // `n` is outside `A` but shown only in the per-class branch, as in Redis.
    } else {
        out.extend(CLASS_LETTERS.iter().filter(|(f, _)| flags & f != 0).map(|(_, l)| char::from(*l)));
    }
    for (flag, letter) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & flag != 0 {
            out.push(letter);
        }
    }
    out
}

impl Engine {
    /// Announces `event` on `key` of `db` (Redis's notifyKeyspaceEvent).
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        if self.config.notify_keyspace_events & class != 0 {
            self.publish_key_event(event, db, key);
        }
    }

    #[cold]
    fn publish_key_event(&mut self, event: &str, db: usize, key: &[u8]) {
        let flags = self.config.notify_keyspace_events;
        if flags & KEYSPACE != 0 {
            let channel = [format!("__keyspace@{db}__:").as_bytes(), key].concat();
            self.publish(&channel, event.as_bytes());
        }
        if flags & KEYEVENT != 0 {
            let channel = format!("__keyevent@{db}__:{event}");
            self.publish(channel.as_bytes(), key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::Outbound;
    use crate::resp::Batch;

    /// An engine with a subscriber (client 1, on every key event) and a
    /// writer (client 2).
    fn engine(flags: &str) -> Engine {
        let config = Config { notify_keyspace_events: parse_flags(flags).unwrap(), ..Config::default() };
        let mut e = Engine::new(config);
        e.connect(1, "a".into(), "l".into());
        e.connect(2, "b".into(), "l".into());
        run(&mut e, 1, &["PSUBSCRIBE", "__key*"]);
        e
    }

    fn run(e: &mut Engine, id: u64, cmd: &[&str]) -> String {
        let out = e.execute(id, Batch::from_commands(&[cmd.to_vec()]));
        String::from_utf8_lossy(&out.data).into_owned()
    }

    /// The channels of the messages waiting for client 1, taken.
    fn sent(e: &mut Engine) -> Vec<String> {
        std::mem::take(&mut e.outbox)
            .into_iter()
            .map(|(id, out)| match out {
                Outbound::Data(d) if id == 1 => String::from_utf8_lossy(&d).split("\r\n").nth(6).unwrap().to_string(),
                _ => panic!("unexpected outbound"),
            })
            .collect()
    }

    #[test]
    fn nothing_is_published_when_off() {
        let mut e = engine("");
        run(&mut e, 2, &["SET", "k", "v"]);
        run(&mut e, 2, &["DEL", "k"]);
        assert!(e.outbox.is_empty());
    }

    #[test]
    fn keyspace_then_keyevent_for_each_event_in_order() {
        let mut e = engine("KEA");
        run(&mut e, 2, &["SET", "k", "v", "EX", "10"]);
        let want = ["__keyspace@0__:k", "__keyevent@0__:set", "__keyspace@0__:k", "__keyevent@0__:expire"];
        assert_eq!(sent(&mut e), want);
        run(&mut e, 2, &["SELECT", "3"]);
        run(&mut e, 2, &["LPUSH", "l", "x"]);
        assert_eq!(sent(&mut e), ["__keyspace@3__:l", "__keyevent@3__:lpush"]);
    }

    #[test]
    fn only_the_selected_classes_and_channels() {
        let mut e = engine("nE");
        run(&mut e, 2, &["SET", "k", "v"]);
        run(&mut e, 2, &["SET", "k", "w"]);
        run(&mut e, 2, &["HSET", "h", "f", "v"]);
        assert_eq!(sent(&mut e), ["__keyevent@0__:new", "__keyevent@0__:new"]);
    }

    #[test]
    fn a_resp3_subscriber_gets_its_own_event_before_the_reply() {
        let mut e = engine("E$");
        run(&mut e, 2, &["HELLO", "3"]);
        run(&mut e, 2, &["SUBSCRIBE", "__keyevent@0__:set"]);
        let reply = run(&mut e, 2, &["SET", "k", "v"]);
        assert_eq!(reply, ">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n+OK\r\n");
        assert_eq!(sent(&mut e), ["__keyevent@0__:set"]);
    }

    #[test]
    fn flag_strings_read_and_print_as_redis() {
        for (input, shown) in [
            ("", ""),
            ("KEA", "AKE"),
            ("AKE", "AKE"),
            ("Exg", "gxE"),
            ("$lshzxetdg", "A"),
            ("n", "n"),
            ("Kn", "nK"),
            ("AnK", "AK"),
            ("mE", "Em"),
            ("KEA$", "AKE"),
            ("zz", "z"),
        ] {
            assert_eq!(format_flags(parse_flags(input).unwrap()), shown, "{input}");
        }
        assert_eq!(parse_flags("KEa"), None);
        assert_eq!(parse_flags("K E"), None);
    }
}
