//! Loading the dataset at startup, a slice at a time so the keyspace can
//! answer -LOADING in between: replaying the AOF (cutting off a truncated
//! last command, stopping with the byte offset on corruption) or reading the
//! snapshot.

use crate::aof::reader::{AofError, AofReader};
use crate::engine::Engine;
use crate::rdb::RdbReader;
use crate::types::Limits;
use slog::{info, warn, Logger};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub enum LoadOutcome {
    More,
    Done,
    Failed(String),
}

enum Source {
    Aof(AofReader<File>),
    Rdb(RdbReader<std::io::BufReader<File>>),
}

pub struct Loader {
    source: Source,
    path: PathBuf,
    size: u64,
    started: Instant,
    last_progress: Instant,
    items: u64,
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
        Loader { source, path: path.to_path_buf(), size, started: now, last_progress: now, items: 0 }
    }

    /// The AOF at `path`, or None when there is none yet.
    pub fn aof(path: &Path) -> Result<Option<Loader>, String> {
        let Some((file, size)) = open(path)? else { return Ok(None) };
        let mut head = [0u8; 5];
        if std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head)).is_ok()
            && &head == b"REDIS"
        {
            return Err(format!("{} starts with an RDB preamble, which forkv does not load", path.display()));
        }
        Ok(Some(Loader::new(Source::Aof(AofReader::new(file)), path, size)))
    }

    /// The snapshot at `path`, or None when there is none.
    pub fn rdb(path: &Path) -> Result<Option<Loader>, String> {
        let Some((file, size)) = open(path)? else { return Ok(None) };
        let reader = RdbReader::new(std::io::BufReader::with_capacity(1 << 20, file))
            .map_err(|e| format!("Can't load the snapshot {}: {e}", path.display()))?;
        Ok(Some(Loader::new(Source::Rdb(reader), path, size)))
    }

    pub fn describe(&self) -> String {
        format!("{} ({} bytes)", self.path.display(), self.size)
    }

    pub fn summary(&self) -> String {
        let what = match self.source {
            Source::Aof(_) => "DB loaded from append only file",
            Source::Rdb(_) => "DB loaded from disk",
        };
        format!("{what}: {:.3} seconds, {} items", self.started.elapsed().as_secs_f64(), self.items)
    }

    /// Loads for about `budget`.
    pub fn step(&mut self, engine: &mut Engine, budget: Duration, log: &Logger) -> LoadOutcome {
        let until = Instant::now() + budget;
        let outcome = loop {
            if Instant::now() >= until {
                break LoadOutcome::More;
            }
            let step = match &mut self.source {
                Source::Aof(_) => self.aof_step(engine, log),
                Source::Rdb(_) => self.rdb_step(engine),
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

    /// (bytes read so far, file size), for INFO's loading_* fields.
    pub fn progress(&self) -> (u64, u64) {
        (self.offset(), self.size)
    }

    fn offset(&self) -> u64 {
        match &self.source {
            Source::Aof(r) => r.offset(),
            Source::Rdb(r) => r.offset(),
        }
    }

    fn aof_step(&mut self, engine: &mut Engine, log: &Logger) -> Option<LoadOutcome> {
        let Source::Aof(reader) = &mut self.source else { unreachable!("aof source") };
        match reader.next_command() {
            Ok(Some(args)) => {
                let args: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                if let Err(e) = engine.replay(&args) {
                    return Some(LoadOutcome::Failed(format!("{e} (at byte {})", reader.offset())));
                }
                None
            }
            Ok(None) => Some(LoadOutcome::Done),
            Err(AofError::Truncated { valid_up_to }) if engine.config.aof_load_truncated => {
                warn!(log, "!!! Warning: short read while loading the AOF file !!!"; "file" => self.path.display().to_string(), "valid_up_to" => valid_up_to, "size" => self.size);
                let cut = std::fs::OpenOptions::new().write(true).open(&self.path).and_then(|f| f.set_len(valid_up_to));
                match cut {
                    Ok(()) => {
                        warn!(log, "AOF loaded anyway because aof-load-truncated is enabled; the truncated last command was removed");
                        Some(LoadOutcome::Done)
                    }
                    Err(e) => Some(LoadOutcome::Failed(format!("Error truncating the AOF file: {e}"))),
                }
            }
            Err(AofError::Truncated { valid_up_to }) => Some(LoadOutcome::Failed(format!(
                "Unexpected end of file reading the append only file {} after byte {valid_up_to}. Make a backup of it, then use `forkv check-aof --fix {}`, or set aof-load-truncated yes and restart.",
                self.path.display(),
                self.path.display()
            ))),
            Err(AofError::Corrupt { offset, reason, .. }) => Some(LoadOutcome::Failed(format!(
                "Bad file format reading the append only file {} at byte {offset} ({reason}): make a backup of your AOF file, then use `forkv check-aof --fix {}`",
                self.path.display(),
                self.path.display()
            ))),
            Err(e @ AofError::Io(_)) => Some(LoadOutcome::Failed(format!("Error reading {}: {e}", self.path.display()))),
        }
    }

    fn rdb_step(&mut self, engine: &mut Engine) -> Option<LoadOutcome> {
        let Source::Rdb(reader) = &mut self.source else { unreachable!("rdb source") };
        match reader.next_entry() {
            Ok(Some(entry)) => {
                let limits = Limits::from_config(&engine.config);
                crate::snapshot::load_entry(&mut engine.dbs, entry, &limits, engine.now);
                None
            }
            Ok(None) => Some(LoadOutcome::Done),
            Err(e) => Some(LoadOutcome::Failed(format!(
                "Short read or corrupt snapshot {}: {e}. Unrecoverable error, aborting now; `forkv check-rdb {}` reports the details",
                self.path.display(),
                self.path.display()
            ))),
        }
    }
}
