//! Reading an append-only file back as commands, with Redis's rules for a
//! damaged file: a truncated last command is cut off (when
//! `aof-load-truncated yes`), anything else is corruption reported with the
//! byte offset of the last valid command. A file may start with an RDB
//! preamble (Redis's aof-use-rdb-preamble); its commands follow it.

use crate::rdb::RdbError;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Whether the file starts with an RDB preamble: the `REDIS` magic, the
/// test Redis makes. The file is left at its start.
pub fn starts_with_preamble(file: &mut File) -> std::io::Result<bool> {
    let mut head = [0u8; 5];
    let preamble = match file.read_exact(&mut head) {
        Ok(()) => &head == b"REDIS",
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(0))?;
    Ok(preamble)
}

/// Why the file cannot be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AofError {
    /// The file ends inside a command that starts at `valid_up_to`.
    Truncated {
        valid_up_to: u64,
    },
    /// Bytes that are not a command at `offset`; the file is fine up to `valid_up_to`.
    Corrupt {
        offset: u64,
        valid_up_to: u64,
        reason: String,
    },
    Io(String),
}

impl std::fmt::Display for AofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AofError::Truncated { valid_up_to } => write!(f, "unexpected end of file after byte {valid_up_to}"),
            AofError::Corrupt { offset, reason, .. } => write!(f, "bad file format at byte {offset}: {reason}"),
            AofError::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

/// Streams the commands of an AOF.
pub struct AofReader<R: Read> {
    input: BufReader<R>,
    /// Bytes consumed so far (end of the last complete command).
    offset: u64,
    line: Vec<u8>,
}

/// Limit on a single argument, as proto-max-bulk-len.
const MAX_ARG: usize = 512 * 1024 * 1024;

enum Fail {
    Eof,
    Bad(String),
    Io(String),
}

impl<R: Read + Seek> AofReader<R> {
    /// Reads the commands from byte `offset` of the file on (the tail after
    /// an RDB preamble ending there): every offset reported is the file's.
    pub fn from_offset(mut input: R, offset: u64) -> std::io::Result<AofReader<R>> {
        input.seek(SeekFrom::Start(offset))?;
        let mut reader = AofReader::new(input);
        reader.offset = offset;
        Ok(reader)
    }
}

impl<R: Read> AofReader<R> {
    pub fn new(input: R) -> AofReader<R> {
        AofReader { input: BufReader::with_capacity(256 * 1024, input), offset: 0, line: Vec::new() }
    }

    /// End of the last complete command read, as an offset in the file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn read_line(&mut self, pos: &mut u64) -> Result<(), Fail> {
        self.line.clear();
        let n = self.input.read_until(b'\n', &mut self.line).map_err(|e| Fail::Io(e.to_string()))?;
        *pos += n as u64;
        if n == 0 || !self.line.ends_with(b"\n") {
            return Err(Fail::Eof);
        }
        if !self.line.ends_with(b"\r\n") {
            return Err(Fail::Bad("line not terminated by CRLF".into()));
        }
        self.line.truncate(self.line.len() - 2);
        Ok(())
    }

    fn number(&self, prefix: u8, what: &str) -> Result<usize, Fail> {
        if self.line.first() != Some(&prefix) {
            return Err(Fail::Bad(format!("expected '{}' for {what}", prefix as char)));
        }
        std::str::from_utf8(&self.line[1..])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| Fail::Bad(format!("invalid {what}")))
    }

    /// Reads one command's arguments into `out`, as `spans` into it.
    fn read_command(&mut self, out: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>) -> Result<bool, Fail> {
        out.clear();
        spans.clear();
        let mut pos = self.offset;
        loop {
            if self.input.fill_buf().map_err(|e| Fail::Io(e.to_string()))?.is_empty() {
                return Ok(false);
            }
            self.read_line(&mut pos)?;
            // Redis 7 annotates its AOF with `#` lines (aof-timestamp-enabled):
            // they are not commands and are skipped, as Redis does.
            if self.line.first() != Some(&b'#') {
                break;
            }
            self.offset = pos;
        }
        let argc = self.number(b'*', "argument count")?;
        if argc == 0 {
            return Err(Fail::Bad("empty command".into()));
        }
        for _ in 0..argc {
            self.read_line(&mut pos)?;
            let len = self.number(b'$', "argument length")?;
            if len > MAX_ARG {
                return Err(Fail::Bad("argument too long".into()));
            }
            let start = out.len();
            out.resize(start + len + 2, 0);
            self.input.read_exact(&mut out[start..]).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => Fail::Eof,
                _ => Fail::Io(e.to_string()),
            })?;
            pos += len as u64 + 2;
            if &out[start + len..] != b"\r\n" {
                return Err(Fail::Bad("argument not terminated by CRLF".into()));
            }
            out.truncate(start + len);
            spans.push((start, start + len));
        }
        self.offset = pos;
        Ok(true)
    }

    /// The next command into reusable buffers (no allocation per argument);
    /// `Ok(false)` at a clean end of file.
    pub fn next_command_into(&mut self, out: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>) -> Result<bool, AofError> {
        let start = self.offset;
        self.read_command(out, spans).map_err(|f| match f {
            Fail::Eof => AofError::Truncated { valid_up_to: start },
            Fail::Bad(reason) => AofError::Corrupt { offset: start, valid_up_to: start, reason },
            Fail::Io(e) => AofError::Io(e),
        })
    }

    /// The next command, `Ok(None)` at a clean end of file.
    pub fn next_command(&mut self) -> Result<Option<Vec<Vec<u8>>>, AofError> {
        let (mut out, mut spans) = (Vec::new(), Vec::new());
        let more = self.next_command_into(&mut out, &mut spans)?;
        Ok(more.then(|| spans.iter().map(|&(a, b)| out[a..b].to_vec()).collect()))
    }
}

/// What `forkv check-aof` found.
pub struct CheckReport {
    /// The RDB preamble the file starts with, checked; the commands follow it.
    pub preamble: Option<crate::rdb::CheckReport>,
    pub commands: u64,
    pub size: u64,
    pub error: Option<AofError>,
}

/// Why `forkv check-aof` could not check the commands of a file.
#[derive(Debug)]
pub enum CheckError {
    Io(std::io::Error),
    /// The RDB preamble is damaged: the load would fail, and only the
    /// command tail may be cut, so nothing can fix it.
    Preamble(RdbError),
}

impl From<std::io::Error> for CheckError {
    fn from(e: std::io::Error) -> Self {
        CheckError::Io(e)
    }
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::Io(e) => write!(f, "{e}"),
            CheckError::Preamble(e) => write!(f, "its RDB preamble is damaged: {e}"),
        }
    }
}

/// Reads a whole file, its RDB preamble (as `forkv check-rdb` does) then
/// its commands; with `fix`, truncates damaged commands to the last valid
/// one (as redis-check-aof --fix does). A damaged preamble is never fixed.
pub fn check_file(path: &Path, fix: bool) -> Result<CheckReport, CheckError> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let preamble = if starts_with_preamble(&mut file)? {
        Some(crate::rdb::check_stream(BufReader::new(&file)).map_err(CheckError::Preamble)?)
    } else {
        None
    };
    let mut reader = AofReader::from_offset(file, preamble.as_ref().map_or(0, |p| p.bytes))?;
    let mut commands = 0;
    // A MULTI whose EXEC is missing at the end is cut off whole, as the
    // loader (and redis-check-aof) do.
    let mut multi_start = None;
    let error = loop {
        let start = reader.offset();
        match reader.next_command() {
            Ok(Some(args)) => {
                commands += 1;
                if args[0].eq_ignore_ascii_case(b"multi") {
                    multi_start = Some(start);
                } else if args[0].eq_ignore_ascii_case(b"exec") || args[0].eq_ignore_ascii_case(b"discard") {
                    multi_start = None;
                }
            }
            Ok(None) => break multi_start.map(|at| AofError::Truncated { valid_up_to: at }),
            Err(AofError::Truncated { valid_up_to }) => {
                break Some(AofError::Truncated { valid_up_to: multi_start.unwrap_or(valid_up_to) })
            }
            Err(e) => break Some(e),
        }
    };
    if fix {
        if let Some(AofError::Truncated { valid_up_to } | AofError::Corrupt { valid_up_to, .. }) = &error {
            let f = std::fs::OpenOptions::new().write(true).open(path)?;
            f.set_len(*valid_up_to)?;
            f.sync_all()?;
        }
    }
    Ok(CheckReport { preamble, commands, size, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(data: &[u8]) -> (Vec<Vec<Vec<u8>>>, Option<AofError>) {
        let mut r = AofReader::new(data);
        let mut out = vec![];
        loop {
            match r.next_command() {
                Ok(Some(c)) => out.push(c),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    const TWO: &[u8] = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";

    #[test]
    fn reads_commands() {
        let (cmds, err) = commands(TWO);
        assert!(err.is_none());
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[1][2], b"hello");
    }

    #[test]
    fn skips_redis_annotations() {
        let mut data = b"#TS:1700000000\r\n".to_vec();
        data.extend_from_slice(&TWO[..23]);
        data.extend_from_slice(b"#TS:1700000001\r\n");
        data.extend_from_slice(&TWO[23..]);
        let (cmds, err) = commands(&data);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0][0], b"SELECT");
        assert_eq!(cmds[1][2], b"hello");
        let mut r = AofReader::new(&data[..]);
        r.next_command().unwrap();
        assert_eq!(r.offset(), 16 + 23);
    }

    #[test]
    fn every_truncation_yields_a_clean_prefix() {
        let first_end = 23u64;
        for cut in 0..TWO.len() {
            let (cmds, err) = commands(&TWO[..cut]);
            let expect = if (cut as u64) < first_end { 0 } else { 1 };
            assert_eq!(cmds.len(), expect, "cut at {cut}");
            if cut == 0 || cut as u64 == first_end {
                assert!(err.is_none(), "cut at {cut}: {err:?}");
            } else {
                let valid = if cut as u64 > first_end { first_end } else { 0 };
                assert_eq!(err, Some(AofError::Truncated { valid_up_to: valid }), "cut at {cut}");
            }
        }
    }

    #[test]
    fn corruption_names_the_offset() {
        let mut data = TWO.to_vec();
        data.extend_from_slice(b"garbage\r\n*1\r\n$4\r\nPING\r\n");
        let (cmds, err) = commands(&data);
        assert_eq!(cmds.len(), 2);
        match err {
            Some(AofError::Corrupt { offset, .. }) => assert_eq!(offset, TWO.len() as u64),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn check_fix_truncates_to_last_valid_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.aof");
        let mut data = TWO.to_vec();
        data.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nx");
        std::fs::write(&path, &data).unwrap();
        let report = check_file(&path, true).unwrap();
        assert_eq!(report.commands, 2);
        assert!(matches!(report.error, Some(AofError::Truncated { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), TWO);
        let again = check_file(&path, false).unwrap();
        assert!(again.error.is_none());
    }

    /// An RDB preamble holding one string key.
    fn preamble() -> Vec<u8> {
        let mut w = crate::rdb::RdbWriter::new(Vec::new());
        w.write_header(1_700_000_000, 0, true).unwrap();
        w.select_db(0, 1, 0).unwrap();
        w.write_string(b"base", None, b"value").unwrap();
        w.finish().unwrap().0
    }

    #[test]
    fn check_reads_the_preamble_then_fixes_only_the_tail_at_file_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.aof");
        let whole = [preamble(), TWO.to_vec()].concat();
        std::fs::write(&path, [&whole[..], b"*3\r\n$3\r\nSET\r\n$1\r\nx"].concat()).unwrap();
        let report = check_file(&path, true).unwrap();
        assert_eq!(report.preamble.map(|p| p.bytes), Some(preamble().len() as u64));
        assert_eq!(report.commands, 2);
        assert_eq!(report.error, Some(AofError::Truncated { valid_up_to: whole.len() as u64 }));
        assert_eq!(std::fs::read(&path).unwrap(), whole);
        assert!(check_file(&path, false).unwrap().error.is_none());
    }

    #[test]
    fn a_damaged_preamble_is_reported_and_never_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.aof");
        let mut data = [preamble(), TWO.to_vec()].concat();
        let at = data.windows(5).position(|w| w == b"value").unwrap();
        data[at] = b'V';
        std::fs::write(&path, &data).unwrap();
        match check_file(&path, true) {
            Err(CheckError::Preamble(e)) => assert!(e.msg.contains("checksum"), "{e}"),
            Err(e) => panic!("unexpected {e}"),
            Ok(_) => panic!("a damaged preamble passed"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }

    #[test]
    fn check_fix_drops_a_transaction_without_exec() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.aof");
        for tail in
            [&b"*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"[..], b"*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nIN"]
        {
            let mut data = TWO.to_vec();
            data.extend_from_slice(tail);
            std::fs::write(&path, &data).unwrap();
            let report = check_file(&path, true).unwrap();
            assert_eq!(report.error, Some(AofError::Truncated { valid_up_to: TWO.len() as u64 }));
            assert_eq!(std::fs::read(&path).unwrap(), TWO);
        }
    }
}
