//! Taking over a Redis 7 data directory. Redis 7 keeps its AOF as several
//! files in `appenddirname` (a base, RDB or commands, then incremental
//! command files) listed by a manifest; forkv keeps Redis 6's single file.
//! A Redis 7 user who starts forkv with `appendonly yes` on the same `dir`
//! must find their data: when forkv's own file is missing and a manifest
//! is there, the base and the incremental files, in the manifest's order,
//! are copied into forkv's file (a temp file, fsynced, renamed) before
//! loading — the same bytes Redis would load. Redis's directory is left as
//! it was.

use crate::config::split_config_line;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, PartialEq)]
pub enum PartKind {
    Base,
    Incr,
    /// Superseded by a rewrite; not loaded.
    History,
}

#[derive(Debug, PartialEq)]
pub struct Part {
    pub file: String,
    pub kind: PartKind,
}

/// Parses a manifest (`file <name> seq <n> type <b|i|h>` per line, as
/// aofLoadManifestFromFile reads it): Redis's checks, Redis's texts.
pub fn parse_manifest(text: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let words = split_config_line(line.trim()).map_err(|_| "Invalid AOF manifest file format")?;
        if words.len() < 6 || words.len() % 2 != 0 {
            return Err("Invalid AOF manifest file format".into());
        }
        let field = |key: &str| words.chunks(2).find(|kv| kv[0] == key).map(|kv| kv[1].as_str());
        let (Some(file), Some(_seq), Some(kind)) = (field("file"), field("seq"), field("type")) else {
            return Err("Invalid AOF manifest file format".into());
        };
        if file.contains('/') {
            return Err("File can't be a path, just a filename".into());
        }
        let kind = match kind {
            "b" if parts.iter().any(|p: &Part| p.kind == PartKind::Base) => {
                return Err("Found duplicate base file information".into())
            }
            "b" => PartKind::Base,
            "i" => PartKind::Incr,
            "h" => PartKind::History,
            _ => return Err("Unknown AOF file type".into()),
        };
        parts.push(Part { file: file.into(), kind });
    }
    if parts.is_empty() {
        return Err("Found an empty AOF manifest".into());
    }
    Ok(parts)
}

/// The files Redis loads, in its order: the base, then the increments.
pub fn load_order(parts: &[Part]) -> Vec<&str> {
    let base = parts.iter().filter(|p| p.kind == PartKind::Base);
    let incr = parts.iter().filter(|p| p.kind == PartKind::Incr);
    base.chain(incr).map(|p| p.file.as_str()).collect()
}

/// What `adopt` copied.
#[derive(Debug)]
pub struct Adopted {
    pub manifest: PathBuf,
    pub files: usize,
    pub bytes: u64,
}

/// In `dir`: if `aof_name` is missing and `<aof_dir_name>/<aof_name>.manifest`
/// exists, writes the files it lists into `aof_name`. None when there is
/// nothing to adopt. An error leaves no `aof_name` behind.
pub fn adopt(dir: &Path, aof_dir_name: &str, aof_name: &str) -> io::Result<Option<Adopted>> {
    let target = dir.join(aof_name);
    let manifest = dir.join(aof_dir_name).join(format!("{aof_name}.manifest"));
    if target.exists() || !manifest.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&manifest)?;
    let parts = parse_manifest(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let files = load_order(&parts);
    let temp = dir.join(format!("temp-adopt-{}.aof", std::process::id()));
    let copied = copy_parts(&dir.join(aof_dir_name), &files, &temp);
    let bytes = match copied {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };
    std::fs::rename(&temp, &target)?;
    File::open(dir)?.sync_all()?;
    Ok(Some(Adopted { manifest, files: files.len(), bytes }))
}

fn copy_parts(from: &Path, files: &[&str], temp: &Path) -> io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(temp)?);
    let mut bytes = 0;
    for name in files {
        let mut part = File::open(from.join(name))
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", from.join(name).display())))?;
        bytes += io::copy(&mut part, &mut out)?;
    }
    out.flush()?;
    out.get_ref().sync_all()?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "file appendonly.aof.2.base.rdb seq 2 type b\n\
        file appendonly.aof.1.incr.aof seq 1 type h\n\
        file appendonly.aof.3.incr.aof seq 3 type i\n\
        file appendonly.aof.4.incr.aof seq 4 type i\n";

    #[test]
    fn the_base_then_the_increments_are_loaded() {
        let parts = parse_manifest(MANIFEST).unwrap();
        assert_eq!(
            load_order(&parts),
            ["appendonly.aof.2.base.rdb", "appendonly.aof.3.incr.aof", "appendonly.aof.4.incr.aof"]
        );
    }

    #[test]
    fn bad_manifests_are_refused_with_redis_texts() {
        assert_eq!(parse_manifest("").unwrap_err(), "Found an empty AOF manifest");
        assert_eq!(parse_manifest("file a seq 1\n").unwrap_err(), "Invalid AOF manifest file format");
        assert_eq!(parse_manifest("file a/b seq 1 type b\n").unwrap_err(), "File can't be a path, just a filename");
        assert_eq!(parse_manifest("file a seq 1 type x\n").unwrap_err(), "Unknown AOF file type");
        let two_bases = "file a seq 1 type b\nfile b seq 2 type b\n";
        assert_eq!(parse_manifest(two_bases).unwrap_err(), "Found duplicate base file information");
    }

    #[test]
    fn adopt_concatenates_once_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("appendonlydir")).unwrap();
        std::fs::write(d.join("appendonlydir/appendonly.aof.manifest"), MANIFEST).unwrap();
        for (name, body) in [
            ("appendonly.aof.2.base.rdb", "BASE;"),
            ("appendonly.aof.1.incr.aof", "OLD;"),
            ("appendonly.aof.3.incr.aof", "I3;"),
            ("appendonly.aof.4.incr.aof", "I4;"),
        ] {
            std::fs::write(d.join("appendonlydir").join(name), body).unwrap();
        }
        let adopted = adopt(d, "appendonlydir", "appendonly.aof").unwrap().expect("adopted");
        assert_eq!((adopted.files, adopted.bytes), (3, 11));
        assert_eq!(std::fs::read_to_string(d.join("appendonly.aof")).unwrap(), "BASE;I3;I4;");
        // forkv's own file exists now: it wins from then on.
        assert!(adopt(d, "appendonlydir", "appendonly.aof").unwrap().is_none());

        // A listed file that is missing: an error, and no file of forkv's.
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir(other.path().join("appendonlydir")).unwrap();
        std::fs::write(other.path().join("appendonlydir/appendonly.aof.manifest"), MANIFEST).unwrap();
        assert!(adopt(other.path(), "appendonlydir", "appendonly.aof").is_err());
        assert!(!other.path().join("appendonly.aof").exists());
        assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 1, "no temp file left");
    }
}
