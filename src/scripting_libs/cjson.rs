//! `cjson`, as Redis bundles lua-cjson 2.1.0: `encode`, `decode`, `null`,
//! `new`, and the settings functions (`encode_sparse_array`,
//! `encode_max_depth`, `decode_max_depth`, `encode_number_precision`,
//! `encode_keep_buffer`, `encode_invalid_numbers`,
//! `decode_invalid_numbers`), which last for the interpreter's life.

use super::c_api::{check_integer, check_string, lib_function, LibError, LibResult, Results};
use super::{number_of, type_name};
use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// lua-cjson's json_config_t, with its defaults.
struct Config {
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    number_precision: i32,
    keep_buffer: bool,
    /// 0 refuses NaN and infinities, 1 writes them, 2 writes null.
    encode_invalid_numbers: usize,
    decode_invalid_numbers: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            number_precision: 14,
            keep_buffer: true,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: true,
        }
    }
}

type Shared = Rc<RefCell<Config>>;

pub(super) fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    globals.raw_set("cjson", module(lua)?)
}

/// A cjson module with its own settings (what `cjson.new()` returns).
fn module(lua: &Lua) -> mlua::Result<Table> {
    let cfg: Shared = Rc::default();
    let cjson = lua.create_table()?;
    let c = cfg.clone();
    cjson.raw_set("encode", lib_function(lua, move |lua, argv| Ok(encode(lua, &c.borrow(), &argv)))?)?;
    let c = cfg.clone();
    cjson.raw_set("decode", lib_function(lua, move |lua, argv| Ok(decode(lua, &c.borrow(), &argv)))?)?;
    type Setting = fn(&Lua, &mut Config, &MultiValue) -> LibResult<Results>;
    let settings: [(&'static str, usize, Setting); 7] = [
        ("encode_sparse_array", 3, |lua, cfg, argv| {
            let convert = bool_option(lua, argv, 0, "encode_sparse_array", &mut cfg.sparse_convert)?;
            let ratio = integer_option(lua, argv, 1, "encode_sparse_array", &mut cfg.sparse_ratio, 0, i32::MAX)?;
            let safe = integer_option(lua, argv, 2, "encode_sparse_array", &mut cfg.sparse_safe, 0, i32::MAX)?;
            Ok(Results::of(lua, [convert, ratio, safe])?)
        }),
        ("encode_max_depth", 1, |lua, cfg, argv| {
            integer_option(lua, argv, 0, "encode_max_depth", &mut cfg.encode_max_depth, 1, i32::MAX)
                .and_then(|v| one(lua, v))
        }),
        ("decode_max_depth", 1, |lua, cfg, argv| {
            integer_option(lua, argv, 0, "decode_max_depth", &mut cfg.decode_max_depth, 1, i32::MAX)
                .and_then(|v| one(lua, v))
        }),
        ("encode_number_precision", 1, |lua, cfg, argv| {
            integer_option(lua, argv, 0, "encode_number_precision", &mut cfg.number_precision, 1, 14)
                .and_then(|v| one(lua, v))
        }),
        ("encode_keep_buffer", 1, |lua, cfg, argv| {
            // The buffer is an allocation detail: only the setting is kept.
            bool_option(lua, argv, 0, "encode_keep_buffer", &mut cfg.keep_buffer).and_then(|v| one(lua, v))
        }),
        ("encode_invalid_numbers", 1, |lua, cfg, argv| {
            let setting = &mut cfg.encode_invalid_numbers;
            enum_option(lua, argv, 0, "encode_invalid_numbers", setting, &["off", "on", "null"])
                .and_then(|v| one(lua, v))
        }),
        ("decode_invalid_numbers", 1, |lua, cfg, argv| {
            bool_option(lua, argv, 0, "decode_invalid_numbers", &mut cfg.decode_invalid_numbers)
                .and_then(|v| one(lua, v))
        }),
    ];
    for (name, max_args, setting) in settings {
        let c = cfg.clone();
        let f = lib_function(lua, move |lua, argv| {
            if argv.len() > max_args {
                return Ok(Err(LibError::argument(max_args + 1, name, "found too many arguments")));
            }
            Ok(setting(lua, &mut c.borrow_mut(), &argv))
        })?;
        cjson.raw_set(name, f)?;
    }
    cjson.raw_set("new", lib_function(lua, |lua, _| Ok(one(lua, Value::Table(module(lua)?))))?)?;
    cjson.raw_set("null", null())?;
    cjson.raw_set("_NAME", "cjson")?;
    cjson.raw_set("_VERSION", "2.1.0")?;
    Ok(cjson)
}

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

fn one(lua: &Lua, v: Value) -> LibResult<Results> {
    Ok(Results::of(lua, [v])?)
}

/// json_integer_option: sets `setting` from argument `i` unless nil, in
/// [min, max]; answers the setting.
fn integer_option(
    lua: &Lua,
    argv: &MultiValue,
    i: usize,
    function: &str,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> LibResult<Value> {
    if !matches!(argv.get(i), None | Some(Value::Nil)) {
        let value = check_integer(lua, argv, i, function)? as i32;
        if !(min..=max).contains(&value) {
            // lua-cjson names argument 1 whichever it checks.
            return Err(LibError::argument(1, function, &format!("expected integer between {min} and {max}")));
        }
        *setting = value;
    }
    Ok(Value::Number(*setting as f64))
}

/// json_enum_option: a boolean, or one of `options` by name; answers a
/// boolean for the first two, else the option's name.
fn enum_option(
    lua: &Lua,
    argv: &MultiValue,
    i: usize,
    function: &str,
    setting: &mut usize,
    options: &[&str],
) -> LibResult<Value> {
    match argv.get(i) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *setting = *b as usize,
        Some(_) => {
            let name = check_string(lua, argv, i, function)?;
            let name = name.as_bytes();
            let Some(found) = options.iter().position(|o| o.as_bytes() == &name[..]) else {
                let msg = format!("invalid option '{}'", String::from_utf8_lossy(&name));
                return Err(LibError::argument(i + 1, function, &msg));
            };
            *setting = found;
        }
    }
    Ok(match *setting {
        0 | 1 => Value::Boolean(*setting == 1),
        n => Value::String(lua.create_string(options[n])?),
    })
}

fn bool_option(lua: &Lua, argv: &MultiValue, i: usize, function: &str, setting: &mut bool) -> LibResult<Value> {
    let mut n = *setting as usize;
    let answer = enum_option(lua, argv, i, function, &mut n, &["off", "on"])?;
    *setting = n == 1;
    Ok(answer)
}

fn encode(lua: &Lua, cfg: &Config, argv: &MultiValue) -> LibResult<Results> {
    if argv.len() != 1 {
        return Err(LibError::argument(1, "encode", "expected 1 argument"));
    }
    let mut out = Vec::new();
    encode_value(cfg, &argv[0], &mut out, 0).map_err(LibError::at_caller)?;
    one(lua, Value::String(lua.create_string(&out)?))
}

fn decode(lua: &Lua, cfg: &Config, argv: &MultiValue) -> LibResult<Results> {
    if argv.len() != 1 {
        return Err(LibError::argument(1, "decode", "expected 1 argument"));
    }
    let text = check_string(lua, argv, 0, "decode")?;
    let text = text.as_bytes();
    check_decode_depth(&text, cfg.decode_max_depth).map_err(LibError::at_caller)?;
    match serde_json::from_slice::<serde_json::Value>(&text) {
        Ok(json) => one(lua, json_to_lua(lua, &json)?),
        Err(e) => {
            Err(LibError::at_caller(format!("Expected value but found invalid token at character {}", e.column())))
        }
    }
}

/// lua-cjson's json_decode_descend: an array or object nested deeper than
/// `max` is an error, at the character after its opening bracket.
fn check_decode_depth(text: &[u8], max: i32) -> Result<(), String> {
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    for (i, &b) in text.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(format!("Found too many nested data structures ({depth}) at character {}", i + 1));
                }
            }
            b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    Ok(())
}

/// lua-cjson's number format: `%.<precision>g`; NaN and infinities as the
/// setting says.
fn encode_number(cfg: &Config, n: f64, out: &mut Vec<u8>) -> Result<(), String> {
    if n.is_nan() || n.is_infinite() {
        match cfg.encode_invalid_numbers {
            0 => return Err("Cannot serialise number: must not be NaN or Inf".into()),
            1 if n.is_nan() => {
                out.extend_from_slice(b"nan");
                return Ok(());
            }
            1 => {}
            _ => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    let mut buf = [0u8; 64];
    // SAFETY: one int and one double for the conversion; bounded by buf.len().
    let len = unsafe {
        libc::snprintf(buf.as_mut_ptr() as *mut libc::c_char, buf.len(), c"%.*g".as_ptr(), cfg.number_precision, n)
    };
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
/// None for an object; too sparse an array is an error or an object, as
/// the sparse settings say.
fn array_length(cfg: &Config, t: &Table) -> Result<Option<usize>, String> {
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
    if cfg.sparse_ratio > 0 && max > (items as f64) * cfg.sparse_ratio as f64 && max > cfg.sparse_safe as f64 {
        if !cfg.sparse_convert {
            return Err("Cannot serialise table: excessively sparse array".into());
        }
        return Ok(None);
    }
    Ok(Some(max as usize))
}

fn encode_value(cfg: &Config, v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    match v {
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Integer(_) | Value::Number(_) => encode_number(cfg, number_of(v).unwrap_or(0.0), out)?,
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > cfg.encode_max_depth as usize {
                return Err(format!("Cannot serialise, excessive nesting ({depth})"));
            }
            match array_length(cfg, t)? {
                Some(n) if n > 0 => {
                    out.push(b'[');
                    for i in 1..=n {
                        if i > 1 {
                            out.push(b',');
                        }
                        let item: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                        encode_value(cfg, &item, out, depth)?;
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
                                encode_number(cfg, number_of(&k).unwrap_or(0.0), out)?;
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
                        encode_value(cfg, &item, out, depth)?;
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
        J::Null => null(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(cfg: &Config, script: &str) -> Result<String, String> {
        let lua = Lua::new();
        let v: Value = lua.load(script).eval().unwrap();
        let mut out = Vec::new();
        encode_value(cfg, &v, &mut out, 0).map(|()| String::from_utf8(out).unwrap())
    }

    #[test]
    fn encodes_like_lua_cjson() {
        let cfg = Config::default();
        assert_eq!(encoded(&cfg, "return {1, 'a/b', {x = true}, 0.1, {}}").unwrap(), r#"[1,"a\/b",{"x":true},0.1,{}]"#);
        assert_eq!(
            encoded(&cfg, "return {[1] = 1, [20] = 2}").unwrap_err(),
            "Cannot serialise table: excessively sparse array"
        );
        assert_eq!(encoded(&cfg, "return 0/0").unwrap_err(), "Cannot serialise number: must not be NaN or Inf");
    }

    #[test]
    fn settings_change_the_encoding() {
        let cfg = Config { number_precision: 3, encode_invalid_numbers: 2, encode_max_depth: 1, ..Config::default() };
        assert_eq!(encoded(&cfg, "return {3.14159, 1/0}").unwrap(), "[3.14,null]");
        assert_eq!(encoded(&cfg, "return {{}}").unwrap_err(), "Cannot serialise, excessive nesting (2)");
        let cfg = Config { sparse_convert: true, encode_invalid_numbers: 1, ..Config::default() };
        assert_eq!(encoded(&cfg, "return {[1] = 0/0, [20] = -1/0}").unwrap(), r#"{"1":nan,"20":-inf}"#);
    }

    #[test]
    fn decode_depth_is_counted_outside_strings() {
        assert!(check_decode_depth(br#"{"a": "[[[["}"#, 1).is_ok());
        assert_eq!(
            check_decode_depth(br#"{"obj": {"array": [1,2,3,4]}}"#, 1).unwrap_err(),
            "Found too many nested data structures (2) at character 9"
        );
    }
}
