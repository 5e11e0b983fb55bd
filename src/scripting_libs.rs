//! The libraries Redis adds to its Lua: `bit` (LuaBitOp), `cjson`
//! (encode, decode and null, with lua-cjson's default settings),
//! `cmsgpack` (lua-cmsgpack 0.4.0) and `struct` (Roberto Ierusalimschy's
//! struct library).

mod c_api;
mod cmsgpack;
mod struct_lib;

use crate::scripting::raising;
use mlua::{LightUserData, Lua, MultiValue, Table, Value};

/// Registers `bit` and `cjson` in `globals`. Their functions return
/// (value, failed), wrapped by `raising` to raise errors as Redis's C
/// libraries do.
pub fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    register_bit(lua, globals)?;
    cmsgpack::register(lua, globals)?;
    struct_lib::register(lua, globals)?;
    let cjson = lua.create_table()?;
    cjson.raw_set("null", Value::LightUserData(LightUserData(std::ptr::null_mut())))?;
    cjson.raw_set("_NAME", "cjson")?;
    cjson.raw_set("_VERSION", "2.1.0")?;
    let encode = lua.create_function(|lua, argv: MultiValue| {
        if argv.len() != 1 {
            return failure(lua, "bad argument #1 to 'encode' (expected 1 argument)");
        }
        let mut out = Vec::new();
        match encode_value(&argv[0], &mut out, 0) {
            Ok(()) => Ok((Value::String(lua.create_string(&out)?), false)),
            Err(msg) => failure(lua, &msg),
        }
    })?;
    let decode = lua.create_function(|lua, argv: MultiValue| {
        let text = match argv.front() {
            Some(Value::String(s)) if argv.len() == 1 => s.as_bytes().to_vec(),
            Some(v @ (Value::Integer(_) | Value::Number(_))) if argv.len() == 1 => {
                lua.coerce_string(v.clone())?.map(|s| s.as_bytes().to_vec()).unwrap_or_default()
            }
            _ => return failure(lua, "bad argument #1 to 'decode' (string expected)"),
        };
        match serde_json::from_slice::<serde_json::Value>(&text) {
            Ok(json) => Ok((json_to_lua(lua, &json)?, false)),
            Err(e) => failure(lua, &format!("Expected value but found invalid token at character {}", e.column())),
        }
    })?;
    cjson.raw_set("encode", raising(lua, encode)?)?;
    cjson.raw_set("decode", raising(lua, decode)?)?;
    globals.raw_set("cjson", cjson)
}

fn failure(lua: &Lua, msg: &str) -> mlua::Result<(Value, bool)> {
    Ok((Value::String(lua.create_string(msg)?), true))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// lua-cjson's number format: `%.14g`; NaN and infinities are refused.
fn encode_number(n: f64, out: &mut Vec<u8>) -> Result<(), String> {
    if n.is_nan() || n.is_infinite() {
        return Err("Cannot serialise number: must not be NaN or Inf".into());
    }
    let mut buf = [0u8; 64];
    // SAFETY: one double for one conversion; bounded by buf.len().
    let len = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut libc::c_char, buf.len(), c"%.14g".as_ptr(), n) };
    out.extend_from_slice(&buf[..(len.max(0) as usize).min(buf.len() - 1)]);
    Ok(())
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// The array length of a table whose keys are all positive integers, or
/// None for an object; too sparse an array is an error, as in lua-cjson.
fn array_length(t: &Table) -> Result<Option<usize>, String> {
    let (mut max, mut items) = (0f64, 0usize);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        match number_of(&k) {
            Some(k) if k != 0.0 && k.floor() == k && k >= 1.0 => {
                max = max.max(k);
                items += 1;
            }
            _ => return Ok(None),
        }
    }
    if max > (items * 2) as f64 && max > 10.0 {
        return Err("Cannot serialise table: excessively sparse array".into());
    }
    Ok(Some(max as usize))
}

fn encode_value(v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    match v {
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Integer(_) | Value::Number(_) => encode_number(number_of(v).unwrap_or(0.0), out)?,
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > 1000 {
                return Err(format!("Cannot serialise, excessive nesting ({depth})"));
            }
            match array_length(t)? {
                Some(n) if n > 0 => {
                    out.push(b'[');
                    for i in 1..=n {
                        if i > 1 {
                            out.push(b',');
                        }
                        let item: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                        encode_value(&item, out, depth)?;
                    }
                    out.push(b']');
                }
                _ => {
                    out.push(b'{');
                    let mut first = true;
                    for pair in t.pairs::<Value, Value>() {
                        let (k, item) = pair.map_err(|e| e.to_string())?;
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match &k {
                            Value::String(s) => encode_string(&s.as_bytes(), out),
                            Value::Integer(_) | Value::Number(_) => {
                                out.push(b'"');
                                encode_number(number_of(&k).unwrap_or(0.0), out)?;
                                out.push(b'"');
                            }
                            other => {
                                return Err(format!(
                                    "Cannot serialise {}: table key must be a number or string",
                                    type_name(other)
                                ))
                            }
                        }
                        out.push(b':');
                        encode_value(&item, out, depth)?;
                    }
                    out.push(b'}');
                }
            }
        }
        other => return Err(format!("Cannot serialise {}: type not supported", type_name(other))),
    }
    Ok(())
}

fn json_to_lua(lua: &Lua, v: &serde_json::Value) -> mlua::Result<Value> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        J::String(s) => Value::String(lua.create_string(s)?),
        J::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, json_to_lua(lua, item)?)?;
            }
            Value::Table(t)
        }
        J::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, item) in map {
                t.raw_set(lua.create_string(k)?, json_to_lua(lua, item)?)?;
            }
            Value::Table(t)
        }
    })
}

/// LuaBitOp's argument normalisation: the number rounded and wrapped to
/// a signed 32-bit integer.
fn tobit(n: f64) -> i32 {
    let r = n.round_ties_even();
    if !r.is_finite() {
        return 0;
    }
    (r.rem_euclid(4294967296.0) as u64 as u32) as i32
}

type Unary = (&'static str, fn(i32) -> i32);
type Binary = (&'static str, fn(i32, i32) -> i32);
type Shift = (&'static str, fn(i32, u32) -> i32);

fn register_bit(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    fn arg(name: &str, argv: &MultiValue, i: usize) -> Result<i32, String> {
        match argv.get(i).and_then(number_of) {
            Some(n) => Ok(tobit(n)),
            None => Err(format!(
                "bad argument #{} to '{name}' (number expected, got {})",
                i + 1,
                argv.get(i).map_or("no value", type_name)
            )),
        }
    }
    /// A bit function's result as (value, failed).
    fn done(lua: &Lua, r: Result<Value, String>) -> mlua::Result<(Value, bool)> {
        match r {
            Ok(v) => Ok((v, false)),
            Err(msg) => failure(lua, &msg),
        }
    }
    let bit = lua.create_table()?;
    let unary: &[Unary] = &[("tobit", |x| x), ("bnot", |x| !x), ("bswap", |x| x.swap_bytes())];
    for &(name, f) in unary {
        let func = lua.create_function(move |lua, argv: MultiValue| {
            done(lua, arg(name, &argv, 0).map(|x| Value::Number(f(x) as f64)))
        })?;
        bit.raw_set(name, raising(lua, func)?)?;
    }
    let folds: &[Binary] = &[("band", |a, b| a & b), ("bor", |a, b| a | b), ("bxor", |a, b| a ^ b)];
    for &(name, f) in folds {
        let func = lua.create_function(move |lua, argv: MultiValue| {
            let fold = || -> Result<Value, String> {
                let mut acc = arg(name, &argv, 0)?;
                for i in 1..argv.len() {
                    acc = f(acc, arg(name, &argv, i)?);
                }
                Ok(Value::Number(acc as f64))
            };
            done(lua, fold())
        })?;
        bit.raw_set(name, raising(lua, func)?)?;
    }
    let shifts: &[Shift] = &[
        ("lshift", |x, n| ((x as u32) << n) as i32),
        ("rshift", |x, n| ((x as u32) >> n) as i32),
        ("arshift", |x, n| x >> n),
        ("rol", |x, n| (x as u32).rotate_left(n) as i32),
        ("ror", |x, n| (x as u32).rotate_right(n) as i32),
    ];
    for &(name, f) in shifts {
        let func = lua.create_function(move |lua, argv: MultiValue| {
            let shift = || -> Result<Value, String> {
                let x = arg(name, &argv, 0)?;
                let n = arg(name, &argv, 1)? as u32 & 31;
                Ok(Value::Number(f(x, n) as f64))
            };
            done(lua, shift())
        })?;
        bit.raw_set(name, raising(lua, func)?)?;
    }
    let tohex = lua.create_function(|lua, argv: MultiValue| {
        let hex = || -> Result<String, String> {
            let x = arg("tohex", &argv, 0)? as u32;
            let n = if argv.len() > 1 { arg("tohex", &argv, 1)? } else { 8 };
            let (upper, n) = if n < 0 { (true, (-(n as i64)) as usize) } else { (false, n as usize) };
            let n = n.min(8);
            let hex = if upper { format!("{x:08X}") } else { format!("{x:08x}") };
            Ok(hex[8 - n..].to_string())
        };
        match hex() {
            Ok(h) => Ok((Value::String(lua.create_string(h)?), false)),
            Err(msg) => failure(lua, &msg),
        }
    })?;
    bit.raw_set("tohex", raising(lua, tohex)?)?;
    globals.raw_set("bit", bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_normalises_like_luabitop() {
        assert_eq!(tobit(4294967295.0), -1);
        assert_eq!(tobit(2147483648.0), -2147483648);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(1.5), 2);
        assert_eq!(tobit(2.5), 2);
    }

    #[test]
    fn cjson_encodes_like_lua_cjson() {
        let lua = Lua::new();
        let t: Value = lua.load("return {1, 'a/b', {x = true}, 0.1, {}}").eval().unwrap();
        let mut out = Vec::new();
        encode_value(&t, &mut out, 0).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#"[1,"a\/b",{"x":true},0.1,{}]"#);
        let sparse: Value = lua.load("return {[1] = 1, [20] = 2}").eval().unwrap();
        assert_eq!(
            encode_value(&sparse, &mut Vec::new(), 0).unwrap_err(),
            "Cannot serialise table: excessively sparse array"
        );
    }
}
