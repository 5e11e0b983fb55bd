//! `forkv check-rdb`: validate a file end to end and summarise its keys.

use super::{type_name, RdbError, RdbReader};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Key statistics for one database.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DbReport {
    pub keys: u64,
    pub expires: u64,
    /// Keys per stored encoding, e.g. `"hash-listpack" => 3`.
    pub types: BTreeMap<&'static str, u64>,
}

/// Summary of a fully read and checksum-verified RDB file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub version: u32,
    pub bytes: u64,
    pub aux: Vec<(String, String)>,
    pub dbs: BTreeMap<usize, DbReport>,
    /// Stored CRC64; `None` before version 5, `Some(0)` when disabled.
    pub checksum: Option<u64>,
    pub empty_keys_skipped: u64,
    pub functions: u64,
}

/// Reads the whole file at `path`, failing on the first problem.
pub fn check_rdb(path: impl AsRef<Path>) -> Result<CheckReport, RdbError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| RdbError::new(0, format!("cannot open {}: {e}", path.display())))?;
    check_stream(BufReader::new(file))
}

/// Reads an RDB stream up to its EOF opcode and checksum, failing on the
/// first problem. The report's `bytes` is where it ended: the command tail
/// of an AOF with an RDB preamble starts there.
pub fn check_stream<R: Read>(input: R) -> Result<CheckReport, RdbError> {
    let mut reader = RdbReader::new(input)?;
    let mut dbs: BTreeMap<usize, DbReport> = BTreeMap::new();
    while let Some(entry) = reader.next_entry()? {
        let db = dbs.entry(entry.db).or_default();
        db.keys += 1;
        db.expires += u64::from(entry.expire_ms.is_some());
        let name = reader.last_type().map_or("unknown", type_name);
        *db.types.entry(name).or_default() += 1;
    }
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok(CheckReport {
        version: reader.version(),
        bytes: reader.offset(),
        aux: reader.aux().iter().map(|(k, v)| (lossy(k), lossy(v))).collect(),
        dbs,
        checksum: reader.checksum(),
        empty_keys_skipped: reader.empty_keys_skipped(),
        functions: reader.functions_read(),
    })
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "RDB version {}, {} bytes", self.version, self.bytes)?;
        for (k, v) in &self.aux {
            writeln!(f, "aux {k} = {v}")?;
        }
        for (db, r) in &self.dbs {
            write!(f, "db {db}: {} keys, {} with expiry (", r.keys, r.expires)?;
            for (i, (t, n)) in r.types.iter().enumerate() {
                write!(f, "{}{t}: {n}", if i == 0 { "" } else { ", " })?;
            }
            writeln!(f, ")")?;
        }
        if self.empty_keys_skipped > 0 {
            writeln!(f, "{} empty keys skipped", self.empty_keys_skipped)?;
        }
        if self.functions > 0 {
            writeln!(f, "{} function libraries", self.functions)?;
        }
        match self.checksum {
            None => writeln!(f, "checksum: none (pre-v5 file)"),
            Some(0) => writeln!(f, "checksum: disabled by writer"),
            Some(c) => writeln!(f, "checksum: {c:#018x} OK"),
        }
    }
}
