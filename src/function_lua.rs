//! The Lua engine of functions, as Redis's function_lua.c: a library's
//! code runs once, at FUNCTION LOAD, seeing only `redis.register_function`,
//! `redis.log` and the constants; the callbacks it registers are kept by
//! function name in the functions' interpreter, and FCALL runs one with
//! its keys and arguments as two tables.
//!
//! A callback missing from the interpreter (after FUNCTION FLUSH or a
//! RESTORE) is made again by running its library's code, which at load
//! can only register functions, so it registers the same ones.

use crate::engine::{Client, Engine};
use crate::functions::{valid_name, FunctionInfo};
use crate::reply::Reply;
use crate::scripting::{self, error_table, Interpreter, LuaState, Prepared, RunState, ScriptFlags};
use mlua::{Function, HookTriggers, Lua, MultiValue, Table, Value, VmState};
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// A redis.log level above any: nothing is logged.
const LOG_NOTHING: i64 = 4;

/// What a library's load registered: each function with its callback.
type Registered = Vec<(FunctionInfo, Function)>;

/// Runs a library's code `body` (after its shebang) in load mode, with
/// `timeout` if any: what it registered, or the error reply's text
/// without its `ERR ` code. Also returns the lines redis.log wrote.
pub fn compile(body: &[u8], log_level: i64, timeout: Option<Duration>) -> (Result<Registered, String>, Vec<String>) {
    let mut logs = Vec::new();
    let result =
        scripting::with_state(Interpreter::Functions, |st| run_library(st, body, log_level, timeout, &mut logs));
    (result.and_then(|r| r), logs)
}

fn run_library(
    st: &mut LuaState,
    body: &[u8],
    log_level: i64,
    timeout: Option<Duration>,
    logs: &mut Vec<String>,
) -> Result<Registered, String> {
    let chunk = st.lua.load(body).set_name("@user_function").set_mode(mlua::chunk::ChunkMode::Text);
    let chunk = match chunk.into_function() {
        Ok(f) => f,
        Err(mlua::Error::SyntaxError { message, .. }) => return Err(format!("Error compiling function: {message}")),
        Err(e) => return Err(format!("Error compiling function: {e}")),
    };
    let registered = RefCell::new(Vec::new());
    let state = RefCell::new(RunState::logging(log_level));
    let outside_load: Value = st.ctx.raw_get("register_function").map_err(|e| e.to_string())?;
    let started = Instant::now();
    if let Some(limit) = timeout {
        let hook = move |_: &Lua, _: &mlua::debug::Debug| {
            if started.elapsed() > limit {
                return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
            }
            Ok(VmState::Continue)
        };
        st.lua.set_hook(HookTriggers::new().every_nth_instruction(100_000), hook).map_err(|e| e.to_string())?;
    }
    let ran = st.lua.scope(|scope| {
        let register = scope.create_function(|lua, argv: MultiValue| register_function(lua, &registered, argv))?;
        let log = scope.create_function(|lua, argv: MultiValue| scripting::log_call(lua, &state, argv))?;
        st.ctx.raw_set("register_function", register)?;
        st.ctx.raw_set("log", log)?;
        st.loading.call::<()>(true)?;
        let r = st.pcall.call::<(bool, Value)>(chunk);
        st.loading.call::<()>(false)?;
        st.ctx.raw_set("register_function", outside_load)?;
        st.ctx.raw_set("log", Value::Nil)?;
        r
    });
    st.lua.remove_hook();
    logs.extend(state.into_inner().into_logs());
    match ran {
        Ok((true, _)) => Ok(registered.into_inner()),
        Ok((false, err)) => Err(format!("Error registering functions: {}", load_error(&err))),
        Err(e) => Err(format!("Error registering functions: ERR {e}")),
    }
}

/// Redis's luaExtractErrorInformation, for an error raised at load: a
/// string gets the ERR code, an error table gives its `err`.
fn load_error(err: &Value) -> String {
    match err {
        Value::String(s) => format!("ERR {}", s.to_string_lossy()),
        Value::Table(t) => match t.raw_get::<Value>("err") {
            Ok(Value::String(s)) => s.to_string_lossy(),
            _ => "ERR unknown error".into(),
        },
        // The load timeout, raised by the hook.
        Value::Error(e) => match e.as_ref() {
            mlua::Error::RuntimeError(msg) => format!("ERR {msg}"),
            other => format!("ERR {other}"),
        },
        _ => "ERR unknown error".into(),
    }
}

/// A string argument as Redis's luaGetStringSds takes it: numbers too.
fn string_arg(lua: &Lua, v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => {
            lua.coerce_string(v.clone()).ok().flatten().map(|s| s.as_bytes().to_vec())
        }
        _ => None,
    }
}

/// `redis.register_function(name, callback)` or
/// `redis.register_function{function_name=…, callback=…, flags={…}, description=…}`.
fn register_function(lua: &Lua, registered: &RefCell<Registered>, argv: MultiValue) -> mlua::Result<(Value, bool)> {
    let parsed = match argv.len() {
        1 => named_arguments(lua, &argv[0]),
        2 => match (string_arg(lua, &argv[0]), &argv[1]) {
            (None, _) => Err("first argument to redis.register_function must be a string"),
            (Some(_), f) if !matches!(f, Value::Function(_)) => {
                Err("second argument to redis.register_function must be a function")
            }
            (Some(name), f) => Ok((name, None, f.clone(), ScriptFlags::default())),
        },
        _ => Err("wrong number of arguments to redis.register_function"),
    };
    let (name, description, callback, flags) = match parsed {
        Ok(p) => p,
        Err(msg) => return Ok((Value::Table(error_table(lua, msg.as_bytes())?), true)),
    };
    let name = String::from_utf8_lossy(&name).into_owned();
    let mut list = registered.borrow_mut();
    let refused = if !valid_name(&name) {
        Some("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
    } else if list.iter().any(|(f, _)| f.name == name) {
        Some("Function already exists in the library")
    } else {
        None
    };
    if let Some(msg) = refused {
        return Ok((Value::Table(error_table(lua, msg.as_bytes())?), true));
    }
    let Value::Function(callback) = callback else { unreachable!("checked to be a function") };
    list.push((FunctionInfo { name, description, flags }, callback));
    Ok((Value::Nil, false))
}

type Declared = (Vec<u8>, Option<Vec<u8>>, Value, ScriptFlags);

fn named_arguments(lua: &Lua, arg: &Value) -> Result<Declared, &'static str> {
    let Value::Table(t) = arg else {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    };
    let (mut name, mut description, mut callback, mut flags) = (None, None, None, ScriptFlags::default());
    for pair in t.pairs::<Value, Value>() {
        let (key, value) = pair.map_err(|_| "named argument key given to redis.register_function is not a string")?;
        let key = string_arg(lua, &key).ok_or("named argument key given to redis.register_function is not a string")?;
        match key.to_ascii_lowercase().as_slice() {
            b"function_name" => {
                name = Some(
                    string_arg(lua, &value)
                        .ok_or("function_name argument given to redis.register_function must be a string")?,
                )
            }
            b"description" => {
                description = Some(
                    string_arg(lua, &value)
                        .ok_or("description argument given to redis.register_function must be a string")?,
                )
            }
            b"callback" => match value {
                Value::Function(_) => callback = Some(value),
                _ => return Err("callback argument given to redis.register_function must be a function"),
            },
            b"flags" => {
                let Value::Table(list) = value else {
                    return Err(
                        "flags argument to redis.register_function must be a table representing function flags",
                    );
                };
                flags = read_flags(lua, &list).ok_or("unknown flag given")?;
            }
            _ => return Err("unknown argument given to redis.register_function"),
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let callback = callback.ok_or("redis.register_function must get a callback argument")?;
    Ok((name, description, callback, flags))
}

/// The flags list `{'no-writes', …}`, names in any letter case; None on an
/// unknown one.
fn read_flags(lua: &Lua, list: &Table) -> Option<ScriptFlags> {
    let mut flags = ScriptFlags::default();
    for i in 1.. {
        match list.get::<Value>(i).ok()? {
            Value::Nil => break,
            v => {
                let name = string_arg(lua, &v)?;
                if !flags.set(&String::from_utf8_lossy(&name).to_ascii_lowercase()) {
                    return None;
                }
            }
        }
    }
    Some(flags)
}

/// Keeps the callbacks of a library just loaded.
pub fn install(registered: Registered) {
    let _ = scripting::with_state(Interpreter::Functions, |st| {
        for (info, callback) in registered {
            st.callbacks.insert(info.name, callback);
        }
    });
}

/// Drops the callbacks of a library removed.
pub fn forget(functions: &[FunctionInfo]) {
    let _ = scripting::with_state(Interpreter::Functions, |st| {
        for f in functions {
            st.callbacks.remove(&f.name);
        }
    });
}

/// Drops the functions' interpreter with every callback (FUNCTION FLUSH).
pub fn reset() {
    scripting::reset_interpreter(Interpreter::Functions);
}

/// FCALL / FCALL_RO of the function `name` (known to the engine's
/// libraries) with `keys` and `args`, its reply written to `out`.
pub fn call(
    e: &mut Engine,
    caller: &mut Client,
    out: &mut Reply,
    name: &str,
    keys: &[&[u8]],
    args: &[&[u8]],
    read_only_cmd: bool,
) {
    let (Some(library), Some(info)) = (e.functions.library_of(name.as_bytes()), e.functions.function(name.as_bytes()))
    else {
        return out.error("ERR Function not found");
    };
    // As registered: `name` may differ in letter case.
    let (name, flags) = (info.name.clone(), info.flags);
    let name = name.as_str();
    let body = library.body().to_vec();
    let prepared = scripting::with_state(Interpreter::Functions, |st| -> Result<Prepared, String> {
        if !st.callbacks.contains_key(name) {
            // The library logged what it logs when it was loaded.
            let registered = run_library(st, &body, LOG_NOTHING, None, &mut Vec::new())?;
            st.callbacks.extend(registered.into_iter().map(|(info, f)| (info.name, f)));
        }
        let callback = st.callbacks.get(name).cloned().ok_or("Function not found")?;
        let arguments = (|| {
            Ok::<_, mlua::Error>((scripting::string_array(&st.lua, keys)?, scripting::string_array(&st.lua, args)?))
        })()
        .map_err(|e| e.to_string())?;
        Ok(Prepared::new(st, callback, Some(arguments)))
    });
    match prepared.and_then(|r| r) {
        Ok(prepared) => scripting::execute(e, caller, out, prepared, name, flags, read_only_cmd),
        Err(msg) => out.error(&format!("ERR {msg}")),
    }
}
