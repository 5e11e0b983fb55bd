//! RESP request framing: a tokio-util `Decoder` that turns whatever one socket
//! read delivered into one `Batch` of complete commands (multibulk or inline),
//! and an `Encoder` for reply bytes.
//!
//! Arguments are spans into one shared buffer, so a batch costs three
//! allocations however many commands it holds.

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Redis's `proto-max-bulk-len` default.
pub const DEFAULT_MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Redis's `client-query-buffer-limit` default.
pub const DEFAULT_QUERY_BUFFER_LIMIT: usize = 1024 * 1024 * 1024;
const MAX_INLINE_LEN: usize = 64 * 1024;
const MAX_MULTIBULK_LEN: i64 = 1024 * 1024 * 1024;

/// Complete commands decoded from the bytes at hand, in arrival order.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub buf: Bytes,
    spans: Vec<(u32, u32)>,
    argc: Vec<u32>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.argc.len()
    }

    pub fn is_empty(&self) -> bool {
        self.argc.is_empty()
    }

    /// Iterates the commands, each as its argument spans.
    pub fn commands(&self) -> BatchIter<'_> {
        BatchIter { batch: self, cmd: 0, span: 0 }
    }

    /// Builds a batch from owned arguments (tests, AOF loading, internal calls).
    pub fn from_commands<A: AsRef<[u8]>>(cmds: &[Vec<A>]) -> Batch {
        let mut buf = BytesMut::new();
        let mut batch = Batch::default();
        for cmd in cmds {
            for arg in cmd {
                let start = buf.len() as u32;
                buf.extend_from_slice(arg.as_ref());
                batch.spans.push((start, buf.len() as u32));
            }
            batch.argc.push(cmd.len() as u32);
        }
        batch.buf = buf.freeze();
        batch
    }

    /// The commands from index `from` on, as a batch of their own (the rest of
    /// a batch whose client blocked).
    pub fn tail(&self, from: usize) -> Batch {
        let skip: usize = self.argc[..from].iter().map(|&n| n as usize).sum();
        Batch { buf: self.buf.clone(), spans: self.spans[skip..].to_vec(), argc: self.argc[from..].to_vec() }
    }
}

pub struct BatchIter<'a> {
    batch: &'a Batch,
    cmd: usize,
    span: usize,
}

/// One command of a batch: its arguments as slices of the batch buffer.
pub struct CommandRef<'a> {
    buf: &'a [u8],
    spans: &'a [(u32, u32)],
}

impl<'a> CommandRef<'a> {
    pub fn argc(&self) -> usize {
        self.spans.len()
    }

    pub fn arg(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.spans[i];
        &self.buf[s as usize..e as usize]
    }

    /// Fills `out` with the argument slices (reusing its allocation).
    pub fn collect_into(&self, out: &mut Vec<&'a [u8]>) {
        out.clear();
        out.extend(self.spans.iter().map(|&(s, e)| &self.buf[s as usize..e as usize]));
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = CommandRef<'a>;

    fn next(&mut self) -> Option<CommandRef<'a>> {
        let n = *self.batch.argc.get(self.cmd)? as usize;
        let spans = &self.batch.spans[self.span..self.span + n];
        self.cmd += 1;
        self.span += n;
        Some(CommandRef { buf: &self.batch.buf, spans })
    }
}

/// A stream that cannot be parsed; the text follows `-ERR ` and the
/// connection is closed after the reply, as Redis does.
#[derive(Debug)]
pub enum DecodeError {
    Protocol(String),
    Io(std::io::Error),
}

impl From<std::io::Error> for DecodeError {
    fn from(e: std::io::Error) -> Self {
        DecodeError::Io(e)
    }
}

/// An incomplete multibulk command carried over to the next read, so big
/// commands arriving in many reads are not parsed again from the start.
#[derive(Default)]
struct Partial {
    /// Arguments still expected.
    remaining: usize,
    /// Spans already parsed (offsets relative to the buffer start).
    spans: Vec<(u32, u32)>,
}

/// Decodes requests; one instance per connection.
pub struct RespDecoder {
    pub max_bulk_len: usize,
    pub query_buffer_limit: usize,
    partial: Option<Partial>,
    /// Where parsing resumes: bytes before it belong to complete commands or
    /// to the partial command.
    pos: usize,
    /// End of the last complete command (or ignored frame) in the buffer.
    complete_end: usize,
    batch: Batch,
    failed: Option<DecodeError>,
}

impl Default for RespDecoder {
    fn default() -> Self {
        RespDecoder {
            max_bulk_len: DEFAULT_MAX_BULK_LEN,
            query_buffer_limit: DEFAULT_QUERY_BUFFER_LIMIT,
            partial: None,
            pos: 0,
            complete_end: 0,
            batch: Batch::default(),
            failed: None,
        }
    }
}

enum Step {
    Done,
    NeedMore,
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let hay = buf.get(from..)?;
    let mut i = 0;
    while let Some(p) = hay[i..].iter().position(|&b| b == b'\n') {
        let at = i + p;
        if at > 0 && hay[at - 1] == b'\r' {
            return Some(from + at - 1);
        }
        i = at + 1;
    }
    None
}

fn proto(msg: impl Into<String>) -> DecodeError {
    DecodeError::Protocol(format!("Protocol error: {}", msg.into()))
}

fn parse_len(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    crate::util::parse_i64(digits)
}

impl RespDecoder {
    pub fn with_limits(max_bulk_len: usize, query_buffer_limit: usize) -> RespDecoder {
        RespDecoder { max_bulk_len, query_buffer_limit, ..Default::default() }
    }

    /// Parses one command starting at `self.pos` (or continues the partial one).
    fn step(&mut self, buf: &[u8]) -> Result<Step, DecodeError> {
        if self.partial.is_none() {
            let Some(&first) = buf.get(self.pos) else { return Ok(Step::NeedMore) };
            if first != b'*' {
                return self.inline(buf);
            }
            let Some(end) = find_crlf(buf, self.pos) else {
                if buf.len() - self.pos > MAX_INLINE_LEN {
                    return Err(proto("too big mbulk count string"));
                }
                return Ok(Step::NeedMore);
            };
            let count = parse_len(&buf[self.pos + 1..end])
                .filter(|&n| n <= MAX_MULTIBULK_LEN)
                .ok_or_else(|| proto("invalid multibulk length"))?;
            self.pos = end + 2;
            if count <= 0 {
                // Redis silently ignores empty and negative multibulk counts.
                return Ok(Step::Done);
            }
            self.partial = Some(Partial { remaining: count as usize, spans: Vec::new() });
        }
        let partial = self.partial.as_mut().expect("partial command");
        while partial.remaining > 0 {
            let Some(&first) = buf.get(self.pos) else { return Ok(Step::NeedMore) };
            if first != b'$' {
                return Err(proto(format!("expected '$', got '{}'", first as char)));
            }
            let Some(end) = find_crlf(buf, self.pos) else {
                if buf.len() - self.pos > MAX_INLINE_LEN {
                    return Err(proto("too big bulk count string"));
                }
                return Ok(Step::NeedMore);
            };
            let len = parse_len(&buf[self.pos + 1..end])
                .filter(|&n| n >= 0 && n as usize <= self.max_bulk_len)
                .ok_or_else(|| proto("invalid bulk length"))? as usize;
            let start = end + 2;
            if buf.len() < start + len + 2 {
                return Ok(Step::NeedMore);
            }
            if &buf[start + len..start + len + 2] != b"\r\n" {
                return Err(proto("expected CRLF after bulk data"));
            }
            partial.spans.push((start as u32, (start + len) as u32));
            partial.remaining -= 1;
            self.pos = start + len + 2;
        }
        let done = self.partial.take().expect("partial command");
        self.batch.argc.push(done.spans.len() as u32);
        self.batch.spans.extend_from_slice(&done.spans);
        Ok(Step::Done)
    }

    /// An inline command: a line of space-separated words (telnet users).
    fn inline(&mut self, buf: &[u8]) -> Result<Step, DecodeError> {
        let Some(nl) = buf[self.pos..].iter().position(|&b| b == b'\n') else {
            if buf.len() - self.pos > MAX_INLINE_LEN {
                return Err(proto("too big inline request"));
            }
            return Ok(Step::NeedMore);
        };
        let line_end = self.pos + nl;
        let text_end = if nl > 0 && buf[line_end - 1] == b'\r' { line_end - 1 } else { line_end };
        let mut spans = Vec::new();
        let mut i = self.pos;
        while i < text_end {
            while i < text_end && buf[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= text_end {
                break;
            }
            if buf[i] == b'"' || buf[i] == b'\'' {
                let quote = buf[i];
                let start = i + 1;
                let close = buf[start..text_end]
                    .iter()
                    .position(|&b| b == quote)
                    .ok_or_else(|| proto("unbalanced quotes in request"))?;
                spans.push((start as u32, (start + close) as u32));
                i = start + close + 1;
                if i < text_end && !buf[i].is_ascii_whitespace() {
                    return Err(proto("unbalanced quotes in request"));
                }
            } else {
                let start = i;
                while i < text_end && !buf[i].is_ascii_whitespace() {
                    i += 1;
                }
                spans.push((start as u32, i as u32));
            }
        }
        self.pos = line_end + 1;
        if !spans.is_empty() {
            self.batch.argc.push(spans.len() as u32);
            self.batch.spans.extend_from_slice(&spans);
        }
        Ok(Step::Done)
    }
}

impl Decoder for RespDecoder {
    type Item = Batch;
    type Error = DecodeError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Batch>, DecodeError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        loop {
            match self.step(src) {
                Ok(Step::Done) => self.complete_end = self.pos,
                Ok(Step::NeedMore) => break,
                // Commands before the bad frame still run; the error comes next.
                Err(e) if !self.batch.is_empty() => {
                    self.failed = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if src.len() - self.complete_end > self.query_buffer_limit {
            return Err(proto("query buffer limit reached"));
        }
        let consumed = self.complete_end;
        if consumed == 0 {
            return Ok(None);
        }
        let buf = src.split_to(consumed).freeze();
        self.pos -= consumed;
        self.complete_end = 0;
        if let Some(p) = &mut self.partial {
            for span in &mut p.spans {
                span.0 -= consumed as u32;
                span.1 -= consumed as u32;
            }
        }
        if self.batch.argc.is_empty() {
            // Only empty lines or ignored empty multibulks: nothing to run.
            return Ok(None);
        }
        let mut batch = std::mem::take(&mut self.batch);
        batch.buf = buf;
        Ok(Some(batch))
    }
}

/// Writes reply bytes prepared by the keyspace.
pub struct RespEncoder;

impl Encoder<Bytes> for RespEncoder {
    type Error = std::io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        dst.extend_from_slice(&item);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(batch: &Batch) -> Vec<Vec<Vec<u8>>> {
        batch.commands().map(|c| (0..c.argc()).map(|i| c.arg(i).to_vec()).collect()).collect()
    }

    fn decode_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, String> {
        let mut d = RespDecoder::default();
        let mut buf = BytesMut::from(input);
        match d.decode(&mut buf) {
            Ok(Some(b)) => Ok(args(&b)),
            Ok(None) => Ok(vec![]),
            Err(DecodeError::Protocol(m)) => Err(m),
            Err(DecodeError::Io(e)) => Err(e.to_string()),
        }
    }

    #[test]
    fn decodes_a_pipeline_as_one_batch() {
        let cmds = decode_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").unwrap();
        assert_eq!(cmds, vec![vec![b"PING".to_vec()], vec![b"GET".to_vec(), b"k".to_vec()]]);
    }

    #[test]
    fn decodes_inline_commands() {
        let cmds = decode_all(b"SET  k \"a b\"\r\nPING\n\r\n").unwrap();
        assert_eq!(cmds, vec![vec![b"SET".to_vec(), b"k".to_vec(), b"a b".to_vec()], vec![b"PING".to_vec()]]);
    }

    #[test]
    fn keeps_partial_frames_across_reads() {
        let mut d = RespDecoder::default();
        let full = b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n";
        let mut buf = BytesMut::new();
        let mut seen = vec![];
        for &b in full.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(batch) = d.decode(&mut buf).unwrap() {
                seen.extend(args(&batch));
            }
        }
        assert_eq!(seen, vec![vec![b"GET".to_vec(), b"hello".to_vec()], vec![b"PING".to_vec()]]);
        assert!(buf.is_empty());
    }

    #[test]
    fn rejects_bad_frames_with_redis_messages() {
        assert_eq!(decode_all(b"*1\r\n:5\r\n").unwrap_err(), "Protocol error: expected '$', got ':'");
        assert_eq!(decode_all(b"*1\r\n$2147483648\r\n").unwrap_err(), "Protocol error: invalid bulk length");
        assert_eq!(decode_all(b"*x\r\n").unwrap_err(), "Protocol error: invalid multibulk length");
        assert_eq!(decode_all(b"\"abc\r\n").unwrap_err(), "Protocol error: unbalanced quotes in request");
        assert!(decode_all(b"*-5\r\n").unwrap().is_empty());
    }

    #[test]
    fn enforces_size_limits() {
        let long_line = vec![b'a'; MAX_INLINE_LEN + 1];
        assert_eq!(decode_all(&long_line).unwrap_err(), "Protocol error: too big inline request");
        let mut d = RespDecoder::with_limits(10, 1024);
        let mut buf = BytesMut::from(&b"*1\r\n$11\r\n"[..]);
        assert!(
            matches!(d.decode(&mut buf), Err(DecodeError::Protocol(m)) if m == "Protocol error: invalid bulk length")
        );
        let mut d = RespDecoder::with_limits(1 << 20, 16);
        let mut buf = BytesMut::from(&b"*1\r\n$100\r\n0123456789abcdefghij"[..]);
        assert!(
            matches!(d.decode(&mut buf), Err(DecodeError::Protocol(m)) if m == "Protocol error: query buffer limit reached")
        );
    }

    #[test]
    fn huge_declared_counts_wait_for_data() {
        let mut d = RespDecoder::default();
        let mut buf = BytesMut::from(&b"*1048577000\r\n$3\r\nSET\r\n"[..]);
        assert!(d.decode(&mut buf).unwrap().is_none());
        assert!(d.partial.as_ref().is_some_and(|p| p.spans.capacity() < 1024));
    }

    #[test]
    fn batch_tail_and_from_commands() {
        let b = Batch::from_commands(&[vec!["a", "b"], vec!["c"], vec!["d", "e", "f"]]);
        let t = b.tail(1);
        assert_eq!(args(&t), vec![vec![b"c".to_vec()], vec![b"d".to_vec(), b"e".to_vec(), b"f".to_vec()]]);
    }

    proptest::proptest! {
        #[test]
        fn any_split_of_a_stream_decodes_the_same(cut in 1usize..60) {
            let full = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n";
            let mut d = RespDecoder::default();
            let mut buf = BytesMut::new();
            let mut seen = vec![];
            for chunk in full.chunks(cut) {
                buf.extend_from_slice(chunk);
                while let Some(batch) = d.decode(&mut buf).unwrap() {
                    seen.extend(args(&batch));
                }
            }
            proptest::prop_assert_eq!(seen.len(), 3);
            proptest::prop_assert_eq!(&seen[0][2], &b"0123456789".to_vec());
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut d = RespDecoder::default();
            let mut buf = BytesMut::from(&data[..]);
            let _ = d.decode(&mut buf);
        }
    }
}
