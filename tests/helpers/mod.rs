//! A raw RESP client for exact reply checks: every reply is parsed into a
//! `Resp` that keeps its type (simple vs bulk, null kinds, RESP3 markers),
//! and error texts are compared byte for byte.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1`
    NullBulk,
    /// `*-1`
    NullArray,
    Array(Vec<Resp>),
    /// RESP3 `_`
    Null,
    Map(Vec<(Resp, Resp)>),
    Set(Vec<Resp>),
    Push(Vec<Resp>),
    Double(String),
    Bool(bool),
    Verbatim(String, Vec<u8>),
}

impl Resp {
    pub fn bulk(s: &str) -> Resp {
        Resp::Bulk(s.as_bytes().to_vec())
    }

    pub fn ok() -> Resp {
        Resp::Simple("OK".into())
    }

    pub fn err(s: &str) -> Resp {
        Resp::Error(s.into())
    }

    pub fn bulks(items: &[&str]) -> Resp {
        Resp::Array(items.iter().map(|s| Resp::bulk(s)).collect())
    }

    pub fn ints(values: &[i64]) -> Resp {
        Resp::Array(values.iter().map(|&v| Resp::Int(v)).collect())
    }

    /// The bytes of a bulk (or the text of a simple string / verbatim).
    pub fn text(&self) -> String {
        match self {
            Resp::Bulk(b) | Resp::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
            Resp::Simple(s) | Resp::Error(s) | Resp::Double(s) => s.clone(),
            Resp::Int(n) => n.to_string(),
            other => panic!("not a string reply: {other:?}"),
        }
    }

    pub fn int(&self) -> i64 {
        match self {
            Resp::Int(n) => *n,
            other => panic!("not an integer reply: {other:?}"),
        }
    }

    pub fn items(&self) -> &[Resp] {
        match self {
            Resp::Array(v) | Resp::Set(v) | Resp::Push(v) => v,
            other => panic!("not an aggregate reply: {other:?}"),
        }
    }
}

fn line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut buf = Vec::new();
    r.read_until(b'\n', &mut buf)?;
    if buf.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    assert!(buf.ends_with(b"\r\n"), "line without CRLF: {:?}", String::from_utf8_lossy(&buf));
    buf.truncate(buf.len() - 2);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn blob(r: &mut impl BufRead, n: usize) -> std::io::Result<Vec<u8>> {
    let mut data = vec![0u8; n + 2];
    r.read_exact(&mut data)?;
    assert_eq!(&data[n..], b"\r\n", "blob without CRLF");
    data.truncate(n);
    Ok(data)
}

/// Reads exactly one reply.
pub fn read_reply(r: &mut impl BufRead) -> std::io::Result<Resp> {
    let l = line(r)?;
    let (kind, rest) = l.split_at(1);
    let num = || rest.parse::<i64>().unwrap_or_else(|_| panic!("bad length line {l:?}"));
    let many = |r: &mut dyn BufRead, n: i64| -> std::io::Result<Vec<Resp>> {
        let mut r = r;
        (0..n).map(|_| read_reply(&mut r)).collect()
    };
    Ok(match kind {
        "+" => Resp::Simple(rest.into()),
        "-" => Resp::Error(rest.into()),
        ":" => Resp::Int(num()),
        "$" if num() < 0 => Resp::NullBulk,
        "$" => Resp::Bulk(blob(r, num() as usize)?),
        "*" if num() < 0 => Resp::NullArray,
        "*" => Resp::Array(many(r, num())?),
        "_" => Resp::Null,
        "%" => {
            let flat = many(r, 2 * num())?;
            Resp::Map(flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
        }
        "~" => Resp::Set(many(r, num())?),
        ">" => Resp::Push(many(r, num())?),
        "," => Resp::Double(rest.into()),
        "#" => Resp::Bool(rest == "t"),
        "=" => {
            let data = blob(r, num() as usize)?;
            Resp::Verbatim(String::from_utf8_lossy(&data[..3]).into_owned(), data[4..].to_vec())
        }
        _ => panic!("unknown reply type in {l:?}"),
    })
}

/// One command as a RESP multibulk, with the encoder the AOF uses.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    forkv::aof::record::encode_command(&mut out, args);
    out.to_vec()
}

/// One connection speaking raw RESP.
pub struct Raw {
    pub reader: BufReader<TcpStream>,
    pub writer: TcpStream,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw { writer: s.try_clone().unwrap(), reader: BufReader::new(s) }
    }

    pub fn send(&mut self, args: &[&str]) {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.writer.write_all(&encode(&args)).unwrap();
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    pub fn read(&mut self) -> Resp {
        read_reply(&mut self.reader).expect("read a reply")
    }

    /// Sends one command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Resp {
        self.send(args);
        self.read()
    }

    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Resp {
        self.writer.write_all(&encode(args)).unwrap();
        self.read()
    }

    /// The text of an error reply (panics on anything else).
    pub fn err(&mut self, args: &[&str]) -> String {
        match self.cmd(args) {
            Resp::Error(e) => e,
            other => panic!("{args:?}: expected an error, got {other:?}"),
        }
    }

    pub fn int(&mut self, args: &[&str]) -> i64 {
        self.cmd(args).int()
    }

    /// The bytes of a bulk reply (panics on anything else).
    pub fn bulk(&mut self, args: &[&str]) -> Vec<u8> {
        match self.cmd(args) {
            Resp::Bulk(b) => b,
            other => panic!("{args:?}: expected a bulk, got {other:?}"),
        }
    }

    /// True once the server closed the connection (EOF within `limit`).
    pub fn is_closed(&mut self, limit: Duration) -> bool {
        closed_within(self.reader.get_mut(), limit)
    }
}

/// Reads and drops whatever arrives; true if EOF (or a reset) comes within `limit`.
pub fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

/// Polls `f` until it returns true or `limit` passes.
/// A server with persistence off and a raw client connected to it.
pub fn start_raw() -> (crate::common::Server, Raw) {
    let server = crate::common::Server::start();
    let raw = Raw::connect(server.port);
    (server, raw)
}

pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// The value of `field` in an INFO text.
pub fn info_field(info: &str, field: &str) -> Option<String> {
    info.lines().find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')).map(|v| v.trim().to_string()))
}

/// INFO's `rdb_changes_since_last_save`: what the server counts as changes.
pub fn changes_since_save(r: &mut Raw) -> i64 {
    let info = r.cmd(&["INFO", "persistence"]).text();
    info_field(&info, "rdb_changes_since_last_save").expect("field").parse().unwrap()
}

/// A CONFIG GET reply as sorted (name, value) pairs.
pub fn config_pairs(reply: Resp) -> Vec<(String, String)> {
    let items = reply.items();
    let mut pairs: Vec<_> = items.chunks(2).map(|p| (p[0].text(), p[1].text())).collect();
    pairs.sort();
    pairs
}
