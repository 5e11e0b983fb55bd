//! Persistence as the keyspace thread sees it: forking snapshot and rewrite
//! children between two commands, foreground saves, save points and the
//! automatic rewrite, and the MISCONF rules for refusing writes.

use super::{Engine, Request};
use crate::fork::fork_child;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    Snapshot,
    AofRewrite,
}

/// How a persistence child ended, as the supervisor reaped it.
#[derive(Debug, Clone, Copy)]
pub struct ChildExit {
    pub pid: i32,
    pub kind: ChildKind,
    pub ok: bool,
    /// Killed by SIGUSR1: Redis's way to stop a child without an error.
    pub cancelled: bool,
    pub cow_bytes: u64,
    pub duration_ms: i64,
}

/// A running persistence child, handed to the supervisor.
#[derive(Debug)]
pub struct ChildInfo {
    pub pid: i32,
    pub kind: ChildKind,
    /// The child's COW report pipe.
    pub report: OwnedFd,
    /// The file the child writes before it is renamed into place.
    pub temp: PathBuf,
    pub started_ms: i64,
}

pub const MISCONF_RDB: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Retry a failed background save after this long, as Redis does.
const SAVE_RETRY_DELAY_MS: i64 = 5000;

/// The temp file a rewrite child with `pid` writes.
pub fn rewrite_temp_path(pid: i32) -> PathBuf {
    PathBuf::from(format!("temp-rewriteaof-bg-{pid}.aof"))
}

impl Engine {
    pub fn child_running(&self) -> bool {
        self.persistence.child_pid.is_some()
    }

    /// Why write commands are refused now, with Redis's MISCONF text.
    pub fn writes_refused(&self) -> Option<String> {
        let p = &self.persistence;
        if self.config.appendonly && !p.aof_last_write_ok {
            return Some(format!("MISCONF Errors writing to the AOF file: {}", p.aof_last_write_error));
        }
        if self.config.stop_writes_on_bgsave_error && !self.config.save.is_empty() && !p.rdb_last_bgsave_ok {
            return Some(MISCONF_RDB.into());
        }
        // A standalone server has no replica: asked for one, it writes nothing.
        if self.config.min_replicas_to_write > 0 && self.config.min_replicas_max_lag > 0 {
            return Some("NOREPLICAS Not enough good replicas to write.".into());
        }
        None
    }

    fn child_forked(&mut self, child: crate::fork::Child, kind: ChildKind, temp: PathBuf) {
        let p = &mut self.persistence;
        p.child_pid = Some(child.pid.as_raw());
        p.latest_fork_usec = child.fork_usec;
        self.add_latency_sample("fork", child.fork_usec / 1000);
        self.stats.total_forks += 1;
        self.child_active = true;
        self.requests.push(Request::ChildStarted(ChildInfo {
            pid: child.pid.as_raw(),
            kind,
            report: child.report,
            temp,
            started_ms: self.now,
        }));
    }

    /// BGSAVE: forks a child that writes the dump file.
    pub fn start_bgsave(&mut self) -> Result<(), String> {
        if self.child_running() {
            return Err("Background save already in progress".into());
        }
        let target = PathBuf::from(&self.config.dbfilename);
        let (compression, now, dbs, libraries) = (self.config.rdbcompression, self.now, &self.dbs, &self.functions);
        let child =
            fork_child(|| crate::snapshot::save(dbs, libraries, &target, compression, now).is_ok()).map_err(|e| {
                self.persistence.rdb_last_bgsave_ok = false;
                let msg = format!("Can't save in background: fork: {e}");
                self.requests.push(Request::Warn(msg.clone()));
                msg
            })?;
        let temp = crate::snapshot::temp_path(std::path::Path::new("."), child.pid.as_raw() as u32);
        let p = &mut self.persistence;
        p.rdb_bgsave_in_progress = true;
        p.rdb_current_bgsave_start = self.now / 1000;
        p.rdb_changes_at_fork = self.dirty;
        p.bgsave_scheduled = false;
        p.rdb_last_bgsave_try_ms = self.now;
        self.child_forked(child, ChildKind::Snapshot, temp);
        Ok(())
    }

    /// BGREWRITEAOF: records the fork point in the record stream, then forks
    /// a child that writes the compacted file.
    pub fn start_rewrite(&mut self) -> Result<(), String> {
        if self.child_running() {
            return Err("Background child already running".into());
        }
        let before = self.aof.take();
        let (now, dbs, libraries) = (self.now, &self.dbs, &self.functions);
        let (preamble, compression) = (self.config.aof_use_rdb_preamble, self.config.rdbcompression);
        let result = fork_child(|| write_rewrite_file(dbs, libraries, now, preamble, compression).is_ok());
        match result {
            Ok(child) => {
                // The tail after the fork point starts a new file section: re-SELECT.
                self.aof.reset_selected_db();
                let temp = rewrite_temp_path(child.pid.as_raw());
                let p = &mut self.persistence;
                p.aof_rewrite_in_progress = true;
                p.aof_rewrite_scheduled = false;
                p.aof_current_rewrite_start = self.now / 1000;
                self.requests.push(Request::AofRewriteStart { before });
                self.child_forked(child, ChildKind::AofRewrite, temp);
                Ok(())
            }
            Err(e) => {
                let mut rest = self.aof.take();
                self.aof.pending = before;
                self.aof.pending.unsplit(std::mem::take(&mut rest));
                self.persistence.aof_last_bgrewrite_ok = false;
                let msg = format!("Can't rewrite append only file in background: fork: {e}");
                self.requests.push(Request::Warn(msg.clone()));
                Err(msg)
            }
        }
    }

    /// A child ended (reported by the supervisor). One killed by SIGUSR1
    /// (`cancelled`) fails without setting the error status, as in Redis.
    /// Returns false for a child that is no longer the running one (killed
    /// and reaped here already).
    pub fn child_exited(&mut self, exit: ChildExit) -> bool {
        let ChildExit { pid, kind, ok, cancelled, cow_bytes, duration_ms } = exit;
        let p = &mut self.persistence;
        if p.child_pid != Some(pid) {
            return false;
        }
        p.child_pid = None;
        self.child_active = false;
        match kind {
            ChildKind::Snapshot => {
                p.rdb_bgsave_in_progress = false;
                if !cancelled {
                    p.rdb_last_bgsave_ok = ok;
                }
                p.rdb_last_bgsave_time_sec = duration_ms / 1000;
                p.rdb_last_cow_size = cow_bytes;
                if ok {
                    p.rdb_saves += 1;
                    p.rdb_last_save_time = self.now / 1000;
                    // Changes made while the child ran are not in the snapshot.
                    self.dirty = self.dirty.saturating_sub(p.rdb_changes_at_fork);
                }
            }
            ChildKind::AofRewrite => {
                p.aof_rewrite_in_progress = false;
                p.aof_last_rewrite_time_sec = duration_ms / 1000;
                p.aof_last_cow_size = cow_bytes;
                if !ok && !cancelled {
                    p.aof_last_bgrewrite_ok = false;
                }
            }
        }
        true
    }

    /// appendonly turned off: a running rewrite is stopped with SIGUSR1 (a
    /// cancel, not a failure, as Redis's killAppendOnlyChild) and reaped by
    /// the supervisor as usual; a scheduled one is dropped. Returns its pid.
    pub fn cancel_rewrite(&mut self) -> Option<i32> {
        let p = &mut self.persistence;
        p.aof_rewrite_scheduled = false;
        let pid = p.child_pid.filter(|_| p.aof_rewrite_in_progress)?;
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGUSR1);
        Some(pid)
    }

    /// Shutdown and FLUSHALL: kills the running child and waits for it to
    /// die, so that it can never rename an older snapshot (or rewrite) over
    /// what is saved next, and removes its temp file. Returns the pid it
    /// killed; the supervisor's late report of it is ignored (`child_exited`).
    pub fn kill_child(&mut self) -> Option<i32> {
        let pid = self.persistence.child_pid.take()?;
        let nix_pid = nix::unistd::Pid::from_raw(pid);
        let _ = nix::sys::signal::kill(nix_pid, nix::sys::signal::Signal::SIGKILL);
        // ECHILD when the supervisor reaped it first: dead either way.
        let _ = nix::sys::wait::waitpid(nix_pid, None);
        let p = &mut self.persistence;
        let temp = if p.aof_rewrite_in_progress {
            rewrite_temp_path(pid)
        } else {
            crate::snapshot::temp_path(std::path::Path::new("."), pid as u32)
        };
        let _ = std::fs::remove_file(temp);
        p.rdb_bgsave_in_progress = false;
        p.aof_rewrite_in_progress = false;
        self.child_active = false;
        Some(pid)
    }

    /// SAVE (and shutdown): writes the dump in this thread.
    pub fn save_now(&mut self) -> Result<crate::snapshot::Saved, String> {
        let target = PathBuf::from(&self.config.dbfilename);
        let now = crate::util::now_ms();
        match crate::snapshot::save(&self.dbs, &self.functions, &target, self.config.rdbcompression, now) {
            Ok(saved) => {
                self.dirty = 0;
                let p = &mut self.persistence;
                p.rdb_last_save_time = now / 1000;
                p.rdb_last_bgsave_ok = true;
                p.rdb_saves += 1;
                Ok(saved)
            }
            Err(e) => {
                self.persistence.rdb_last_bgsave_ok = false;
                Err(e.to_string())
            }
        }
    }

    /// Save points, scheduled jobs and the automatic AOF rewrite, from cron.
    pub fn persistence_cron(&mut self) {
        if self.child_running() || self.persistence.loading {
            return;
        }
        let p = &self.persistence;
        if p.bgsave_scheduled {
            let _ = self.start_bgsave();
            return;
        }
        if p.aof_rewrite_scheduled {
            let _ = self.start_rewrite();
            return;
        }
        let since_save = self.now / 1000 - p.rdb_last_save_time;
        let retry_ok = p.rdb_last_bgsave_ok || self.now - p.rdb_last_bgsave_try_ms > SAVE_RETRY_DELAY_MS;
        let due = self.config.save.iter().any(|&(secs, changes)| self.dirty >= changes && since_save >= secs as i64);
        if due && retry_ok {
            let _ = self.start_bgsave();
            return;
        }
        let c = &self.config;
        let (size, base) = (p.aof_current_size, p.aof_base_size.max(1));
        if c.appendonly
            && c.auto_aof_rewrite_percentage > 0
            && size > c.auto_aof_rewrite_min_size
            && (size - base.min(size)) * 100 / base >= c.auto_aof_rewrite_percentage
        {
            let _ = self.start_rewrite();
        }
    }
}

/// The rewrite child's work: the compacted AOF into its temp file, fsynced.
/// With `preamble` the dataset is in RDB format (what Redis's
/// aof-use-rdb-preamble writes), else as commands; either way the writer
/// appends the commands logged since the fork after it.
fn write_rewrite_file(
    dbs: &[crate::store::Db],
    libraries: &crate::functions::Libraries,
    now_ms: i64,
    preamble: bool,
    compression: bool,
) -> std::io::Result<()> {
    let path = rewrite_temp_path(std::process::id() as i32);
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::fs::File::create(&path)?);
    if preamble {
        crate::snapshot::write_rdb(&mut out, dbs, libraries, compression, now_ms, true)?;
    } else {
        crate::aof::rewrite::write_dataset(&mut out, dbs, libraries, now_ms)?;
    }
    out.flush()?;
    out.get_ref().sync_all()
}
