//! The latency monitor (`latency-monitor-threshold`, LATENCY): for each
//! event class — a slow command, a fork, an fsync under `appendfsync
//! always` — the worst latency of each second it went over the threshold,
//! the last 160 such seconds, and the worst ever, as Redis keeps them.

use crate::sparkline;
use std::fmt::Write;

/// Seconds of samples kept per event (Redis's LATENCY_TS_LEN).
const SAMPLES: usize = 160;
/// Columns of LATENCY GRAPH.
const GRAPH_COLUMNS: usize = 80;

#[derive(Clone, Copy, Default)]
struct Sample {
    /// Unix time in seconds; 0 is an empty slot.
    time: i64,
    millis: u64,
}

struct Series {
    samples: [Sample; SAMPLES],
    /// The slot the next new second goes to.
    next: usize,
    all_time_max: u64,
}

impl Series {
    fn new() -> Series {
        Series { samples: [Sample::default(); SAMPLES], next: 0, all_time_max: 0 }
    }

    fn add(&mut self, millis: u64, now: i64) {
        self.all_time_max = self.all_time_max.max(millis);
        let last = &mut self.samples[(self.next + SAMPLES - 1) % SAMPLES];
        if last.time == now {
            last.millis = last.millis.max(millis);
            return;
        }
        self.samples[self.next] = Sample { time: now, millis };
        self.next = (self.next + 1) % SAMPLES;
    }

    fn last(&self) -> Sample {
        self.samples[(self.next + SAMPLES - 1) % SAMPLES]
    }

    /// Filled slots, oldest first.
    fn history(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..SAMPLES).map(move |j| self.samples[(self.next + j) % SAMPLES]).filter(|s| s.time != 0)
    }
}

#[derive(Default)]
pub struct LatencyMonitor {
    /// In the order the events were first seen.
    events: Vec<(&'static str, Box<Series>)>,
}

impl LatencyMonitor {
    /// Records `millis` for `event` when the monitor is on (`threshold` > 0)
    /// and the latency reaches it.
    pub fn add_if_needed(&mut self, event: &'static str, millis: u64, threshold: u64, now: i64) {
        if threshold == 0 || millis < threshold {
            return;
        }
        let series = match self.events.iter().position(|(name, _)| *name == event) {
            Some(i) => &mut self.events[i].1,
            None => {
                self.events.push((event, Box::new(Series::new())));
                &mut self.events.last_mut().expect("just pushed").1
            }
        };
        series.add(millis, now);
    }

    /// LATENCY LATEST: per event its name, the last sample's time and
    /// latency, and the worst ever.
    pub fn latest(&self) -> impl ExactSizeIterator<Item = (&'static str, i64, u64, u64)> + '_ {
        self.events.iter().map(|(name, s)| {
            let last = s.last();
            (*name, last.time, last.millis, s.all_time_max)
        })
    }

    /// LATENCY HISTORY: (time, latency) pairs, oldest first.
    pub fn history(&self, event: &[u8]) -> Vec<(i64, u64)> {
        self.find(event).map(|(_, s)| s.history().map(|x| (x.time, x.millis)).collect()).unwrap_or_default()
    }

    /// LATENCY RESET: forgets one event (`Some`, any case) or all; returns
    /// how many were forgotten.
    pub fn reset(&mut self, event: Option<&[u8]>) -> usize {
        let before = self.events.len();
        self.events.retain(|(name, _)| event.is_some_and(|e| !e.eq_ignore_ascii_case(name.as_bytes())));
        before - self.events.len()
    }

    /// The event's name and series (names match exactly, as in Redis).
    fn find(&self, event: &[u8]) -> Option<(&'static str, &Series)> {
        self.events.iter().find(|(name, _)| name.as_bytes() == event).map(|(name, s)| (*name, &**s))
    }

    /// LATENCY GRAPH: a sparkline of the event's samples, each labelled
    /// with how long ago it was; None when the event has none.
    pub fn graph(&self, event: &[u8], now: i64) -> Option<String> {
        let (name, series) = self.find(event)?;
        let samples: Vec<(f64, String)> =
            series.history().map(|s| (s.millis as f64, ago_label(now - s.time))).collect();
        let values = samples.iter().map(|(v, _)| *v as u64);
        let (low, high) = (values.clone().min().unwrap_or(0), values.max().unwrap_or(0));
        let mut out = format!("{name} - high {high} ms, low {low} ms (all time high {} ms)\n", series.all_time_max);
        out.push_str(&"-".repeat(GRAPH_COLUMNS));
        out.push('\n');
        sparkline::render(&mut out, &samples, GRAPH_COLUMNS, 4);
        Some(out)
    }

    /// LATENCY DOCTOR's report: each event's spikes summarized, then
    /// Redis's advice for the events forkv records.
    pub fn doctor(&self, ctx: &DoctorContext, now: i64) -> String {
        let mut advice = Advice::default();
        if ctx.anon_huge_pages {
            advice.add(Advice::DISABLE_THP);
        }
        if self.events.is_empty() && advice.count == 0 {
            return if ctx.threshold == 0 {
                "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into()
            } else {
                "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".into()
            };
        }
        let mut out = String::new();
        if !self.events.is_empty() {
            out.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        for (n, (name, series)) in self.events.iter().enumerate() {
            let s = Spikes::of(series, now);
            let _ = write!(
                out,
                "{}. {name}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
                n + 1,
                s.count,
                s.average,
                s.mean_deviation,
                s.period as f64 / s.count.max(1) as f64,
                series.all_time_max
            );
            match *name {
                "fork" => {
                    let rate = ctx.fork_gb_per_sec;
                    let quality = match rate {
                        r if r < 10.0 => "terrible",
                        r if r < 25.0 => "poor",
                        r if r < 100.0 => "good",
                        _ => "excellent",
                    };
                    if rate < 25.0 {
                        advice.add(Advice::BETTER_VM);
                    }
                    let _ = write!(out, " Fork rate is {rate:.2} GB/sec ({quality}).");
                }
                "command" => {
                    if ctx.slowlog_slower_than_us < 0 || ctx.slowlog_max_len == 0 {
                        advice.add(Advice::SLOWLOG_ENABLE);
                    } else if ctx.slowlog_slower_than_us as u64 / 1000 > ctx.threshold {
                        advice.add(Advice::SLOWLOG_TUNE);
                    }
                    advice.add(Advice::SLOWLOG_INSPECT);
                    advice.add(Advice::LARGE_OBJECTS);
                }
                "fast-command" => advice.add(Advice::SCHEDULER),
                "aof-fsync-always" => advice.add(Advice::RELAX_FSYNC),
                _ => {}
            }
            out.push('\n');
        }
        if advice.count == 0 {
            out.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
            return out;
        }
        out.push_str("\nI have a few advices for you:\n\n");
        let threshold_us = ctx.threshold * 1000;
        for (flag, text) in ADVICE_TEXTS {
            if advice.flags & flag == 0 || (*flag == Advice::RELAX_FSYNC && !ctx.appendfsync_always) {
                continue;
            }
            out.push_str(&text.replace("{threshold_us}", &threshold_us.to_string()));
        }
        out
    }
}

/// What LATENCY DOCTOR's advice depends on besides the samples.
pub struct DoctorContext {
    /// `latency-monitor-threshold`, milliseconds.
    pub threshold: u64,
    pub slowlog_slower_than_us: i64,
    pub slowlog_max_len: u64,
    pub fork_gb_per_sec: f64,
    pub appendfsync_always: bool,
    /// The process has transparent huge pages (AnonHugePages > 0).
    pub anon_huge_pages: bool,
}

/// The advice LATENCY DOCTOR gives, as flags, and how many were raised
/// (Redis counts an advice it then leaves out, e.g. relaxing `always`
/// when the policy is not `always`, so the header still shows).
#[derive(Default)]
struct Advice {
    flags: u32,
    count: u32,
}

impl Advice {
    const BETTER_VM: u32 = 1;
    const SLOWLOG_ENABLE: u32 = 1 << 1;
    const SLOWLOG_TUNE: u32 = 1 << 2;
    const SLOWLOG_INSPECT: u32 = 1 << 3;
    const SCHEDULER: u32 = 1 << 4;
    const RELAX_FSYNC: u32 = 1 << 5;
    const LARGE_OBJECTS: u32 = 1 << 6;
    const DISABLE_THP: u32 = 1 << 7;

    fn add(&mut self, flag: u32) {
        self.flags |= flag;
        self.count += 1;
    }
}

/// Redis's advice texts, in the order it prints them.
const ADVICE_TEXTS: &[(u32, &str)] = &[
    (Advice::BETTER_VM, "- If you are using a virtual machine, consider upgrading it with a faster one using a hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() performance. Even in the context of the same VM provider, certain kinds of instances can execute fork faster than others.\n"),
    (Advice::SLOWLOG_ENABLE, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold_us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"),
    (Advice::SLOWLOG_TUNE, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold_us}'.\n"),
    (Advice::SLOWLOG_INSPECT, "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"),
    (Advice::SCHEDULER, "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n"),
    (Advice::RELAX_FSYNC, "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n"),
    (Advice::LARGE_OBJECTS, "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n"),
    (Advice::DISABLE_THP, "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n"),
];

/// One event's samples summarized as Redis's analyzeLatencyForEvent does
/// (integer milliseconds).
struct Spikes {
    count: u64,
    average: u64,
    mean_deviation: u64,
    /// Seconds from the oldest sample to now, at least 1.
    period: i64,
}

impl Spikes {
    fn of(series: &Series, now: i64) -> Spikes {
        let samples: Vec<Sample> = series.history().collect();
        let count = samples.len() as u64;
        if count == 0 {
            return Spikes { count, average: 0, mean_deviation: 0, period: 0 };
        }
        let average = samples.iter().map(|s| s.millis).sum::<u64>() / count;
        let mean_deviation = samples.iter().map(|s| s.millis.abs_diff(average)).sum::<u64>() / count;
        let oldest = samples.iter().map(|s| s.time).min().unwrap_or(now);
        Spikes { count, average, mean_deviation, period: (now - oldest).max(1) }
    }
}

/// "12s", "5m", "3h", "2d": how long ago, as LATENCY GRAPH labels samples.
fn ago_label(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_worst_of_each_second_and_the_worst_ever() {
        let mut m = LatencyMonitor::default();
        m.add_if_needed("command", 5, 0, 100);
        assert_eq!(m.latest().len(), 0, "threshold 0 turns the monitor off");
        m.add_if_needed("command", 5, 10, 100);
        assert_eq!(m.latest().len(), 0, "under the threshold");
        m.add_if_needed("command", 12, 10, 100);
        m.add_if_needed("command", 30, 10, 100);
        m.add_if_needed("command", 20, 10, 100);
        m.add_if_needed("command", 15, 10, 101);
        assert_eq!(m.history(b"command"), vec![(100, 30), (101, 15)]);
        assert_eq!(m.latest().collect::<Vec<_>>(), vec![("command", 101, 15, 30)]);
    }

    #[test]
    fn keeps_the_last_160_seconds() {
        let mut m = LatencyMonitor::default();
        for t in 1..=200 {
            m.add_if_needed("fork", t as u64, 1, t);
        }
        let h = m.history(b"fork");
        assert_eq!(h.len(), SAMPLES);
        assert_eq!(h.first(), Some(&(41, 41)));
        assert_eq!(h.last(), Some(&(200, 200)));
    }

    #[test]
    fn reset_forgets_one_event_in_any_case_or_all() {
        let mut m = LatencyMonitor::default();
        m.add_if_needed("command", 20, 10, 100);
        m.add_if_needed("fork", 20, 10, 100);
        assert_eq!(m.reset(Some(b"nope")), 0);
        assert_eq!(m.reset(Some(b"FORK")), 1);
        assert!(m.history(b"fork").is_empty());
        m.add_if_needed("fork", 20, 10, 100);
        assert_eq!(m.reset(None), 2);
        assert_eq!(m.latest().len(), 0);
    }

    #[test]
    fn doctor_summarizes_each_event() {
        let mut m = LatencyMonitor::default();
        let mut ctx = DoctorContext {
            threshold: 0,
            slowlog_slower_than_us: 10_000,
            slowlog_max_len: 128,
            fork_gb_per_sec: 0.0,
            appendfsync_always: false,
            anon_huge_pages: false,
        };
        assert!(m.doctor(&ctx, 0).starts_with("I'm sorry, Dave"));
        ctx.threshold = 5;
        assert!(m.doctor(&ctx, 0).starts_with("Dave, no latency spike"));
        m.add_if_needed("command", 10, 5, 100);
        m.add_if_needed("command", 30, 5, 110);
        m.add_if_needed("aof-fsync-always", 30, 5, 110);
        let report = m.doctor(&ctx, 120);
        assert!(
            report.contains(
                "1. command: 2 latency spikes (average 20ms, mean deviation 10ms, period 10.00 sec). Worst all time event 30ms.\n"
            ),
            "{report}"
        );
        assert!(
            report.contains("'CONFIG SET slowlog-log-slower-than 5000'"),
            "slow log above the threshold:\n{report}"
        );
        assert!(report.contains("I have a few advices for you"));
        assert!(!report.contains("fsync policy"), "advice on `always` only under always:\n{report}");
        ctx.appendfsync_always = true;
        assert!(m.doctor(&ctx, 120).contains("fsync policy is set to 'always'"));
    }

    #[test]
    fn graph_has_a_title_a_rule_and_labels() {
        let mut m = LatencyMonitor::default();
        assert!(m.graph(b"command", 0).is_none());
        m.add_if_needed("command", 10, 10, 100);
        m.add_if_needed("command", 40, 10, 105);
        let g = m.graph(b"command", 110).expect("samples");
        let lines: Vec<&str> = g.lines().collect();
        assert_eq!(lines[0], "command - high 40 ms, low 10 ms (all time high 40 ms)");
        assert_eq!(lines[1], "-".repeat(GRAPH_COLUMNS));
        // Labels "10s" and "5s", one character per line, under a blank line.
        assert_eq!(lines[6..], ["  ", "15", "0s", "s "], "{g}");
    }
}
