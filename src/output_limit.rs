//! `client-output-buffer-limit`: for each class of client a hard limit, a
//! soft limit and how long a client may stay over the soft one (Redis's
//! clientBufferLimitsConfig) — the directive's syntax, its CONFIG GET and
//! CONFIG REWRITE forms, and the check a connection runs on its pending
//! output (Redis's checkClientOutputBufferLimits).

use crate::config::parse_memory;

/// The classes that have limits, in Redis's order (CLIENT_TYPE_NORMAL,
/// _SLAVE, _PUBSUB). forkv has no replicas: their limits are only kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Normal,
    Replica,
    PubSub,
}

impl Class {
    const ALL: [Class; 3] = [Class::Normal, Class::Replica, Class::PubSub];

    /// Redis's getClientTypeByName, less `master` (which has no limits).
    pub fn by_name(name: &str) -> Option<Class> {
        match name.to_ascii_lowercase().as_str() {
            "normal" => Some(Class::Normal),
            "slave" | "replica" => Some(Class::Replica),
            "pubsub" => Some(Class::PubSub),
            _ => None,
        }
    }

    /// The name CONFIG GET shows.
    fn name(self) -> &'static str {
        match self {
            Class::Normal => "normal",
            Class::Replica => "slave",
            Class::PubSub => "pubsub",
        }
    }
}

/// One class's limits in bytes and seconds; 0 is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// The limits of every class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits([Limit; 3]);

const MB: u64 = 1024 * 1024;

/// Redis's clientBufferLimitsDefaults.
const DEFAULTS: Limits = Limits([
    Limit { hard: 0, soft: 0, soft_seconds: 0 },
    Limit { hard: 256 * MB, soft: 64 * MB, soft_seconds: 60 },
    Limit { hard: 32 * MB, soft: 8 * MB, soft_seconds: 60 },
]);

impl Default for Limits {
    fn default() -> Self {
        DEFAULTS
    }
}

const ARITY: &str = "Wrong number of arguments in buffer limit configuration.";
const BAD_CLASS: &str = "Invalid client class specified in buffer limit configuration.";
const BAD_VALUE: &str = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";

/// Redis's rewriteConfigFormatMemory: the largest unit that divides.
fn format_memory(bytes: u64) -> String {
    match [(1 << 30, "gb"), (MB, "mb"), (1024, "kb")].iter().find(|(unit, _)| bytes != 0 && bytes.is_multiple_of(*unit))
    {
        Some((unit, suffix)) => format!("{}{suffix}", bytes / unit),
        None => bytes.to_string(),
    }
}

impl Limits {
    pub fn of(&self, class: Class) -> Limit {
        self.0[class as usize]
    }

    /// `<class> <hard> <soft> <soft-seconds>`, repeated: the classes named
    /// change, the others keep theirs. A value (one argument) is split on
    /// single spaces, as CONFIG SET splits it; nothing changes on an error.
    pub fn set(&mut self, args: &[String]) -> Result<(), String> {
        let words: Vec<&str> = match args {
            [value] if value.is_empty() => Vec::new(),
            [value] => value.split(' ').collect(),
            _ => args.iter().map(String::as_str).collect(),
        };
        if !words.len().is_multiple_of(4) {
            return Err(ARITY.into());
        }
        let mut new = *self;
        for w in words.chunks(4) {
            let class = Class::by_name(w[0]).ok_or(BAD_CLASS)?;
            let seconds = match w[3] {
                "" => Ok(0),
                s => s.parse::<i32>().map_err(drop).and_then(|n| u64::try_from(n).map_err(drop)),
            };
            match (parse_memory(w[1]), parse_memory(w[2]), seconds) {
                (Ok(hard), Ok(soft), Ok(soft_seconds)) => new.0[class as usize] = Limit { hard, soft, soft_seconds },
                _ => return Err(BAD_VALUE.into()),
            }
        }
        *self = new;
        Ok(())
    }

    /// CONFIG GET's value: `normal 0 0 0 slave 268435456 67108864 60 …`.
    pub fn config_value(&self) -> String {
        let classes = Class::ALL.iter().map(|&c| {
            let l = self.of(c);
            format!("{} {} {} {}", c.name(), l.hard, l.soft, l.soft_seconds)
        });
        classes.collect::<Vec<_>>().join(" ")
    }

    /// CONFIG REWRITE's lines for a file that had `old_lines` of them:
    /// Redis reuses those lines for the classes in order, and adds lines
    /// only for the classes that differ from the defaults.
    pub fn rewrite_lines(&self, name: &str, old_lines: usize) -> String {
        let lines = Class::ALL.iter().enumerate().filter(|&(i, &c)| i < old_lines || self.of(c) != DEFAULTS.of(c));
        lines
            .map(|(_, &c)| {
                let l = self.of(c);
                let class = if c == Class::Replica { "replica" } else { c.name() };
                format!("{name} {class} {} {} {}\n", format_memory(l.hard), format_memory(l.soft), l.soft_seconds)
            })
            .collect()
    }
}

/// One connection's limit, and since when (ms) its output has been over
/// the soft limit (Redis's obuf_soft_limit_reached_time).
#[derive(Debug, Default)]
pub struct OutputWatch {
    limit: Limit,
    soft_since: Option<i64>,
}

impl OutputWatch {
    pub fn set_limit(&mut self, limit: Limit) {
        self.limit = limit;
    }

    /// Whether a limit applies at all: the test made after each write.
    #[inline]
    pub fn limited(&self) -> bool {
        self.limit.hard != 0 || self.limit.soft != 0
    }

    /// Whether a client with `pending` bytes of output at `now` (ms) must be
    /// closed: at the hard limit, or at the soft limit for longer than its
    /// seconds since a check first saw it there. Below the soft limit the
    /// clock starts over.
    pub fn over_limit(&mut self, pending: u64, now: i64) -> bool {
        let l = self.limit;
        if l.hard != 0 && pending >= l.hard {
            return true;
        }
        if l.soft == 0 || pending < l.soft {
            self.soft_since = None;
            return false;
        }
        let since = *self.soft_since.get_or_insert(now);
        now - since > (l.soft_seconds as i64).saturating_mul(1000)
    }

    /// While the output is over the soft limit: the first time (ms) a check
    /// closes the client if it stays there, output or not (Redis's
    /// clientsCron checks every client).
    pub fn soft_deadline(&self) -> Option<i64> {
        let after = (self.limit.soft_seconds as i64).saturating_mul(1000).saturating_add(1);
        self.soft_since.map(|since| since.saturating_add(after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(limits: &mut Limits, value: &str) -> Result<(), String> {
        limits.set(&[value.to_string()])
    }

    #[test]
    fn reads_and_shows_the_directive_as_redis() {
        let mut l = Limits::default();
        assert_eq!(l.config_value(), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
        set(&mut l, "normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 5mb 6mb 80").unwrap();
        assert_eq!(l.config_value(), "normal 1048576 2097152 60 slave 3145728 4194304 70 pubsub 5242880 6291456 80");
        let words: Vec<String> = ["PUBSUB", "1KB", "2k", "3"].map(String::from).to_vec();
        l.set(&words).unwrap();
        assert_eq!(l.of(Class::PubSub), Limit { hard: 1024, soft: 2000, soft_seconds: 3 });
        assert_eq!(l.of(Class::Normal), Limit { hard: MB, soft: 2 * MB, soft_seconds: 60 }, "other classes kept");
        set(&mut l, "").unwrap();
        set(&mut l, "slave 1 2 ").unwrap();
        assert_eq!(
            l.of(Class::Replica),
            Limit { hard: 1, soft: 2, soft_seconds: 0 },
            "empty seconds are 0, as strtoll"
        );
    }

    #[test]
    fn refuses_what_redis_refuses_and_changes_nothing() {
        let mut l = Limits::default();
        for (value, err) in [
            ("wrong number", ARITY),
            ("normal  1 1 1", ARITY),
            ("invalid_class 10mb 10mb 60", BAD_CLASS),
            ("master 10mb 10mb 60", BAD_CLASS),
            ("normal 10mbs 10mb 60", BAD_VALUE),
            ("replica 10mb 10mbs 60", BAD_VALUE),
            ("pubsub 10mb 10mb 60s", BAD_VALUE),
            ("pubsub 10mb 10mb -1", BAD_VALUE),
            ("normal 1 1 1 pubsub -1 0 0", BAD_VALUE),
        ] {
            assert_eq!(set(&mut l, value), Err(err.to_string()), "{value}");
        }
        assert_eq!(l, Limits::default());
    }

    #[test]
    fn rewrites_lines_as_redis() {
        let mut l = Limits::default();
        let name = "client-output-buffer-limit";
        assert_eq!(l.rewrite_lines(name, 0), "");
        assert_eq!(
            l.rewrite_lines(name, 3),
            "client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit replica 256mb 64mb 60\nclient-output-buffer-limit pubsub 32mb 8mb 60\n"
        );
        set(&mut l, "pubsub 1gb 1000 0").unwrap();
        assert_eq!(
            l.rewrite_lines(name, 1),
            "client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit pubsub 1gb 1000 0\n"
        );
        assert_eq!(format_memory(3 * 1024), "3kb");
    }

    #[test]
    fn hard_limit_closes_at_once_soft_after_its_time() {
        let mut w = OutputWatch::default();
        assert!(!w.limited());
        assert!(!w.over_limit(u64::MAX, 0), "0 0 0: never");
        w.set_limit(Limit { hard: 100, soft: 10, soft_seconds: 2 });
        assert!(w.limited());
        assert!(w.over_limit(100, 0), "the hard limit is reached at its value");
        assert!(!w.over_limit(10, 1000), "first time over the soft limit");
        assert_eq!(w.soft_deadline(), Some(3001));
        assert!(!w.over_limit(50, 3000), "not longer than 2 s yet");
        assert!(w.over_limit(10, 3001));
        assert!(!w.over_limit(9, 3002), "under the soft limit the clock starts over");
        assert_eq!(w.soft_deadline(), None);
        assert!(!w.over_limit(10, 4000));
        assert!(!w.over_limit(10, 6000));
        assert!(w.over_limit(10, 6001));
        w.set_limit(Limit { hard: 0, soft: 10, soft_seconds: 0 });
        assert!(!w.over_limit(9, 0));
        assert!(!w.over_limit(10, 0), "0 seconds: closed by a later check");
        assert!(w.over_limit(10, 1));
    }
}
