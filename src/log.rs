//! Logging through slog: Redis-style text lines by default, or one JSON
//! object per line (`log-format json`) for container log collectors. Records
//! are formatted on slog-async's thread, so the keyspace never waits on stdout.
//! The level filter reads one atomic, so `CONFIG SET loglevel` takes effect
//! at once without a lock on any path that logs.

use slog::{Drain, Level, Logger, OwnedKVList, Record, KV};
use std::io::Write;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// The most verbose slog level let through, as `Level::as_usize`.
static LEVEL: AtomicUsize = AtomicUsize::new(3); // Level::Info

/// Sets the process-wide log level from a Redis loglevel name.
pub fn set_level(name: &str) {
    LEVEL.store(level_from_name(name).as_usize(), Ordering::Relaxed);
}

/// The level now in force.
pub fn current_level() -> Level {
    Level::from_usize(LEVEL.load(Ordering::Relaxed)).unwrap_or(Level::Info)
}

/// Drops records less important than the level in `LEVEL`.
struct RuntimeLevelFilter<D>(D);

impl<D: Drain> Drain for RuntimeLevelFilter<D> {
    type Ok = Option<D::Ok>;
    type Err = D::Err;

    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<Self::Ok, Self::Err> {
        if record.level().as_usize() <= LEVEL.load(Ordering::Relaxed) {
            self.0.log(record, values).map(Some)
        } else {
            Ok(None)
        }
    }

    fn is_enabled(&self, level: Level) -> bool {
        level.as_usize() <= LEVEL.load(Ordering::Relaxed)
    }
}

/// Maps Redis's loglevel names to slog levels.
pub fn level_from_name(name: &str) -> Level {
    match name {
        "debug" => Level::Trace,
        "verbose" => Level::Debug,
        "warning" => Level::Warning,
        "nothing" => Level::Critical,
        _ => Level::Info,
    }
}

struct LineDrain {
    json: bool,
}

/// Collects key-value pairs of a record into a JSON map or text suffix.
struct Collect(Vec<(String, String)>);

impl slog::Serializer for Collect {
    fn emit_arguments(&mut self, key: slog::Key, val: &std::fmt::Arguments) -> slog::Result {
        self.0.push((key.to_string(), val.to_string()));
        Ok(())
    }
}

/// Civil date-time (UTC) from Unix milliseconds, without a date crate.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        day,
        NAMES[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

impl Drain for LineDrain {
    type Ok = ();
    type Err = std::io::Error;

    fn log(&self, record: &Record, values: &OwnedKVList) -> std::io::Result<()> {
        let mut kv = Collect(Vec::new());
        let _ = record.kv().serialize(record, &mut kv);
        let _ = values.serialize(record, &mut kv);
        let now = crate::util::now_ms();
        let line = if self.json {
            let mut obj = serde_json::Map::new();
            obj.insert("ts".into(), serde_json::Value::from(now as f64 / 1000.0));
            obj.insert("time".into(), format_time(now).into());
            obj.insert("level".into(), record.level().as_str().to_ascii_lowercase().into());
            obj.insert("pid".into(), std::process::id().into());
            obj.insert("msg".into(), record.msg().to_string().into());
            for (k, v) in kv.0.into_iter().rev() {
                let value = v.parse::<i64>().map(serde_json::Value::from).unwrap_or_else(|_| v.into());
                obj.insert(k, value);
            }
            serde_json::Value::Object(obj).to_string()
        } else {
            let mark = match record.level() {
                Level::Trace | Level::Debug => '.',
                Level::Info => '*',
                _ => '#',
            };
            let mut line = format!("{}:M {} {} {}", std::process::id(), format_time(now), mark, record.msg());
            for (k, v) in kv.0.into_iter().rev() {
                line.push_str(&format!(" {k}={v}"));
            }
            line
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()
    }
}

/// The async drain's guard: dropping it writes out pending lines. Handed
/// over with an atomic swap (no lock): whoever swaps it out owns and drops it.
static GUARD: AtomicPtr<slog_async::AsyncGuard> = AtomicPtr::new(std::ptr::null_mut());

/// Takes the guard out and drops it, if it is still there.
fn drop_guard(new: *mut slog_async::AsyncGuard) {
    let old = GUARD.swap(new, Ordering::AcqRel);
    if !old.is_null() {
        // SAFETY: the pointer came from Box::into_raw in `build`, and the swap
        // gave it to this caller alone.
        drop(unsafe { Box::from_raw(old) });
    }
}

/// The process's logger. Call `flush` before exiting so no line is lost.
pub fn build(format: &str, level: &str) -> Logger {
    let drain = LineDrain { json: format == "json" }.fuse();
    let (drain, guard) = slog_async::Async::new(drain).chan_size(4096).build_with_guard();
    set_level(level);
    drop_guard(Box::into_raw(Box::new(guard)));
    let drain = RuntimeLevelFilter(drain.fuse()).fuse();
    Logger::root(drain, slog::o!())
}

/// Writes out every line logged so far and stops the logging thread; later
/// lines are dropped. For the moment before `exit`.
pub fn flush() {
    drop_guard(std::ptr::null_mut());
}

#[cfg(test)]
mod tests {
    #[test]
    fn level_changes_at_runtime() {
        use slog::Level;
        super::set_level("warning");
        assert_eq!(super::current_level(), Level::Warning);
        super::set_level("debug");
        assert_eq!(super::current_level(), Level::Trace);
        super::set_level("notice");
        assert_eq!(super::current_level(), Level::Info);
    }

    #[test]
    fn formats_utc_time() {
        assert_eq!(super::format_time(0), "01 Jan 1970 00:00:00.000");
        assert_eq!(super::format_time(1_795_000_000_123), "18 Nov 2026 11:06:40.123");
    }
}
