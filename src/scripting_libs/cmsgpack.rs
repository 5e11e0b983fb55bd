//! `cmsgpack`, as Redis bundles lua-cmsgpack 0.4.0: MessagePack encoding
//! of Lua values with that library's choices (numbers that are integers
//! take the smallest int form, other numbers float32 when exact, strings
//! as str, tables as arrays when their keys are 1..n) and its quirks
//! (nesting past 16 levels packs nil; no bin or ext types on unpack).

use super::c_api::{check_integer, check_stack, check_string, lib_function, opt_integer, LibError, LibResult, Results};
use mlua::{Lua, MultiValue, Table, Value};
use rmp::Marker;

/// LUACMSGPACK_MAX_NESTING: a table this deep packs as nil, which also
/// stops circular references.
const MAX_NESTING: usize = 16;

const TOO_MANY_VALUES: &str = "too many return values at once; use unpack_one or unpack_limit instead.";

pub(super) fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let cmsgpack = lua.create_table()?;
    cmsgpack.raw_set("pack", lib_function(lua, pack)?)?;
    cmsgpack.raw_set(
        "unpack",
        lib_function(lua, |lua, argv| {
            let nargs = argv.len();
            Ok(unpack_full(lua, &argv, "unpack", nargs, 0, 0))
        })?,
    )?;
    cmsgpack.raw_set(
        "unpack_one",
        lib_function(lua, |lua, argv| {
            Ok(opt_integer(lua, &argv, 1, "unpack_one", 0)
                .and_then(|offset| unpack_full(lua, &argv, "unpack_one", 1, 1, offset)))
        })?,
    )?;
    cmsgpack.raw_set(
        "unpack_limit",
        lib_function(lua, |lua, argv| {
            let limit = check_integer(lua, &argv, 1, "unpack_limit");
            let offset = limit.and_then(|limit| Ok((limit, opt_integer(lua, &argv, 2, "unpack_limit", 0)?)));
            Ok(offset.and_then(|(limit, offset)| unpack_full(lua, &argv, "unpack_limit", 1, limit, offset)))
        })?,
    )?;
    cmsgpack.raw_set("_NAME", "cmsgpack")?;
    cmsgpack.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    cmsgpack.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    cmsgpack.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    globals.raw_set("cmsgpack", cmsgpack)
}

/// `cmsgpack.pack(...)`: each argument packed, concatenated.
fn pack(lua: &Lua, argv: MultiValue) -> mlua::Result<LibResult<Results>> {
    if argv.is_empty() {
        return Ok(Err(LibError::argument(0, "pack", "MessagePack pack needs input.")));
    }
    // lua_checkstack(L, nargs) with the arguments already on the stack.
    if check_stack(argv.len(), argv.len(), "").is_err() {
        return Ok(Err(LibError::argument(0, "pack", "Too many arguments for MessagePack pack.")));
    }
    let mut out = Vec::new();
    for v in argv.iter() {
        encode(v, 0, &mut out)?;
    }
    Ok(Ok(Results::of(lua, [Value::String(lua.create_string(&out)?)])?))
}

/// Packs `v`, found `level` tables deep.
pub(super) fn encode(v: &Value, level: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    // Writing to a Vec cannot fail: rmp's results are Ok.
    match v {
        Value::String(s) => {
            let bytes = s.as_bytes();
            let _ = rmp::encode::write_str_len(out, bytes.len() as u32);
            out.extend_from_slice(&bytes);
        }
        Value::Boolean(b) => {
            let _ = rmp::encode::write_bool(out, *b);
        }
        Value::Integer(i) => encode_number(*i as f64, out),
        Value::Number(n) => encode_number(*n, out),
        Value::Table(t) if level < MAX_NESTING => encode_table(t, level, out)?,
        _ => {
            let _ = rmp::encode::write_nil(out);
        }
    }
    Ok(())
}

/// Lua 5.1 numbers are doubles: an integer when `(int64_t)n == n`, else a
/// float32 when that is exact, else a float64.
fn encode_number(n: f64, out: &mut Vec<u8>) {
    let as_int = super::c_api::c_double_to_i64(n);
    if !n.is_infinite() && as_int as f64 == n {
        let _ = rmp::encode::write_sint(out, as_int);
    } else if (n as f32) as f64 == n {
        let _ = rmp::encode::write_f32(out, n as f32);
    } else {
        let _ = rmp::encode::write_f64(out, n);
    }
}

fn encode_table(t: &Table, level: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    // Two walks, as lua-cmsgpack does, rather than holding every pair.
    let (is_array, count) = array_shape(t)?;
    if is_array {
        let len = t.raw_len();
        let _ = rmp::encode::write_array_len(out, len as u32);
        for i in 1..=len {
            encode(&t.get::<Value>(i)?, level + 1, out)?;
        }
    } else {
        let _ = rmp::encode::write_map_len(out, count as u32);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            encode(&k, level + 1, out)?;
            encode(&v, level + 1, out)?;
        }
    }
    Ok(())
}

/// lua-cmsgpack's table_is_an_array (every key a positive number that is
/// a C `int`, the largest equal to the count, so keys are 1..n), and the
/// number of pairs.
fn array_shape(t: &Table) -> mlua::Result<(bool, usize)> {
    let (mut max, mut count, mut is_array) = (0i32, 0usize, true);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        count += 1;
        if !is_array {
            continue;
        }
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => {
                is_array = false;
                continue;
            }
        };
        // (int)n on x86-64 is i32::MIN when out of range.
        let as_int = if n.is_nan() || n >= 2147483648.0 || n <= -2147483649.0 { i32::MIN } else { n as i32 };
        if n <= 0.0 || as_int as f64 != n {
            is_array = false;
            continue;
        }
        max = max.max(as_int);
    }
    Ok((is_array && max as usize == count, count))
}

/// mp_unpack_full: `limit` values (all when both it and `offset` are 0,
/// then without the next offset) from `offset`; `stack` is how many
/// arguments the C function kept on its stack.
fn unpack_full(
    lua: &Lua,
    argv: &MultiValue,
    function: &str,
    stack: usize,
    limit: i64,
    offset: i64,
) -> LibResult<Results> {
    let s = check_string(lua, argv, 0, function)?;
    let bytes = s.as_bytes();
    let len = bytes.len();
    if offset < 0 || limit < 0 {
        // Redis's text says "limit" but prints the input length.
        return Err(LibError::at_caller(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        )));
    }
    if offset as u64 > len as u64 {
        return Err(LibError::at_caller(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let mut decoder = Decoder { lua, bytes: &bytes, pos: offset as usize };
    let mut values = Results::new(lua)?;
    if !decode_all {
        // The next offset comes first, once known.
        values.push(Value::Nil)?;
    }
    let offset_slot = values.len();
    while decoder.pos < len && ((values.len() - offset_slot) as i64) < limit {
        match decoder.value(stack + values.len() - offset_slot) {
            Ok(v) => values.push(v)?,
            Err(Stop::MissingBytes) => return Err(LibError::at_caller("Missing bytes in input.")),
            Err(Stop::BadFormat) => return Err(LibError::at_caller("Bad data format in input.")),
            Err(Stop::Raise(e)) => return Err(e),
            Err(Stop::Lua(e)) => return Err(e.into()),
        }
    }
    if !decode_all {
        check_stack(stack + values.len() - offset_slot, 1, "in function mp_unpack_full")?;
        let next = if decoder.pos == len { -1.0 } else { decoder.pos as f64 };
        values.set(1, Value::Number(next))?;
    }
    Ok(values)
}

/// Why decoding stopped.
enum Stop {
    MissingBytes,
    BadFormat,
    Raise(LibError),
    Lua(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Stop {
        Stop::Lua(e)
    }
}

impl From<LibError> for Stop {
    fn from(e: LibError) -> Stop {
        Stop::Raise(e)
    }
}

/// A cursor over packed bytes; `top` arguments track the C stack height
/// lua-cmsgpack would be at, to fail where it does.
struct Decoder<'a> {
    lua: &'a Lua,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// The next `n` bytes, consumed.
    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let bytes: &'a [u8] = self.bytes;
        if bytes.len() - self.pos < n {
            return Err(Stop::MissingBytes);
        }
        self.pos += n;
        Ok(&bytes[self.pos - n..self.pos])
    }

    /// A big-endian unsigned integer of `n` bytes.
    fn uint(&mut self, n: usize) -> Result<u64, Stop> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }

    /// The value at the cursor, pushed where the C stack has `top` slots.
    /// Tables are filled without recursion: nesting is bounded only by
    /// the emulated C stack, deeper than a thread's stack would allow.
    fn value(&mut self, top: usize) -> Result<Value, Stop> {
        let mut open: Vec<Container> = Vec::new();
        loop {
            let value = match open.pop_if(|c| c.is_complete()) {
                Some(done) => Value::Table(done.table),
                None => {
                    let at = open.last().map_or(top, Container::next_top);
                    match self.item(at)? {
                        Item::Value(v) => v,
                        Item::Table { len, is_array } => {
                            let table = self.lua.create_table()?;
                            if is_array {
                                check_stack(at + 1, 1, "in function mp_decode_to_lua_array")?;
                            }
                            open.push(Container { table, below: at, left: len, is_array, next: 1, key: None });
                            continue;
                        }
                    }
                }
            };
            match open.last_mut() {
                None => return Ok(value),
                Some(parent) => parent.add(value)?,
            }
        }
    }

    /// The item at the cursor, pushed where the C stack has `top` slots: a
    /// value, or the header of a table whose items follow.
    fn item(&mut self, top: usize) -> Result<Item, Stop> {
        if self.pos >= self.bytes.len() {
            return Err(Stop::MissingBytes);
        }
        check_stack(top, 1, TOO_MANY_VALUES)?;
        let marker = Marker::from_u8(self.bytes[self.pos]);
        // lua-cmsgpack checks a header is all there before consuming it.
        let start = self.pos;
        let need = |d: &mut Self, n: usize| -> Result<(), Stop> {
            if d.bytes.len() - start < n {
                return Err(Stop::MissingBytes);
            }
            d.pos = start + 1;
            Ok(())
        };
        let number = |n: f64| Ok(Item::Value(Value::Number(n)));
        let table = |len: usize, is_array: bool| Ok(Item::Table { len, is_array });
        match marker {
            Marker::FixPos(n) => {
                self.pos += 1;
                number(n as f64)
            }
            Marker::FixNeg(n) => {
                self.pos += 1;
                number(n as f64)
            }
            Marker::Null => {
                self.pos += 1;
                Ok(Item::Value(Value::Nil))
            }
            Marker::True | Marker::False => {
                self.pos += 1;
                Ok(Item::Value(Value::Boolean(marker == Marker::True)))
            }
            Marker::U8
            | Marker::U16
            | Marker::U32
            | Marker::U64
            | Marker::I8
            | Marker::I16
            | Marker::I32
            | Marker::I64 => {
                let size = match marker {
                    Marker::U8 | Marker::I8 => 1,
                    Marker::U16 | Marker::I16 => 2,
                    Marker::U32 | Marker::I32 => 4,
                    _ => 8,
                };
                need(self, 1 + size)?;
                let raw = self.uint(size)?;
                let signed = matches!(marker, Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64);
                let shift = 64 - 8 * size as u32;
                // uint 64 goes through lua_pushinteger, so wraps to signed.
                let n = if signed || size == 8 { ((raw << shift) as i64) >> shift } else { raw as i64 };
                number(n as f64)
            }
            Marker::F32 => {
                need(self, 5)?;
                number(f32::from_bits(self.uint(4)? as u32) as f64)
            }
            Marker::F64 => {
                need(self, 9)?;
                number(f64::from_bits(self.uint(8)?))
            }
            Marker::FixStr(len) => {
                need(self, 1 + len as usize)?;
                self.string(len as usize)
            }
            Marker::Str8 | Marker::Str16 => {
                let size = if marker == Marker::Str8 { 1 } else { 2 };
                need(self, 1 + size)?;
                let len = self.uint(size)? as usize;
                self.pos = start;
                need(self, 1 + size + len)?;
                self.pos += size;
                self.string(len)
            }
            Marker::Str32 => {
                need(self, 5)?;
                let len = self.uint(4)? as usize;
                self.string(len)
            }
            Marker::FixArray(len) => {
                self.pos += 1;
                table(len as usize, true)
            }
            Marker::FixMap(len) => {
                self.pos += 1;
                table(len as usize, false)
            }
            Marker::Array16 | Marker::Array32 | Marker::Map16 | Marker::Map32 => {
                let size = if matches!(marker, Marker::Array16 | Marker::Map16) { 2 } else { 4 };
                need(self, 1 + size)?;
                let len = self.uint(size)? as usize;
                table(len, matches!(marker, Marker::Array16 | Marker::Array32))
            }
            _ => Err(Stop::BadFormat),
        }
    }

    fn string(&mut self, len: usize) -> Result<Item, Stop> {
        let bytes = self.take(len)?;
        Ok(Item::Value(Value::String(self.lua.create_string(bytes)?)))
    }
}

enum Item {
    Value(Value),
    Table { len: usize, is_array: bool },
}

/// A table being filled, `left` items (or pairs) to go.
struct Container {
    table: Table,
    /// The C stack height below the table.
    below: usize,
    left: usize,
    is_array: bool,
    /// An array's next index.
    next: usize,
    /// A map's key, read before its value.
    key: Option<Value>,
}

impl Container {
    fn is_complete(&self) -> bool {
        self.left == 0 && self.key.is_none()
    }

    /// The C stack height the next item is pushed at: above the table and
    /// the array index or map key.
    fn next_top(&self) -> usize {
        if !self.is_array && self.key.is_none() {
            self.below + 1
        } else {
            self.below + 2
        }
    }

    fn add(&mut self, value: Value) -> Result<(), Stop> {
        if self.is_array {
            self.table.raw_set(self.next, value)?;
            self.next += 1;
            self.left -= 1;
            return Ok(());
        }
        let Some(key) = self.key.take() else {
            self.key = Some(value);
            return Ok(());
        };
        self.left -= 1;
        match key {
            // lua_settable's errors, raised by the VM without a position.
            Value::Nil => Err(Stop::Raise(LibError::Bare(b"table index is nil".to_vec()))),
            Value::Number(n) if n.is_nan() => Err(Stop::Raise(LibError::Bare(b"table index is NaN".to_vec()))),
            key => Ok(self.table.raw_set(key, value)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(lua: &Lua, script: &str) -> Vec<u8> {
        let v: Value = lua.load(script).eval().unwrap();
        let mut out = Vec::new();
        encode(&v, 0, &mut out).unwrap();
        out
    }

    #[test]
    fn numbers_take_lua_cmsgpack_forms() {
        let lua = Lua::new();
        let cases: &[(&str, &[u8])] = &[
            ("return 0", &[0x00]),
            ("return 127", &[0x7f]),
            ("return 128", &[0xcc, 0x80]),
            ("return 65535", &[0xcd, 0xff, 0xff]),
            ("return 65536", &[0xce, 0, 1, 0, 0]),
            ("return 2^32", &[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
            ("return -1", &[0xff]),
            ("return -33", &[0xd0, 0xdf]),
            ("return -129", &[0xd1, 0xff, 0x7f]),
            ("return -32769", &[0xd2, 0xff, 0xff, 0x7f, 0xff]),
            ("return -1099511627776", &[0xd3, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0]),
            ("return 0.5", &[0xca, 0x3f, 0, 0, 0]),
            ("return 0.1", &[0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]),
            // (int64_t)2^63 is INT64_MIN on x86-64, so it is not an integer.
            ("return 2^63", &[0xca, 0x5f, 0, 0, 0]),
            ("return 1/0", &[0xca, 0x7f, 0x80, 0, 0]),
        ];
        for (script, bytes) in cases {
            assert_eq!(&packed(&lua, script), bytes, "{script}");
        }
    }

    #[test]
    fn tables_are_arrays_only_with_keys_one_to_n() {
        let lua = Lua::new();
        assert_eq!(packed(&lua, "return {}"), [0x90]);
        assert_eq!(packed(&lua, "return {1, 'a'}"), [0x92, 0x01, 0xa1, b'a']);
        assert_eq!(packed(&lua, "return {[2] = 1}"), [0x81, 0x02, 0x01]);
        assert_eq!(packed(&lua, "return {[1.5] = true}")[..2], [0x81, 0xca]);
        let deep = packed(&lua, "local t = {} t[1] = t return t");
        assert_eq!(deep, [[0x91; 16].as_slice(), &[0xc0]].concat());
    }

    #[test]
    fn strings_take_their_length_class() {
        let lua = Lua::new();
        assert_eq!(packed(&lua, "return string.rep('x', 31)")[0], 0xbf);
        assert_eq!(packed(&lua, "return string.rep('x', 32)")[..2], [0xd9, 32]);
        assert_eq!(packed(&lua, "return string.rep('x', 256)")[..3], [0xda, 1, 0]);
        assert_eq!(packed(&lua, "return string.rep('x', 65536)")[..5], [0xdb, 0, 1, 0, 0]);
    }

    fn unpacked(lua: &Lua, bytes: &[u8]) -> LibResult<Results> {
        let argv = MultiValue::from_vec(vec![Value::String(lua.create_string(bytes).unwrap())]);
        unpack_full(lua, &argv, "unpack", 1, 0, 0)
    }

    fn message(r: LibResult<Results>) -> Vec<u8> {
        match r {
            Err(LibError::AtCaller(m) | LibError::Bare(m)) => m,
            Ok(_) => panic!("no error"),
        }
    }

    #[test]
    fn unpack_reads_every_value_and_reports_bad_input() {
        let lua = Lua::new();
        let values =
            unpacked(&lua, &[0x01, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa1, b'z']).ok().unwrap();
        assert_eq!(values.len(), 3);
        assert_eq!(super::super::number_of(&values.get(2)), Some(-1.0), "uint 64 wraps to signed");
        assert_eq!(message(unpacked(&lua, &[0xc1])), b"Bad data format in input.");
        assert_eq!(message(unpacked(&lua, &[0x92, 0x01])), b"Missing bytes in input.");
        assert_eq!(message(unpacked(&lua, &[0xd9, 0x05, b'a'])), b"Missing bytes in input.");
        assert_eq!(message(unpacked(&lua, &[0x81, 0xc0, 0x01])), b"table index is nil");
    }

    #[test]
    fn unpack_fails_where_the_c_stack_would_overflow() {
        let lua = Lua::new();
        assert_eq!(unpacked(&lua, &[1; 7999]).ok().unwrap().len(), 7999);
        assert_eq!(message(unpacked(&lua, &[1; 8000])), format!("stack overflow ({TOO_MANY_VALUES})").as_bytes());
        let nested = |depth: usize| [vec![0x91; depth], vec![0x01]].concat();
        assert!(unpacked(&lua, &nested(3999)).is_ok());
        assert_eq!(message(unpacked(&lua, &nested(4000))), b"stack overflow (in function mp_decode_to_lua_array)");
    }
}
