//! Building RESP2/RESP3 replies into one output buffer, so a whole batch of
//! replies leaves in a single write.

use crate::util::{fmt_i64, format_f64, itoa_buf};
use bytes::BytesMut;

/// The reply buffer of one client for one batch, aware of the client's protocol.
pub struct Reply {
    pub buf: BytesMut,
    pub resp3: bool,
    /// The error messages written and not yet counted (INFO errorstats).
    errors: Vec<String>,
    /// Under CLIENT REPLY OFF/SKIP: where pub/sub pushes were written, the
    /// only output such a client still gets, as in Redis.
    pushes: Option<Vec<std::ops::Range<usize>>>,
}

impl Reply {
    pub fn new(resp3: bool) -> Self {
        Reply { buf: BytesMut::with_capacity(256), resp3, errors: Vec::new(), pushes: None }
    }

    /// How many error replies were written and not yet taken.
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// The error messages written since the last call.
    pub fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }

    fn header(&mut self, prefix: u8, n: i64) {
        let mut b = itoa_buf();
        self.buf.extend_from_slice(&[prefix]);
        self.buf.extend_from_slice(fmt_i64(n, &mut b));
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        self.buf.extend_from_slice(b"+");
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error line; `msg` starts with its code (`ERR`, `WRONGTYPE`, …).
    pub fn error(&mut self, msg: &str) {
        self.buf.extend_from_slice(b"-");
        // Newlines would break the protocol; Redis replaces them too.
        for &b in msg.as_bytes() {
            self.buf.extend_from_slice(&[if b == b'\r' || b == b'\n' { b' ' } else { b }]);
        }
        self.buf.extend_from_slice(b"\r\n");
        self.errors.push(msg.to_string());
    }

    /// An error that marks the command failed but is not counted again in
    /// INFO errorstats (a script's error raised by a command it ran, which
    /// was counted when that command replied). Kept as an empty message.
    pub fn error_counted_before(&mut self, msg: &str) {
        self.error(msg);
        if let Some(last) = self.errors.last_mut() {
            last.clear();
        }
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn bulk_i64(&mut self, v: i64) {
        let mut b = itoa_buf();
        let text = fmt_i64(v, &mut b);
        self.bulk(text);
    }

    /// A score or other double: a bulk string in RESP2, `,` in RESP3.
    pub fn double(&mut self, v: f64) {
        self.typed_text(b',', format_f64(v).as_bytes());
    }

    /// A double already formatted (Redis's human long double form): a
    /// bulk string in RESP2, `,` in RESP3.
    pub fn double_text(&mut self, text: &[u8]) {
        self.typed_text(b',', text);
    }

    /// A big number: a bulk string in RESP2, `(` in RESP3.
    pub fn big_number(&mut self, digits: &[u8]) {
        self.typed_text(b'(', digits);
    }

    /// A RESP3 line of type `prefix`, or in RESP2 the same text as a bulk string.
    fn typed_text(&mut self, prefix: u8, text: &[u8]) {
        if self.resp3 {
            self.buf.extend_from_slice(&[prefix]);
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array (BLPOP timeout, EXEC after a failed WATCH).
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    /// A HELP reply: one simple string per line, as Redis's addReplyHelp.
    pub fn help(&mut self, lines: &[&str]) {
        self.array(lines.len());
        for line in lines {
            self.simple(line);
        }
    }

    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs: a flat array of 2n in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set reply (SMEMBERS…): a plain array in RESP2.
    pub fn set(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'~', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }

    /// Starts noting where pub/sub pushes go (see `keep_push`).
    pub fn track_pushes(&mut self) {
        self.pushes = Some(Vec::new());
    }

    /// A pub/sub push (message or subscription change) was written from
    /// `start`: kept when the client's replies are silenced.
    pub fn keep_push(&mut self, start: usize) {
        if let Some(pushes) = &mut self.pushes {
            pushes.push(start..self.buf.len());
        }
    }

    /// Drops the output from `start` except its pushes; stops tracking.
    pub fn silence_from(&mut self, start: usize) {
        let tail = self.buf.split_off(start);
        for range in self.pushes.take().unwrap_or_default().into_iter().filter(|r| r.start >= start) {
            self.buf.extend_from_slice(&tail[range.start - start..range.end - start]);
        }
    }

    /// Stops tracking pushes, keeping all output.
    pub fn untrack_pushes(&mut self) {
        self.pushes = None;
    }

    /// A RESP3 attribute of `n` pairs, annotating the reply after it
    /// (RESP3 only: RESP2 has no way to send one).
    pub fn attribute(&mut self, n: usize) {
        debug_assert!(self.resp3);
        self.header(b'|', n as i64);
    }

    /// A RESP3 push (pub/sub messages); an array in RESP2.
    pub fn push(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'>', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }

    pub fn bool(&mut self, v: bool) {
        if self.resp3 {
            self.buf.extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(v as i64);
        }
    }

    /// Verbatim text (INFO, CLIENT LIST): `=` in RESP3, a bulk in RESP2.
    pub fn verbatim(&mut self, text: &str) {
        if self.resp3 {
            self.header(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    pub fn bulks<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a [u8]>) {
        self.array(items.len());
        for item in items {
            self.bulk(item);
        }
    }

    pub fn take(&mut self) -> BytesMut {
        self.buf.split()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// How many top-level values an encoded reply buffer holds: the number of
/// replies it answers (a failed AOF write answers each with an error).
/// Attributes (`|`) only annotate the value after them.
pub fn count_values(buf: &[u8]) -> usize {
    let mut pos = 0;
    let mut count = 0;
    while pos < buf.len() {
        let Some(next) = skip_value(buf, pos) else { break };
        if buf[pos] != b'|' {
            count += 1;
        }
        pos = next;
    }
    count
}

/// The position after the value (or attribute) starting at `pos`.
fn skip_value(buf: &[u8], pos: usize) -> Option<usize> {
    let line_end = pos + buf.get(pos..)?.windows(2).position(|w| w == b"\r\n")?;
    let after_line = line_end + 2;
    let n = || std::str::from_utf8(&buf[pos + 1..line_end]).ok()?.parse::<i64>().ok();
    match buf[pos] {
        b'$' | b'=' | b'!' => match n()? {
            len if len < 0 => Some(after_line),
            len => Some(after_line + len as usize + 2),
        },
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let per_entry = if matches!(buf[pos], b'%' | b'|') { 2 } else { 1 };
            let mut at = after_line;
            for _ in 0..n()?.max(0) * per_entry {
                at = skip_value(buf, at)?;
            }
            Some(at)
        }
        _ => Some(after_line),
    }
}

#[cfg(test)]
mod tests {
    use super::{count_values, Reply};

    #[test]
    fn encodes_resp2_and_resp3() {
        let mut r = Reply::new(false);
        r.ok();
        r.int(-3);
        r.bulk(b"hi");
        r.null();
        r.map(1);
        r.double(1.5);
        assert_eq!(&r.buf[..], b"+OK\r\n:-3\r\n$2\r\nhi\r\n$-1\r\n*2\r\n$3\r\n1.5\r\n");
        let mut r = Reply::new(true);
        r.null();
        r.map(1);
        r.double(2.0);
        r.bool(true);
        assert_eq!(&r.buf[..], b"_\r\n%1\r\n,2\r\n#t\r\n");
    }

    #[test]
    fn errors_never_break_framing() {
        let mut r = Reply::new(false);
        r.error("ERR bad\r\nthing");
        assert_eq!(&r.buf[..], b"-ERR bad  thing\r\n");
    }

    #[test]
    fn count_values_counts_top_level_replies() {
        let mut r = Reply::new(true);
        r.ok();
        r.array(2);
        r.bulk(b"a\r\nb");
        r.array(1);
        r.int(1);
        r.null();
        r.error("ERR x");
        r.bulk(b"");
        assert_eq!(count_values(&r.buf), 5);
        assert_eq!(count_values(b"%1\r\n+k\r\n*2\r\n:1\r\n:2\r\n$-1\r\n*-1\r\n"), 3);
        assert_eq!(count_values(b"|1\r\n+a\r\n+b\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"), 2);
        assert_eq!(count_values(b""), 0);
        // A cut buffer counts what is complete.
        assert_eq!(count_values(b"+OK\r\n*2\r\n:1\r\n"), 1);
    }
}
