//! `struct`, Roberto Ierusalimschy's library as Redis bundles it:
//! `pack(fmt, ...)`, `unpack(fmt, data [, pos])` and `size(fmt)` over a
//! format of endianness (`<`, `>`), alignment (`!n`), integers (`b B h H
//! l L T`, `i I` with a size up to 32), `f d`, strings (`s` zero-ended,
//! `cn` fixed) and padding (`x`), with x86-64's sizes and C's casts.

use super::c_api::{
    c_double_to_i64, c_double_to_u64, check_number, check_stack, check_string, lib_function, opt_integer, LibError,
    LibResult, Results,
};
use mlua::{Lua, MultiValue, Table, Value};

/// The largest `i`/`I` size.
const MAX_INT_SIZE: usize = 32;
/// The default `!` alignment: a double's on x86-64.
const MAX_ALIGN: usize = 8;

pub(super) fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let lib = lua.create_table()?;
    lib.raw_set("pack", lib_function(lua, |lua, argv| Ok(pack(lua, &argv)))?)?;
    lib.raw_set("unpack", lib_function(lua, |lua, argv| Ok(unpack(lua, &argv)))?)?;
    lib.raw_set("size", lib_function(lua, |lua, argv| Ok(size(lua, &argv)))?)?;
    globals.raw_set("struct", lib)
}

/// The format's state: endianness and maximum alignment.
struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Header {
        Header { little: cfg!(target_endian = "little"), align: 1 }
    }
}

/// A format string read as C does: up to its first NUL.
struct Format<'a> {
    bytes: &'a [u8],
    pos: usize,
    function: &'static str,
}

impl Format<'_> {
    fn next_option(&mut self) -> Option<u8> {
        let opt = *self.bytes.get(self.pos).filter(|&&b| b != 0)?;
        self.pos += 1;
        Some(opt)
    }

    /// A number following an option, or `default`.
    fn number(&mut self, default: usize) -> LibResult<usize> {
        let mut n: usize = 0;
        let mut digits = 0;
        while let Some(d) = self.bytes.get(self.pos).filter(|b| b.is_ascii_digit()) {
            let d = (d - b'0') as usize;
            if n > i32::MAX as usize / 10 || n * 10 > i32::MAX as usize - d {
                return Err(LibError::at_caller("integral size overflow"));
            }
            n = n * 10 + d;
            self.pos += 1;
            digits += 1;
        }
        Ok(if digits == 0 { default } else { n })
    }

    /// optsize: the size an option takes (0 for a control option).
    fn size_of(&mut self, opt: u8) -> LibResult<usize> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return Err(LibError::at_caller(format!(
                        "integral size {size} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                size
            }
            _ => 0,
        })
    }

    /// controloptions: endianness, alignment, spaces; anything else is an
    /// invalid option.
    fn control(&mut self, opt: u8, h: &mut Header) -> LibResult<()> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let align = self.number(MAX_ALIGN)?;
                if !align.is_power_of_two() {
                    return Err(LibError::at_caller(format!("alignment {align} is not a power of 2")));
                }
                h.align = align;
            }
            _ => {
                let mut msg = format!("bad argument #1 to '{}' (invalid format option '", self.function).into_bytes();
                msg.push(opt);
                msg.extend_from_slice(b"')");
                return Err(LibError::AtCaller(msg));
            }
        }
        Ok(())
    }
}

/// gettoalign: padding before an item of `size` at offset `len`.
fn padding(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    size.wrapping_sub(len & (size - 1)) & (size - 1)
}

/// An integer's low `size` bytes in the header's order; bytes past the
/// eighth are zero, as C shifts its 64-bit value.
fn put_integer(out: &mut Vec<u8>, n: f64, little: bool, size: usize) {
    let mut value = if n < 0.0 { c_double_to_i64(n) as u64 } else { c_double_to_u64(n) };
    let mut bytes = vec![0u8; size];
    for byte in bytes.iter_mut() {
        *byte = value as u8;
        value = value.checked_shr(8).unwrap_or(0);
    }
    if !little {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

/// getinteger: C's 64-bit accumulation (high bytes of wider sizes shift
/// out) and its sign extension, whose shift count x86-64 takes mod 64.
fn get_integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let fold = |acc: u64, &b: &u8| (acc << 8) | b as u64;
    let value = if little { bytes.iter().rev().fold(0, fold) } else { bytes.iter().fold(0, fold) };
    if !signed {
        return value as f64;
    }
    let mask = u64::MAX.wrapping_shl((bytes.len() * 8).wrapping_sub(1) as u32);
    let value = if value & mask != 0 { value | mask } else { value };
    value as i64 as f64
}

fn ordered<const N: usize>(mut bytes: [u8; N], little: bool) -> [u8; N] {
    if little != cfg!(target_endian = "little") {
        bytes.reverse();
    }
    bytes
}

fn pack(lua: &Lua, argv: &MultiValue) -> LibResult<Results> {
    let function = "pack";
    let fmt = check_string(lua, argv, 0, function)?;
    // b_pack pushes a nil after its arguments: a missing value there is
    // "got nil", further on "got no value".
    let mut argv = argv.clone();
    argv.push_back(Value::Nil);
    let argv = &argv;
    let fmt_bytes = fmt.as_bytes();
    let mut fmt = Format { bytes: &fmt_bytes, pos: 0, function };
    let mut h = Header::default();
    let mut arg = 1;
    let mut out = Vec::new();
    while let Some(opt) = fmt.next_option() {
        let mut size = fmt.size_of(opt)?;
        let pad = padding(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(lua, argv, arg, function)?;
                arg += 1;
                put_integer(&mut out, n, h.little, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(lua, argv, arg, function)? as f32;
                arg += 1;
                out.extend_from_slice(&ordered(f.to_ne_bytes(), h.little));
            }
            b'd' => {
                let d = check_number(lua, argv, arg, function)?;
                arg += 1;
                out.extend_from_slice(&ordered(d.to_ne_bytes(), h.little));
            }
            b'c' | b's' => {
                let s = check_string(lua, argv, arg, function)?;
                let s = s.as_bytes();
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // The C code has moved past the argument already.
                    return Err(LibError::argument(arg + 1, function, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => fmt.control(opt, &mut h)?,
        }
    }
    Ok(Results::of(lua, [Value::String(lua.create_string(&out)?)])?)
}

fn unpack(lua: &Lua, argv: &MultiValue) -> LibResult<Results> {
    let function = "unpack";
    let fmt = check_string(lua, argv, 0, function)?;
    let data = check_string(lua, argv, 1, function)?;
    let data = data.as_bytes();
    let start = opt_integer(lua, argv, 2, function, 1)? as usize;
    if start == 0 {
        return Err(LibError::argument(3, function, "offset must be 1 or greater"));
    }
    let fmt_bytes = fmt.as_bytes();
    let mut fmt = Format { bytes: &fmt_bytes, pos: 0, function };
    let mut h = Header::default();
    let mut pos = start - 1;
    let mut values = Results::new(lua)?;
    let too_short = || LibError::argument(2, function, "data string too short");
    while let Some(opt) = fmt.next_option() {
        let mut size = fmt.size_of(opt)?;
        pos = pos.wrapping_add(padding(pos, &h, opt, size));
        if size > data.len() || pos > data.len() - size {
            return Err(too_short());
        }
        check_stack(argv.len() + values.len(), 2, "too many results")?;
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = get_integer(&data[pos..pos + size], h.little, opt.is_ascii_lowercase());
                values.push(Value::Number(n))?;
            }
            b'x' => {}
            b'f' => {
                let bytes: [u8; 4] = data[pos..pos + 4].try_into().unwrap_or_default();
                values.push(Value::Number(f32::from_ne_bytes(ordered(bytes, h.little)) as f64))?;
            }
            b'd' => {
                let bytes: [u8; 8] = data[pos..pos + 8].try_into().unwrap_or_default();
                values.push(Value::Number(f64::from_ne_bytes(ordered(bytes, h.little))))?;
            }
            b'c' => {
                if size == 0 {
                    // `c0`: the length is the previous result.
                    let previous = values.pop()?.and_then(|v| lua.coerce_number(v).ok().flatten());
                    let Some(n) = previous else {
                        return Err(LibError::at_caller("format 'c0' needs a previous size"));
                    };
                    size = c_double_to_u64(n) as usize;
                    if size > data.len() || pos > data.len() - size {
                        return Err(too_short());
                    }
                }
                values.push(Value::String(lua.create_string(&data[pos..pos + size])?))?;
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(LibError::at_caller("unfinished string in data"));
                };
                values.push(Value::String(lua.create_string(&data[pos..pos + end])?))?;
                size = end + 1;
            }
            _ => fmt.control(opt, &mut h)?,
        }
        pos += size;
    }
    values.push(Value::Number((pos + 1) as f64))?;
    Ok(values)
}

fn size(lua: &Lua, argv: &MultiValue) -> LibResult<Results> {
    let function = "size";
    let fmt = check_string(lua, argv, 0, function)?;
    let fmt_bytes = fmt.as_bytes();
    let mut fmt = Format { bytes: &fmt_bytes, pos: 0, function };
    let mut h = Header::default();
    let mut pos = 0usize;
    while let Some(opt) = fmt.next_option() {
        let size = fmt.size_of(opt)?;
        pos += padding(pos, &h, opt, size);
        if opt == b's' {
            return Err(LibError::argument(1, function, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(LibError::argument(1, function, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(opt, &mut h)?;
        }
        pos += size;
    }
    Ok(Results::of(lua, [Value::Number(pos as f64)])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The results of `f` on the values `script` returns, strings as bytes.
    fn call(f: fn(&Lua, &MultiValue) -> LibResult<Results>, script: &str) -> Result<Vec<Result<f64, Vec<u8>>>, String> {
        let lua = Lua::new();
        let argv: MultiValue = lua.load(script).eval().unwrap();
        let values = f(&lua, &argv).map_err(|e| match e {
            LibError::AtCaller(m) | LibError::Bare(m) => String::from_utf8_lossy(&m).into_owned(),
        })?;
        Ok((1..=values.len())
            .map(|i| match values.get(i) {
                Value::Number(n) => Ok(n),
                Value::Integer(i) => Ok(i as f64),
                Value::String(s) => Err(s.as_bytes().to_vec()),
                other => panic!("unexpected {other:?}"),
            })
            .collect())
    }

    fn bytes(v: &[Result<f64, Vec<u8>>]) -> Vec<u8> {
        v[0].clone().unwrap_err()
    }

    #[test]
    fn pack_follows_endianness_alignment_and_sizes() {
        assert_eq!(bytes(&call(pack, "return '>i2', 258").unwrap()), [1, 2]);
        assert_eq!(bytes(&call(pack, "return '<i2', 258").unwrap()), [2, 1]);
        assert_eq!(bytes(&call(pack, "return '<b', -1").unwrap()), [0xff]);
        assert_eq!(bytes(&call(pack, "return '!4 b i4', 1, 2").unwrap()), [1, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(bytes(&call(pack, "return 's c2 x', 'ab', 'cd'").unwrap()), b"ab\0cd\0");
        assert_eq!(bytes(&call(pack, "return '<i10', -1").unwrap()), [255, 255, 255, 255, 255, 255, 255, 255, 0, 0]);
        assert_eq!(bytes(&call(pack, "return '>d', 1.5").unwrap()), 1.5f64.to_be_bytes());
    }

    #[test]
    fn pack_errors_read_as_lua_struct() {
        assert_eq!(call(pack, "return 'c5', 'ab'").unwrap_err(), "bad argument #3 to 'pack' (string too short)");
        assert_eq!(call(pack, "return 'y'").unwrap_err(), "bad argument #1 to 'pack' (invalid format option 'y')");
        assert_eq!(call(pack, "return '!3'").unwrap_err(), "alignment 3 is not a power of 2");
        assert_eq!(call(pack, "return 'i33'").unwrap_err(), "integral size 33 is larger than limit of 32");
        assert_eq!(call(pack, "return 'i'").unwrap_err(), "bad argument #2 to 'pack' (number expected, got nil)");
        assert_eq!(call(pack, "return 'ii'").unwrap_err(), "bad argument #2 to 'pack' (number expected, got nil)");
        assert_eq!(
            call(pack, "return 'i i s', 1").unwrap_err(),
            "bad argument #3 to 'pack' (number expected, got nil)"
        );
        assert_eq!(
            call(pack, "return 'i i s', 1, 2").unwrap_err(),
            "bad argument #4 to 'pack' (string expected, got nil)"
        );
        assert_eq!(
            call(pack, "return 'i i i', 1").unwrap_err(),
            "bad argument #3 to 'pack' (number expected, got nil)"
        );
    }

    #[test]
    fn unpack_reads_back_and_gives_the_next_position() {
        let v = call(unpack, "return '>i2 B c0 s', '\\255\\254\\3xyzabc\\0!'").unwrap();
        assert_eq!(v, [Ok(-2.0), Err(b"xyz".to_vec()), Err(b"abc".to_vec()), Ok(11.0)]);
        assert_eq!(
            call(unpack, "return 'i4', 'abc'").unwrap_err(),
            "bad argument #2 to 'unpack' (data string too short)"
        );
        assert_eq!(call(unpack, "return 's', 'abc'").unwrap_err(), "unfinished string in data");
        assert_eq!(call(unpack, "return 'c0', 'abc'").unwrap_err(), "format 'c0' needs a previous size");
        assert_eq!(
            call(unpack, "return 'b', 'a', 0").unwrap_err(),
            "bad argument #3 to 'unpack' (offset must be 1 or greater)"
        );
    }

    #[test]
    fn size_counts_alignment_and_refuses_variable_items() {
        assert_eq!(call(size, "return '!8 b d'").unwrap(), [Ok(16.0)]);
        assert_eq!(call(size, "return 'b d'").unwrap(), [Ok(9.0)]);
        assert_eq!(call(size, "return 'i3 z'").unwrap(), [Ok(3.0)]);
        assert_eq!(call(size, "return 's'").unwrap_err(), "bad argument #1 to 'size' (option 's' has no fixed size)");
    }
}
