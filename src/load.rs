//! Loading the dataset at startup, a slice at a time so the keyspace can
//! answer -LOADING in between: replaying the AOF (its RDB preamble first,
//! if it has one; cutting off a truncated last command, stopping with the
//! byte offset on corruption) or reading the snapshot, function libraries
//! included.

use crate::aof::reader::{starts_with_preamble, AofError, AofReader};
use crate::engine::Engine;
use crate::rdb::{RdbError, RdbReader};
use crate::types::Limits;
use slog::{info, warn, Logger};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub enum LoadOutcome {
    More,
    Done,
    Failed(String),
}

enum Source {
    Aof(AofReader<File>),
    Rdb(RdbReader<BufReader<File>>),
    /// The RDB preamble of an AOF; its commands follow, read as `Aof`.
    Preamble(RdbReader<BufReader<File>>),
}

pub struct Loader {
    source: Source,
    path: PathBuf,
    size: u64,
    started: Instant,
    last_progress: Instant,
    items: u64,
    /// Snapshot keys skipped for being past their TTL (INFO's
    /// rdb_last_load_keys_expired).
    expired_keys: u64,
    replace_libraries: bool,
    /// Where the open MULTI of the AOF started: a transaction without its
    /// EXEC at the end of the file is cut off from there, as Redis does.
    multi_start: u64,
    /// Reused buffers for the arguments of the AOF command being replayed.
    arg_bytes: Vec<u8>,
    arg_spans: Vec<(usize, usize)>,
}

/// An RDB reader over `file`, buffered: entries are small reads.
fn rdb_reader(file: File) -> Result<RdbReader<BufReader<File>>, RdbError> {
    RdbReader::new(BufReader::with_capacity(1 << 20, file))
}

/// A damaged preamble is fatal, as in Redis: `aof-load-truncated` only
/// applies to the commands after it.
fn preamble_failed(path: &Path, e: &RdbError) -> String {
    format!(
        "Error reading the RDB preamble of the append only file {} at byte {}: {}. AOF loading aborted; `forkv check-aof {}` reports the details",
        path.display(),
        e.offset,
        e.msg,
        path.display()
    )
}

fn open(path: &Path) -> Result<Option<(File, u64)>, String> {
    match File::open(path) {
        Ok(f) => {
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            Ok(Some((f, size)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("Can't open {} for loading: {e}", path.display())),
    }
}

impl Loader {
    fn new(source: Source, path: &Path, size: u64) -> Loader {
        let now = Instant::now();
        Loader {
            source,
            path: path.to_path_buf(),
            size,
            started: now,
            last_progress: now,
            items: 0,
            expired_keys: 0,
            replace_libraries: false,
            multi_start: 0,
            arg_bytes: Vec::new(),
            arg_spans: Vec::new(),
        }
    }

    /// The AOF at `path`, or None when there is none yet.
    pub fn aof(path: &Path) -> Result<Option<Loader>, String> {
        let Some((mut file, size)) = open(path)? else { return Ok(None) };
        let preamble = starts_with_preamble(&mut file).map_err(|e| format!("Error reading {}: {e}", path.display()))?;
        let source = if preamble {
            Source::Preamble(rdb_reader(file).map_err(|e| preamble_failed(path, &e))?)
        } else {
            Source::Aof(AofReader::new(file))
        };
        Ok(Some(Loader::new(source, path, size)))
    }

    /// The snapshot at `path`, or None when there is none.
    pub fn rdb(path: &Path) -> Result<Option<Loader>, String> {
        let Some((file, size)) = open(path)? else { return Ok(None) };
        let reader = rdb_reader(file).map_err(|e| format!("Can't load the snapshot {}: {e}", path.display()))?;
        Ok(Some(Loader::new(Source::Rdb(reader), path, size)))
    }

    pub fn describe(&self) -> String {
        let preamble = if matches!(self.source, Source::Preamble(_)) { ", starts with an RDB preamble" } else { "" };
        format!("{} ({} bytes{preamble})", self.path.display(), self.size)
    }

    pub fn summary(&self) -> String {
        let what = match self.source {
            Source::Aof(_) | Source::Preamble(_) => "DB loaded from append only file",
            Source::Rdb(_) => "DB loaded from disk",
        };
        format!("{what}: {:.3} seconds, {} items", self.started.elapsed().as_secs_f64(), self.items)
    }

    /// Loads for about `budget`.
    pub fn step(&mut self, engine: &mut Engine, budget: Duration, log: &Logger) -> LoadOutcome {
        let until = Instant::now() + budget;
        let mut round = 0u32;
        let outcome = loop {
            // Reading the clock costs more than a small entry: look every 64.
            round = round.wrapping_add(1);
            if round.is_multiple_of(64) && Instant::now() >= until {
                break LoadOutcome::More;
            }
            let step = match &mut self.source {
                Source::Aof(_) => self.aof_step(engine, log),
                Source::Rdb(_) | Source::Preamble(_) => self.rdb_step(engine, log),
            };
            match step {
                None => self.items += 1,
                Some(outcome) => break outcome,
            }
        };
        if self.last_progress.elapsed() > Duration::from_secs(1) {
            self.last_progress = Instant::now();
            info!(log, "Loading the dataset"; "file" => self.path.display().to_string(), "items" => self.items, "bytes_read" => self.offset(), "total_bytes" => self.size);
        }
        outcome
    }

    /// Libraries in the file replace loaded ones of the same name instead of
    /// failing the load (DEBUG RELOAD MERGE).
    pub fn replace_libraries(&mut self) {
        self.replace_libraries = true;
    }

    pub fn expired_keys(&self) -> u64 {
        self.expired_keys
    }

    /// Loads everything in one go (DEBUG RELOAD and LOADAOF), answering
    /// nothing meanwhile as Redis's synchronous reload. The replayed
    /// commands are not logged to the AOF again.
    pub fn load_all(&mut self, engine: &mut Engine, log: &Logger) -> Result<(), String> {
        let logging = std::mem::replace(&mut engine.aof.enabled, false);
        engine.persistence.loading = true;
        let result = loop {
            match self.step(engine, Duration::from_secs(3600), log) {
                LoadOutcome::More => {}
                LoadOutcome::Done => break Ok(()),
                LoadOutcome::Failed(msg) => break Err(msg),
            }
        };
        engine.persistence.loading = false;
        engine.aof.enabled = logging;
        result
    }

    /// (bytes read so far, file size), for INFO's loading_* fields.
    pub fn progress(&self) -> (u64, u64) {
        (self.offset(), self.size)
    }

    fn offset(&self) -> u64 {
        match &self.source {
            Source::Aof(r) => r.offset(),
            Source::Rdb(r) | Source::Preamble(r) => r.offset(),
        }
    }

    fn aof_step(&mut self, engine: &mut Engine, log: &Logger) -> Option<LoadOutcome> {
        let Source::Aof(reader) = &mut self.source else { unreachable!("aof source") };
        let start = reader.offset();
        match reader.next_command_into(&mut self.arg_bytes, &mut self.arg_spans) {
            Ok(true) => {
                let args: Vec<&[u8]> = self.arg_spans.iter().map(|&(a, b)| &self.arg_bytes[a..b]).collect();
                if args[0].eq_ignore_ascii_case(b"multi") {
                    self.multi_start = start;
                }
                if let Err(e) = engine.replay(&args) {
                    return Some(LoadOutcome::Failed(format!("{e} (at byte {})", reader.offset())));
                }
                None
            }
            Ok(false) if engine.loader.multi.is_none() => Some(LoadOutcome::Done),
            Ok(false) => Some(self.truncated(engine, start, log)),
            Err(AofError::Truncated { valid_up_to }) => Some(self.truncated(engine, valid_up_to, log)),
            Err(AofError::Corrupt { offset, reason, .. }) => Some(LoadOutcome::Failed(format!(
                "Bad file format reading the append only file {} at byte {offset} ({reason}): make a backup of your AOF file, then use `forkv check-aof --fix {}`",
                self.path.display(),
                self.path.display()
            ))),
            Err(e @ AofError::Io(_)) => Some(LoadOutcome::Failed(format!("Error reading {}: {e}", self.path.display()))),
        }
    }

    /// The file ends inside a command or inside a MULTI block: with
    /// aof-load-truncated the incomplete tail is dropped and cut off the
    /// file (so later appends follow a whole record), else loading fails.
    fn truncated(&mut self, engine: &mut Engine, mut valid_up_to: u64, log: &Logger) -> LoadOutcome {
        let path = self.path.display().to_string();
        if engine.loader.multi.take().is_some() {
            warn!(log, "Revert incomplete MULTI/EXEC transaction in AOF file"; "file" => &path, "multi_at" => self.multi_start);
            engine.loader.multi_error = false;
            valid_up_to = self.multi_start;
        }
        if !engine.config.aof_load_truncated {
            return LoadOutcome::Failed(format!(
                "Unexpected end of file reading the append only file {path} after byte {valid_up_to}. Make a backup of it, then use `forkv check-aof --fix {path}`, or set aof-load-truncated yes and restart."
            ));
        }
        warn!(log, "!!! Warning: short read while loading the AOF file !!!"; "file" => &path, "valid_up_to" => valid_up_to, "size" => self.size);
        let cut = std::fs::OpenOptions::new().write(true).open(&self.path).and_then(|f| {
            f.set_len(valid_up_to)?;
            f.sync_all()
        });
        match cut {
            Ok(()) => {
                warn!(log, "AOF loaded anyway because aof-load-truncated is enabled; the incomplete tail was removed"; "valid_up_to" => valid_up_to);
                LoadOutcome::Done
            }
            Err(e) => LoadOutcome::Failed(format!("Error truncating the AOF file {path}: {e}")),
        }
    }

    fn rdb_step(&mut self, engine: &mut Engine, log: &Logger) -> Option<LoadOutcome> {
        let (Source::Rdb(reader) | Source::Preamble(reader)) = &mut self.source else { unreachable!("rdb source") };
        let next = reader.next_entry();
        for code in reader.take_functions() {
            if let Err(err) = crate::functions::load(engine, None, &code, self.replace_libraries, None) {
                return Some(LoadOutcome::Failed(format!("Failed loading library, {err}: {}", self.path.display())));
            }
        }
        if let Some((db, keys)) = reader.take_resize_hint() {
            // A key takes at least 3 bytes of the file: a corrupt count can
            // not make the table larger than the file could fill.
            if let Some(db) = engine.dbs.get_mut(db) {
                db.reserve(keys.min(self.size / 3) as usize);
            }
        }
        let preamble = matches!(self.source, Source::Preamble(_));
        match next {
            Ok(Some(entry)) => {
                let limits = Limits::from_config(&engine.config);
                // As Redis: the commands after a preamble may still act on
                // keys that have expired since, so only a snapshot drops them.
                let skip_expired_at = (!preamble).then_some(engine.now);
                let access = engine.new_access_stamp();
                match crate::snapshot::load_entry(&mut engine.dbs, entry, &limits, skip_expired_at, access) {
                    Ok(true) => None,
                    Ok(false) => {
                        self.expired_keys += 1;
                        None
                    }
                    Err(e) => Some(LoadOutcome::Failed(format!("Can't load {}: {e}", self.path.display()))),
                }
            }
            Ok(None) if preamble => match self.start_tail(log) {
                Ok(()) => self.aof_step(engine, log),
                Err(e) => Some(LoadOutcome::Failed(e)),
            },
            Ok(None) => Some(LoadOutcome::Done),
            Err(e) if preamble => Some(LoadOutcome::Failed(preamble_failed(&self.path, &e))),
            Err(e) => Some(LoadOutcome::Failed(format!(
                "Short read or corrupt snapshot {}: {e}. Unrecoverable error, aborting now; `forkv check-rdb {}` reports the details",
                self.path.display(),
                self.path.display()
            ))),
        }
    }

    /// The preamble is loaded: the commands after it are replayed from the
    /// same open file, at the byte where the preamble ended.
    fn start_tail(&mut self, log: &Logger) -> Result<(), String> {
        let Source::Preamble(reader) = &self.source else { unreachable!("preamble source") };
        let offset = reader.offset();
        let tail = reader
            .get_ref()
            .get_ref()
            .try_clone()
            .and_then(|file| AofReader::from_offset(file, offset))
            .map_err(|e| format!("Error reading {}: {e}", self.path.display()))?;
        info!(log, "RDB preamble loaded, reading the remaining AOF tail"; "file" => self.path.display().to_string(), "keys" => self.items, "offset" => offset);
        self.source = Source::Aof(tail);
        Ok(())
    }
}
