//! What Redis's C libraries (cmsgpack, struct) get from Lua 5.1's C API,
//! reproduced for their Rust versions: argument checks with luaL_check*'s
//! messages, C's double-to-integer casts on x86-64, the C stack limit, and
//! errors raised as strings (with the caller's position, as luaL_error).

use super::type_name;
use mlua::{Function, Lua, MultiValue, Table, Value};

/// LUAI_MAXCSTACK: how many slots lua_checkstack lets a C function use.
const MAX_C_STACK: usize = 8000;

/// An error a library function raises.
pub(super) enum LibError {
    /// luaL_error: the message gets the caller's `source:line: ` prefix.
    AtCaller(Vec<u8>),
    /// Raised by the VM from C code (e.g. "table index is nil"): no prefix.
    Bare(Vec<u8>),
}

impl LibError {
    pub(super) fn at_caller(msg: impl Into<Vec<u8>>) -> LibError {
        LibError::AtCaller(msg.into())
    }

    /// luaL_argerror's text.
    pub(super) fn argument(arg: usize, function: &str, msg: &str) -> LibError {
        LibError::at_caller(format!("bad argument #{arg} to '{function}' ({msg})"))
    }
}

impl From<mlua::Error> for LibError {
    fn from(e: mlua::Error) -> LibError {
        LibError::at_caller(e.to_string())
    }
}

pub(super) type LibResult<T> = Result<T, LibError>;

/// Registers `body` as a C function that returns its values or raises
/// its error as a Lua string, so a script's pcall sees the text.
pub(super) fn lib_function<F>(lua: &Lua, body: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, MultiValue) -> mlua::Result<LibResult<Results>> + 'static,
{
    use crate::scripting::LibStatus;
    let f = lua.create_function(move |lua, argv: MultiValue| {
        Ok(match body(lua, argv)? {
            Ok(results) => (LibStatus::Returned as i64, Value::Table(results.table), results.count),
            Err(LibError::AtCaller(msg)) => {
                (LibStatus::RaisedAtCaller as i64, Value::String(lua.create_string(msg)?), 0)
            }
            Err(LibError::Bare(msg)) => (LibStatus::Raised as i64, Value::String(lua.create_string(msg)?), 0),
        })
    })?;
    crate::scripting::raising_many(lua, f)
}

/// A function's results, kept in a Lua table as they come: Rust can hold
/// only so many Lua values at once (as many as a C function's stack).
pub(super) struct Results {
    table: Table,
    count: usize,
}

impl Results {
    pub(super) fn new(lua: &Lua) -> mlua::Result<Results> {
        Ok(Results { table: lua.create_table()?, count: 0 })
    }

    pub(super) fn of(lua: &Lua, values: impl IntoIterator<Item = Value>) -> mlua::Result<Results> {
        let mut results = Results::new(lua)?;
        for v in values {
            results.push(v)?;
        }
        Ok(results)
    }

    pub(super) fn len(&self) -> usize {
        self.count
    }

    pub(super) fn push(&mut self, v: Value) -> mlua::Result<()> {
        self.count += 1;
        self.table.raw_set(self.count, v)
    }

    /// Replaces result `index` (from 1).
    pub(super) fn set(&self, index: usize, v: Value) -> mlua::Result<()> {
        self.table.raw_set(index, v)
    }

    #[cfg(test)]
    pub(super) fn get(&self, index: usize) -> Value {
        self.table.raw_get(index).unwrap()
    }

    pub(super) fn pop(&mut self) -> mlua::Result<Option<Value>> {
        if self.count == 0 {
            return Ok(None);
        }
        let v = self.table.raw_get(self.count)?;
        self.table.raw_set(self.count, Value::Nil)?;
        self.count -= 1;
        Ok(Some(v))
    }
}

/// luaL_checkstack: `top` slots in use, `extra` more wanted.
pub(super) fn check_stack(top: usize, extra: usize, what: &str) -> LibResult<()> {
    if top + extra > MAX_C_STACK {
        return Err(LibError::at_caller(format!("stack overflow ({what})")));
    }
    Ok(())
}

fn expected(argv: &MultiValue, i: usize, function: &str, what: &str) -> LibError {
    let got = argv.get(i).map_or("no value", type_name);
    LibError::argument(i + 1, function, &format!("{what} expected, got {got}"))
}

/// luaL_checklstring on argument `i` (0-based): a string, or a number
/// converted as Lua prints it.
pub(super) fn check_string(lua: &Lua, argv: &MultiValue, i: usize, function: &str) -> LibResult<mlua::LuaString> {
    match argv.get(i) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => {
            lua.coerce_string(v.clone()).ok().flatten().ok_or_else(|| expected(argv, i, function, "string"))
        }
        _ => Err(expected(argv, i, function, "string")),
    }
}

/// luaL_checknumber: a number, or a string holding one.
pub(super) fn check_number(lua: &Lua, argv: &MultiValue, i: usize, function: &str) -> LibResult<f64> {
    match argv.get(i) {
        Some(v @ (Value::Integer(_) | Value::Number(_) | Value::String(_))) => {
            lua.coerce_number(v.clone()).ok().flatten().ok_or_else(|| expected(argv, i, function, "number"))
        }
        _ => Err(expected(argv, i, function, "number")),
    }
}

/// luaL_checkinteger: the number truncated as C casts it.
pub(super) fn check_integer(lua: &Lua, argv: &MultiValue, i: usize, function: &str) -> LibResult<i64> {
    check_number(lua, argv, i, function).map(c_double_to_i64)
}

/// luaL_optinteger: `default` when the argument is absent or nil.
pub(super) fn opt_integer(lua: &Lua, argv: &MultiValue, i: usize, function: &str, default: i64) -> LibResult<i64> {
    match argv.get(i) {
        None | Some(Value::Nil) => Ok(default),
        Some(_) => check_integer(lua, argv, i, function),
    }
}

/// `(int64_t)d` on x86-64 (cvttsd2si): truncation, and i64::MIN for NaN
/// or a value out of range, where Rust's `as` would saturate.
pub(super) fn c_double_to_i64(d: f64) -> i64 {
    if !(-9223372036854775808.0..9223372036854775808.0).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// `(uint64_t)d` as gcc compiles it on x86-64: below 2^63 (or NaN) a
/// signed conversion, above it the conversion of `d - 2^63` with the top
/// bit set.
pub(super) fn c_double_to_u64(d: f64) -> u64 {
    const TWO_63: f64 = 9223372036854775808.0;
    if d.is_nan() || d < TWO_63 {
        c_double_to_i64(d) as u64
    } else {
        (c_double_to_i64(d - TWO_63) as u64) ^ (1 << 63)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_x86_64() {
        assert_eq!(c_double_to_i64(1.9), 1);
        assert_eq!(c_double_to_i64(-1.9), -1);
        assert_eq!(c_double_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_double_to_i64(1e19), i64::MIN);
        assert_eq!(c_double_to_u64(1e19), 10000000000000000000);
        assert_eq!(c_double_to_u64(1e20), 0);
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_u64(f64::NAN), 1 << 63);
    }

    #[test]
    fn stack_limit_is_luai_maxcstack() {
        assert!(check_stack(7999, 1, "x").is_ok());
        assert!(matches!(check_stack(8000, 1, "x"), Err(LibError::AtCaller(m)) if m == b"stack overflow (x)"));
    }
}
