//! The libraries Redis adds to its Lua: `bit` (LuaBitOp), `cjson`
//! (encode, decode and null, with lua-cjson's default settings),
//! `cmsgpack` (lua-cmsgpack 0.4.0) and `struct` (Roberto Ierusalimschy's
//! struct library).

mod c_api;
mod cjson;
mod cmsgpack;
mod struct_lib;

use crate::scripting::raising;
use mlua::{Lua, MultiValue, Table, Value};

/// Registers the libraries in `globals`. Their functions raise errors as
/// Lua strings, as Redis's C libraries do (`raising`, `c_api::lib_function`).
pub fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    register_bit(lua, globals)?;
    cmsgpack::register(lua, globals)?;
    struct_lib::register(lua, globals)?;
    cjson::register(lua, globals)
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
}
