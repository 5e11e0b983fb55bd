//! The AOF writer actor: appends the records the keyspace sends, in order,
//! asks the fsync actor for durability according to `appendfsync`, keeps
//! unwritten records through disk errors and retries them, and swaps in a
//! rewritten file by copying the tail written since the fork.

use crate::actors::fsync::Fsync;
use crate::actors::keyspace::Keyspace;
use crate::actors::messages::*;
use actix::prelude::*;
use bytes::BytesMut;
use forkv::config::FsyncPolicy;
use slog::{info, warn, Logger};
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// everysec: fsync about once a second.
const FSYNC_PERIOD: Duration = Duration::from_secs(1);
/// An fsync running longer than this makes writes count as delayed.
const FSYNC_DELAY_LIMIT: Duration = Duration::from_secs(2);

pub struct AofWriter {
    keyspace: Addr<Keyspace>,
    fsync: Addr<Fsync>,
    log: Logger,
    path: PathBuf,
    /// Shared with the fsync actor for fdatasync; writes happen only here.
    file: Option<Arc<File>>,
    policy: FsyncPolicy,
    file_len: u64,
    base_size: u64,
    /// Records not yet in the file (after a failed write).
    unwritten: BytesMut,
    /// Running total of record bytes received.
    received: u64,
    written: u64,
    synced: u64,
    /// The highest offset an fsync was asked for.
    requested: u64,
    fsync_in_flight: Option<Instant>,
    last_fsync: Instant,
    delayed_fsync: u64,
    error: Option<String>,
    /// appendonly is on: records must reach the file, even if it failed to open.
    enabled: bool,
    /// File length at the rewrite fork; the tail after it goes to the new file.
    rewrite_offset: Option<u64>,
}

impl AofWriter {
    /// Starts the writer on `arbiter` and its fsync actor on `fsync_arbiter`.
    pub fn start(
        arbiter: &ArbiterHandle,
        fsync_arbiter: &ArbiterHandle,
        keyspace: Addr<Keyspace>,
        log: Logger,
    ) -> Addr<AofWriter> {
        let fsync_arbiter = fsync_arbiter.clone();
        AofWriter::start_in_arbiter(arbiter, move |ctx| {
            let writer = ctx.address();
            let fsync_keyspace = keyspace.clone();
            let fsync_log = log.clone();
            let fsync = Fsync::start_in_arbiter(&fsync_arbiter, move |_| Fsync::new(writer, fsync_keyspace, fsync_log));
            AofWriter {
                keyspace,
                fsync,
                log,
                path: PathBuf::new(),
                file: None,
                policy: FsyncPolicy::EverySec,
                file_len: 0,
                base_size: 0,
                unwritten: BytesMut::new(),
                received: 0,
                written: 0,
                synced: 0,
                requested: 0,
                fsync_in_flight: None,
                last_fsync: Instant::now(),
                delayed_fsync: 0,
                error: None,
                rewrite_offset: None,
                enabled: false,
            }
        })
    }

    fn report(&self) {
        self.keyspace.do_send(AofProgress {
            written: self.written,
            synced: self.synced,
            status: AofStatus {
                error: self.error.clone(),
                current_size: self.file_len,
                base_size: self.base_size,
                delayed_fsync: self.delayed_fsync,
            },
        });
    }

    /// Writes what is pending; on failure the file is cut back to its last
    /// complete record and the records are kept for the next try.
    fn write_pending(&mut self) {
        if self.file.is_none() && self.enabled {
            // The file could not be opened: keep the records and try again.
            let path = self.path.clone();
            if let Err(e) = self.open(&path, false) {
                self.error = Some(e.to_string());
                return;
            }
        }
        let Some(file) = self.file.clone() else {
            // Logging is off: nothing to keep.
            self.unwritten.clear();
            self.written = self.received;
            self.synced = self.received;
            return;
        };
        if self.unwritten.is_empty() {
            return;
        }
        match (&*file).write_all(&self.unwritten) {
            Ok(()) => {
                self.file_len += self.unwritten.len() as u64;
                self.unwritten.clear();
                self.written = self.received;
                if let Some(err) = self.error.take() {
                    info!(self.log, "AOF write error looks solved, writing again"; "previous_error" => err);
                }
                if self.policy == FsyncPolicy::EverySec
                    && self.fsync_in_flight.is_some_and(|t| t.elapsed() > FSYNC_DELAY_LIMIT)
                {
                    self.delayed_fsync += 1;
                    warn!(self.log, "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
                }
                if self.policy == FsyncPolicy::Always {
                    self.request_fsync();
                }
            }
            Err(e) => {
                let _ = file.set_len(self.file_len);
                if self.error.is_none() {
                    warn!(self.log, "Error writing to the AOF file"; "error" => e.to_string(), "bytes" => self.unwritten.len());
                }
                self.error = Some(e.to_string());
            }
        }
    }

    /// With `always` every write asks (the fsync actor folds the requests
    /// that wait behind a running fdatasync into one); `everysec` keeps at
    /// most one fsync in flight.
    fn request_fsync(&mut self) {
        if self.synced >= self.written || self.requested >= self.written {
            return;
        }
        if self.policy != FsyncPolicy::Always && self.fsync_in_flight.is_some() {
            return;
        }
        if let Some(file) = &self.file {
            self.fsync_in_flight.get_or_insert_with(Instant::now);
            self.requested = self.written;
            let exit_on_failure = self.policy == FsyncPolicy::Always;
            self.fsync.do_send(FsyncRequest { file: file.clone(), end: self.written, exit_on_failure });
        }
    }

    fn open(&mut self, path: &Path, truncate: bool) -> std::io::Result<()> {
        let mut opts = OpenOptions::new();
        opts.create(true).append(true);
        if truncate {
            opts.truncate(true).write(true).append(false);
        }
        let mut file = opts.open(path)?;
        self.file_len = file.seek(SeekFrom::End(0))?;
        self.file = Some(Arc::new(file));
        Ok(())
    }

    /// Appends the old file's tail since the fork to the rewritten file,
    /// makes it durable, renames it over the AOF and reopens it.
    fn install_rewrite(&mut self, temp: &Path, fork_offset: u64) -> std::io::Result<u64> {
        let mut new = OpenOptions::new().append(true).open(temp)?;
        let base = new.metadata()?.len();
        if self.file.is_some() {
            let mut old = File::open(&self.path)?;
            old.seek(SeekFrom::Start(fork_offset))?;
            std::io::copy(&mut old, &mut new)?;
        }
        new.sync_all()?;
        std::fs::rename(temp, &self.path)?;
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        File::open(dir)?.sync_all()?;
        if self.file.is_some() {
            let path = self.path.clone();
            self.open(&path, false)?;
            // The new file was fsynced with everything written so far.
            self.synced = self.written;
        }
        Ok(base)
    }
}

impl Actor for AofWriter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(Duration::from_millis(100), |act, _| {
            let had_error = act.error.is_some();
            act.write_pending();
            if act.policy == FsyncPolicy::EverySec && act.last_fsync.elapsed() >= FSYNC_PERIOD {
                act.request_fsync();
            }
            if had_error && act.error.is_none() {
                act.report();
            }
        });
    }
}

impl Handler<AofOpen> for AofWriter {
    type Result = ();

    fn handle(&mut self, msg: AofOpen, _: &mut Context<Self>) {
        self.path = msg.path;
        self.policy = msg.policy;
        self.enabled = true;
        match self.open(&self.path.clone(), msg.truncate) {
            Ok(()) => {
                self.base_size = self.file_len;
                info!(self.log, "Append only file opened"; "file" => self.path.display().to_string(), "size" => self.file_len, "appendfsync" => self.policy.name());
            }
            Err(e) => {
                warn!(self.log, "Can't open the append-only file"; "file" => self.path.display().to_string(), "error" => e.to_string());
                self.error = Some(e.to_string());
            }
        }
        self.report();
    }
}

impl Handler<AofSetPolicy> for AofWriter {
    type Result = ();

    fn handle(&mut self, msg: AofSetPolicy, _: &mut Context<Self>) {
        self.policy = msg.0;
        if self.policy == FsyncPolicy::Always {
            self.request_fsync();
        }
    }
}

impl Handler<AofAppend> for AofWriter {
    type Result = ();

    fn handle(&mut self, msg: AofAppend, _: &mut Context<Self>) {
        self.unwritten.extend_from_slice(&msg.data);
        self.received = msg.end;
        self.write_pending();
        self.report();
    }
}

impl Handler<FsyncDone> for AofWriter {
    type Result = ();

    fn handle(&mut self, msg: FsyncDone, _: &mut Context<Self>) {
        self.last_fsync = Instant::now();
        if msg.end >= self.requested {
            self.fsync_in_flight = None;
        }
        match msg.result {
            Ok(()) => self.synced = self.synced.max(msg.end),
            Err(e) => {
                warn!(self.log, "Error syncing the AOF file"; "error" => e.clone());
                self.error = Some(e);
                // Ask again: what failed to sync is still unsynced.
                self.requested = self.synced;
                self.fsync_in_flight = None;
                if self.policy == FsyncPolicy::Always {
                    self.request_fsync();
                }
            }
        }
        self.report();
    }
}

impl Handler<AofRewriteStart> for AofWriter {
    type Result = ();

    fn handle(&mut self, msg: AofRewriteStart, _: &mut Context<Self>) {
        self.path = msg.path;
        self.write_pending();
        self.rewrite_offset = Some(self.file_len + self.unwritten.len() as u64);
    }
}

impl Handler<AofRewriteDone> for AofWriter {
    type Result = ();

    fn handle(&mut self, msg: AofRewriteDone, _: &mut Context<Self>) {
        self.finish_rewrite(&msg);
        // After AofRewritten, from the same sender: the keyspace sees the
        // status first, then the child gone.
        self.keyspace.do_send(msg.exited);
    }
}

impl AofWriter {
    /// Installs the rewritten file (or drops it) and tells the keyspace how it went.
    fn finish_rewrite(&mut self, msg: &AofRewriteDone) {
        let offset = self.rewrite_offset.take();
        if msg.exited.0.cancelled {
            // The supervisor already removed the temp file of a child that failed.
            info!(self.log, "Background AOF rewrite cancelled; the old AOF is kept");
            self.keyspace.do_send(AofRewritten { ok: false, cancelled: true, error: None });
            return;
        }
        let result = match (msg.exited.0.ok, offset) {
            (true, Some(offset)) => {
                self.write_pending();
                if self.unwritten.is_empty() {
                    self.install_rewrite(&msg.temp, offset)
                } else {
                    Err(std::io::Error::other("records are waiting to be written"))
                }
            }
            _ => Err(std::io::Error::other("rewrite child failed")),
        };
        match result {
            Ok(base) => {
                self.base_size = base;
                info!(self.log, "Background AOF rewrite finished successfully"; "base_size" => base, "size" => self.file_len);
                self.keyspace.do_send(AofRewritten { ok: true, cancelled: false, error: None });
            }
            Err(e) => {
                let _ = std::fs::remove_file(&msg.temp);
                warn!(self.log, "Background AOF rewrite failed; the old AOF is kept"; "error" => e.to_string());
                self.keyspace.do_send(AofRewritten { ok: false, cancelled: false, error: Some(e.to_string()) });
            }
        }
        self.report();
    }
}

impl Handler<AofClose> for AofWriter {
    type Result = ();

    fn handle(&mut self, _: AofClose, _: &mut Context<Self>) {
        self.write_pending();
        self.enabled = false;
        if let Some(file) = self.file.take() {
            let _ = file.sync_data();
        }
        self.unwritten.clear();
        self.error = None;
        self.written = self.received;
        self.synced = self.received;
        self.report();
    }
}

impl Handler<AofFlush> for AofWriter {
    type Result = Result<(), String>;

    fn handle(&mut self, _: AofFlush, _: &mut Context<Self>) -> Result<(), String> {
        self.write_pending();
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        if let Some(file) = &self.file {
            file.sync_data().map_err(|e| e.to_string())?;
            self.synced = self.written;
        }
        Ok(())
    }
}
