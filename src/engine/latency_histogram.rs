//! A command's latency distribution as Redis 7 keeps it (`latency-tracking`):
//! an HdrHistogram over 1 ns – 1 s with 2 significant digits, read out as
//! INFO latencystats percentiles and as LATENCY HISTOGRAM's cumulative
//! buckets, with the rounding of the C library Redis vendors (its
//! `hdr_value_at_percentile` and logarithmic iterator).

use crate::util::format_f64_trimmed;
use hdrhistogram::Histogram;

const LOWEST_NS: u64 = 1;
const HIGHEST_NS: u64 = 1_000_000_000;
const SIGNIFICANT_DIGITS: u8 = 2;
/// LATENCY HISTOGRAM's first reporting level; each next one doubles it.
const FIRST_LEVEL_NS: u64 = 1024;

pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram(Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGNIFICANT_DIGITS).expect("valid bounds"))
    }
}

impl LatencyHistogram {
    /// Durations outside 1 ns – 1 s count at the nearest end, as in Redis.
    pub fn record(&mut self, nanos: u64) {
        self.0.saturating_record(nanos.clamp(LOWEST_NS, HIGHEST_NS));
    }

    pub fn calls(&self) -> u64 {
        self.0.len()
    }

    /// The latency (ns) under which `percentile` percent of the calls fell:
    /// the highest value equivalent to the one where the running count first
    /// reaches the percentile's share, rounded half up (0: the lowest).
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let share = ((percentile.min(100.0) / 100.0 * self.calls() as f64 + 0.5) as u64).max(1);
        let mut seen = 0;
        for v in self.0.iter_recorded() {
            seen += v.count_at_value();
            if seen >= share {
                let value = v.value_iterated_to();
                return if percentile == 0.0 { self.0.lowest_equivalent(value) } else { value };
            }
        }
        0
    }

    /// INFO latencystats' values: `p50=1.003,p99=2.007` for the given
    /// percentiles, in µs.
    pub fn percentiles_usec(&self, percentiles: &[f64]) -> String {
        let each = percentiles
            .iter()
            .map(|&p| format!("p{}={:.3}", format_f64_trimmed(p), self.value_at_percentile(p) as f64 / 1000.0));
        each.collect::<Vec<_>>().join(",")
    }

    /// LATENCY HISTOGRAM's `histogram_usec`: for each power-of-two level
    /// from 1024 ns that adds calls, the level's slot top in µs and the
    /// calls up to it. A slot counts at the first level its lowest value
    /// does not exceed; past the last level under 1 s, everything left
    /// counts at the histogram's last slot (1073741 µs).
    pub fn cumulative_usec(&self) -> Vec<(u64, u64)> {
        let mut buckets = Vec::new();
        let mut recorded = self.0.iter_recorded().peekable();
        let (mut calls, mut level) = (0, FIRST_LEVEL_NS);
        while calls < self.calls() {
            let before = calls;
            while let Some(v) =
                recorded.next_if(|v| level > HIGHEST_NS || self.0.lowest_equivalent(v.value_iterated_to()) <= level)
            {
                calls += v.count_at_value();
            }
            let top = self.0.highest_equivalent(if level > HIGHEST_NS { level - 1 } else { level });
            if calls > before {
                buckets.push((top / 1000, calls));
            }
            level *= 2;
        }
        buckets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(values: &[u64]) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        for &v in values {
            h.record(v);
        }
        h
    }

    #[test]
    fn buckets_are_redis_power_of_two_slots() {
        // Redis 7.0.15 answers these keys: the top of the slot holding each
        // level 1024·2^k (2 significant digits), in µs.
        let values: Vec<u64> = (0..21).map(|k| FIRST_LEVEL_NS << k).collect();
        let keys: Vec<u64> = filled(&values).cumulative_usec().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266, 270532,
                541065, 1073741
            ]
        );
    }

    #[test]
    fn buckets_are_cumulative_and_skip_empty_levels() {
        // 1 µs calls land at the first level, 5 µs at the 8 µs one (4096 <
        // 5000 ≤ 8192), 2 s at the last slot.
        let h = filled(&[300, 1000, 1000, 5000, 2_000_000_000]);
        assert_eq!(h.cumulative_usec(), [(1, 3), (8, 4), (1073741, 5)]);
        assert_eq!(h.calls(), 5);
        // A slot holding the level itself counts there, not one level up.
        assert_eq!(filled(&[1031]).cumulative_usec(), [(1, 1)]);
        assert_eq!(filled(&[1032]).cumulative_usec(), [(2, 1)]);
    }

    #[test]
    fn percentiles_round_like_hdr_value_at_percentile() {
        let h = filled(&[1000, 2000, 3000, 4000]);
        // 50% of 4 calls is 2 (2.5 rounded down by the cast): the 2000 slot,
        // whose top is 2007 with 2 significant digits.
        assert_eq!(h.value_at_percentile(50.0), 2007);
        assert_eq!(h.value_at_percentile(99.0), 4015);
        assert_eq!(h.value_at_percentile(100.0), 4015);
        assert_eq!(h.value_at_percentile(0.0), 1000);
        assert_eq!(filled(&[1000, 2000, 3000, 4000, 5000]).value_at_percentile(50.0), 3007);
        assert_eq!(h.percentiles_usec(&[50.0, 99.0, 99.9]), "p50=2.007,p99=4.015,p99.9=4.015");
        assert_eq!(h.percentiles_usec(&[]), "");
    }
}
