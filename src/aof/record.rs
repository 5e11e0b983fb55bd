//! The AOF's record format: each write as a RESP multibulk command, exactly
//! as Redis writes its AOF.

use bytes::BytesMut;

pub fn encode_command(buf: &mut BytesMut, parts: &[&[u8]]) {
    let mut num = crate::util::itoa_buf();
    buf.extend_from_slice(b"*");
    buf.extend_from_slice(crate::util::fmt_i64(parts.len() as i64, &mut num));
    buf.extend_from_slice(b"\r\n");
    for p in parts {
        buf.extend_from_slice(b"$");
        buf.extend_from_slice(crate::util::fmt_i64(p.len() as i64, &mut num));
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(p);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Writes one command record straight to a writer (the rewrite child's
/// buffered file), without building it in memory first.
pub fn write_command<W: std::io::Write>(w: &mut W, parts: &[&[u8]]) -> std::io::Result<()> {
    let mut num = crate::util::itoa_buf();
    w.write_all(b"*")?;
    w.write_all(crate::util::fmt_i64(parts.len() as i64, &mut num))?;
    w.write_all(b"\r\n")?;
    for p in parts {
        w.write_all(b"$")?;
        w.write_all(crate::util::fmt_i64(p.len() as i64, &mut num))?;
        w.write_all(b"\r\n")?;
        w.write_all(p)?;
        w.write_all(b"\r\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_multibulk() {
        let mut b = bytes::BytesMut::new();
        super::encode_command(&mut b, &[b"SET", b"k", b""]);
        assert_eq!(&b[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }
}
