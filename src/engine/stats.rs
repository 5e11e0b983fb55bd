//! Counters shown by INFO stats and persistence.

use super::command_stats::CommandStats;

#[derive(Default)]
pub struct Stats {
    pub total_commands_processed: u64,
    pub total_connections_received: u64,
    pub rejected_connections: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_net_input_bytes: u64,
    pub total_net_output_bytes: u64,
    pub total_forks: u64,
    pub used_memory_peak: u64,
    /// INFO commandstats and errorstats.
    pub commands: CommandStats,
    /// Recent (time ms, commands processed) samples for instantaneous_ops_per_sec.
    ops_samples: Vec<(i64, u64)>,
}

impl Stats {
    /// Called from cron: keeps a short window of samples.
    pub fn sample(&mut self, now_ms: i64) {
        self.ops_samples.push((now_ms, self.total_commands_processed));
        if self.ops_samples.len() > 16 {
            self.ops_samples.remove(0);
        }
    }

    pub fn instantaneous_ops_per_sec(&self) -> u64 {
        match (self.ops_samples.first(), self.ops_samples.last()) {
            (Some(a), Some(b)) if b.0 > a.0 => (b.1 - a.1) * 1000 / (b.0 - a.0) as u64,
            _ => 0,
        }
    }

    pub fn reset(&mut self) {
        *self = Stats::default();
    }
}

/// What the persistence side reports for INFO persistence, kept by the
/// engine so INFO can be answered from the keyspace thread.
#[derive(Clone)]
pub struct PersistenceInfo {
    pub loading: bool,
    /// Unix seconds when loading began; with the byte figures, for INFO's
    /// loading_* fields while `loading` is set.
    pub loading_start_time: i64,
    pub loading_total_bytes: u64,
    pub loading_loaded_bytes: u64,
    /// Keys in the dataset when the last load finished.
    pub rdb_last_load_keys_loaded: u64,
    pub rdb_last_load_keys_expired: u64,
    pub aof_rewrites_consecutive_failures: u64,
    pub rdb_bgsave_in_progress: bool,
    pub rdb_last_save_time: i64,
    pub rdb_last_bgsave_ok: bool,
    pub rdb_last_bgsave_time_sec: i64,
    pub rdb_current_bgsave_start: i64,
    pub rdb_saves: u64,
    pub rdb_last_cow_size: u64,
    pub rdb_changes_at_fork: u64,
    pub rdb_last_bgsave_try_ms: i64,
    pub aof_rewrite_in_progress: bool,
    pub aof_rewrite_scheduled: bool,
    pub bgsave_scheduled: bool,
    pub aof_last_rewrite_time_sec: i64,
    pub aof_current_rewrite_start: i64,
    pub aof_last_bgrewrite_ok: bool,
    pub aof_last_write_ok: bool,
    pub aof_last_write_error: String,
    pub aof_current_size: u64,
    pub aof_base_size: u64,
    pub aof_delayed_fsync: u64,
    pub aof_rewrites: u64,
    pub aof_last_cow_size: u64,
    pub latest_fork_usec: u64,
    pub child_pid: Option<i32>,
}

impl Default for PersistenceInfo {
    fn default() -> Self {
        PersistenceInfo {
            loading: false,
            loading_start_time: 0,
            loading_total_bytes: 0,
            loading_loaded_bytes: 0,
            rdb_last_load_keys_loaded: 0,
            rdb_last_load_keys_expired: 0,
            aof_rewrites_consecutive_failures: 0,
            rdb_bgsave_in_progress: false,
            rdb_last_save_time: crate::util::now_ms() / 1000,
            rdb_last_bgsave_ok: true,
            rdb_last_bgsave_time_sec: -1,
            rdb_current_bgsave_start: -1,
            rdb_saves: 0,
            rdb_last_cow_size: 0,
            rdb_changes_at_fork: 0,
            rdb_last_bgsave_try_ms: 0,
            aof_rewrite_in_progress: false,
            aof_rewrite_scheduled: false,
            bgsave_scheduled: false,
            aof_last_rewrite_time_sec: -1,
            aof_current_rewrite_start: -1,
            aof_last_bgrewrite_ok: true,
            aof_last_write_ok: true,
            aof_last_write_error: String::new(),
            aof_current_size: 0,
            aof_base_size: 0,
            aof_delayed_fsync: 0,
            aof_rewrites: 0,
            aof_last_cow_size: 0,
            latest_fork_usec: 0,
            child_pid: None,
        }
    }
}
