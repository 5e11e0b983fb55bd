//! Lua scripting (EVAL and friends), as Redis 7.0 does it: one Lua 5.1
//! interpreter, made on first use on the keyspace thread, where scripts are
//! compiled once and kept by the SHA1 of their body; `redis.call` runs
//! commands through the engine's `call`, so they reply, count and propagate
//! as if a client had sent them.
//!
//! The interpreter lives in a thread-local: the `Engine` must stay `Send` to
//! be moved onto its thread, and a Lua state is not. The engine keeps the
//! script bodies (`ScriptCache`), from which a missing compiled function is
//! rebuilt on demand. Functions (FUNCTION LOAD, FCALL) get an interpreter
//! of their own, as in Redis (`crate::function_lua`), made by the same code.

use crate::acl::log::Context;
use crate::engine::table::{self, CommandSpec};
use crate::engine::{Client, Engine};
use crate::reply::Reply;
use crate::script_busy;
use mlua::{Function, Lua, MultiValue, Table, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// Script flags declared in a `#!lua flags=...` first line, or by a
/// function's `redis.register_function`.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub struct ScriptFlags {
    /// No shebang: Redis's backwards compatible EVAL mode.
    pub compat: bool,
    pub no_writes: bool,
    /// May write even when used memory is over `maxmemory`.
    pub allow_oom: bool,
    /// Flags a standalone server only records (FUNCTION LIST shows them).
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

/// The flags' names, in Redis's order (scripts_flags_def).
const FLAG_NAMES: [&str; 5] = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"];

impl ScriptFlags {
    fn slots(&mut self) -> [&mut bool; 5] {
        [
            &mut self.no_writes,
            &mut self.allow_oom,
            &mut self.allow_stale,
            &mut self.no_cluster,
            &mut self.allow_cross_slot_keys,
        ]
    }

    /// Sets the flag named exactly `name`; false for an unknown name.
    pub fn set(&mut self, name: &str) -> bool {
        let Some(i) = FLAG_NAMES.iter().position(|&n| n == name) else { return false };
        *self.slots()[i] = true;
        true
    }

    /// The names of the flags set, in Redis's order.
    pub fn names(mut self) -> Vec<&'static str> {
        let set: Vec<bool> = self.slots().iter().map(|b| **b).collect();
        FLAG_NAMES.iter().zip(set).filter(|(_, on)| *on).map(|(n, _)| *n).collect()
    }
}

pub struct Script {
    pub body: Vec<u8>,
    pub flags: ScriptFlags,
    /// Where the Lua code starts, after any shebang line.
    pub code_start: usize,
}

/// The scripts known by SHA1 (lowercase hex), as SCRIPT LOAD and EVAL leave them.
#[derive(Default)]
pub struct ScriptCache {
    pub scripts: HashMap<String, Script>,
}

impl ScriptCache {
    /// The cached script named by `sha` in any letter case (Redis
    /// lowercases it), with its key as cached.
    pub fn by_sha(&self, sha: &[u8]) -> Option<(&String, &Script)> {
        self.scripts.get_key_value(&String::from_utf8_lossy(sha).to_ascii_lowercase())
    }
}

/// Redis's sha1hex: the lowercase hex SHA1 of `data`.
pub fn sha1hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// Parses the optional shebang line: the flags, and where the Lua code
/// starts (the newline is kept, so line numbers stay the user's).
pub fn shebang(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags { compat: true, ..Default::default() }, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let line = String::from_utf8_lossy(&body[..end]);
    let parts: Vec<&str> = line.split_ascii_whitespace().collect();
    if parts.is_empty() {
        return Err("Invalid engine in script shebang".into());
    }
    if parts[0] != "#!lua" {
        return Err(format!("Unexpected engine in script shebang: {}", parts[0]));
    }
    let mut flags = ScriptFlags::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("Unknown lua shebang option: {part}"));
        };
        for flag in list.split(',') {
            // An empty list (`flags=`) declares no flags, as in Redis.
            if !flags.set(flag) && !list.is_empty() {
                return Err(format!("Unexpected flag in script shebang: {flag}"));
            }
        }
    }
    Ok((flags, end))
}

/// Commands Redis flags `noscript`: refused from redis.call. Container
/// commands are listed as `name|subcommand`, or `name|*` for all but HELP.
const NOSCRIPT_COMMANDS: &[&str] = &[
    "auth",
    "bgrewriteaof",
    "bgsave",
    "blmove",
    "blpop",
    "brpop",
    "brpoplpush",
    "bzpopmax",
    "bzpopmin",
    "debug",
    "discard",
    "eval",
    "eval_ro",
    "evalsha",
    "evalsha_ro",
    "exec",
    "failover",
    "fcall",
    "fcall_ro",
    "hello",
    "monitor",
    "multi",
    "psubscribe",
    "psync",
    "punsubscribe",
    "quit",
    "replconf",
    "replicaof",
    "reset",
    "role",
    "save",
    "shutdown",
    "slaveof",
    "ssubscribe",
    "subscribe",
    "sunsubscribe",
    "sync",
    "unsubscribe",
    "unwatch",
    "wait",
    "watch",
    "acl|*",
    "function|*",
    "module|*",
    "script|debug",
    "script|exists",
    "script|flush",
    "script|kill",
    "script|load",
    "client|caching",
    "client|getname",
    "client|getredir",
    "client|id",
    "client|info",
    "client|kill",
    "client|list",
    "client|no-evict",
    "client|pause",
    "client|reply",
    "client|setname",
    "client|tracking",
    "client|trackinginfo",
    "client|unblock",
    "client|unpause",
    "cluster|reset",
    "config|get",
    "config|resetstat",
    "config|rewrite",
    "config|set",
    "latency|doctor",
    "latency|graph",
    "latency|histogram",
    "latency|history",
    "latency|latest",
    "latency|reset",
];

/// Commands Redis flags `may-replicate`: refused from read-only scripts like writes.
const MAY_REPLICATE: &[&str] = &["publish", "spublish", "pfcount", "eval", "evalsha", "fcall"];

fn denied_in_scripts(spec: &CommandSpec, args: &[&[u8]]) -> bool {
    // By subcommand even where forkv has no container (CLUSTER, whose
    // support is off, still refuses RESET from scripts as Redis does).
    if args.len() > 1 {
        let sub = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
        let all = format!("{}|*", spec.name);
        let one = format!("{}|{}", spec.name, sub);
        if NOSCRIPT_COMMANDS.iter().any(|&n| n == one || (n == all && sub != "help")) {
            return true;
        }
    }
    NOSCRIPT_COMMANDS.contains(&spec.name)
}

/// The interpreter and the handles the engine uses to drive it.
pub(crate) struct LuaState {
    pub(crate) lua: Lua,
    /// The real globals (KEYS and ARGV are set here); scripts see them
    /// through a read-only proxy.
    globals: Table,
    /// Holds the functions bound to the running script (call, setresp,
    /// log) or to the library being loaded (register_function, log).
    pub(crate) ctx: Table,
    /// `run(f [, keys, args])`: `xpcall(f, __redis__err__handler)`, with
    /// a function's two arguments.
    runner: Function,
    /// `loading(on)`: globals show only the library API while on.
    pub(crate) loading: Function,
    /// Lua's own pcall, which leaves error values as they were raised.
    pub(crate) pcall: Function,
    runs: u64,
    /// The functions' interpreter only: each function's callback by name.
    pub(crate) callbacks: HashMap<String, Function>,
}

/// Which of the two interpreters: EVAL's, or the functions'.
#[derive(Clone, Copy)]
pub enum Interpreter {
    Eval,
    Functions,
}

thread_local! {
    static LUA: RefCell<Option<LuaState>> = const { RefCell::new(None) };
    static FUNCTIONS_LUA: RefCell<Option<LuaState>> = const { RefCell::new(None) };
}

impl Interpreter {
    fn slot(self) -> &'static std::thread::LocalKey<RefCell<Option<LuaState>>> {
        match self {
            Interpreter::Eval => &LUA,
            Interpreter::Functions => &FUNCTIONS_LUA,
        }
    }
}

/// Set up once per interpreter: Redis's error handler, the `redis` table,
/// pcall that unwraps error tables, and the read-only globals.
const PRELUDE: &str = r#"
local error_table, c_call, c_pcall, c_setresp, c_log, c_sha1hex, c_register, c_acl_check_cmd = ...
local G = _G
local dbg = debug
G.debug = nil
G.print = nil
G.dofile = nil
G.loadfile = nil
-- Removed by Redis 7.0's sandboxing fixes.
G.getfenv = nil
G.setfenv = nil
G.newproxy = nil
local type, error, tostring, rawget, select, setmetatable, xpcall, rawpcall =
      type, error, tostring, rawget, select, setmetatable, xpcall, pcall
local internal = dbg.getinfo(1, 'S').source

-- The error a script ends with, as a table with the script's source and
-- line, reported from the first frame that is the script's own code.
function __redis__err__handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.source == internal) do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
local handler = __redis__err__handler

local redis = {}
redis.call = c_call
redis.pcall = c_pcall
redis.setresp = c_setresp
redis.log = c_log
redis.sha1hex = c_sha1hex
redis.acl_check_cmd = c_acl_check_cmd
redis.error_reply = function(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then
    return error_table('wrong number or type of arguments')
  end
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  return error_table(e)
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return error_table('wrong number or type of arguments')
  end
  return {ok = s}
end
redis.set_repl = function(...)
  if select('#', ...) ~= 1 then error(error_table('redis.set_repl() requires two arguments.')) end
  local flags = ...
  if type(flags) ~= 'number' or flags < 0 or flags > 3 or flags % 1 ~= 0 then
    error(error_table('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.'))
  end
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.REDIS_VERSION = '7.0.15'
redis.REDIS_VERSION_NUM = 0x0007000f
G.redis = redis

-- Redis 7 raises errors as tables; pcall hands back their text.
local function unwrap(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then e = m end
  end
  return false, e
end
G.pcall = function(...) return unwrap(rawpcall(...)) end

-- Source text only: precompiled chunks could crash the interpreter.
local rawloadstring, concat = loadstring, table.concat
local function text_only(s, name)
  if type(s) == 'string' and s:sub(1, 1) == '\27' then
    return nil, 'binary chunks are not supported'
  end
  return rawloadstring(s, name)
end
G.loadstring = text_only
G.load = function(f, name)
  if type(f) ~= 'function' then return text_only(f, name) end
  local parts = {}
  while true do
    local piece = f()
    if piece == nil or piece == '' then break end
    if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
    parts[#parts + 1] = piece
  end
  return text_only(concat(parts), name)
end

-- Library tables and globals are read-only, as in Redis 7.0.
local function readonly() error('Attempt to modify a readonly table', 2) end

-- What a library's code sees while FUNCTION LOAD runs it: only `redis`,
-- with register_function, log and the constants; anything else is an error.
local library_redis = {register_function = c_register, log = c_log}
for _, k in ipairs({'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING', 'REDIS_VERSION', 'REDIS_VERSION_NUM'}) do
  library_redis[k] = redis[k]
end
-- A read-only table of what `lookup` finds; a missing name is an error.
-- Also returns its metatable.
local function strict(lookup)
  local mt = {
    __index = function(_, k)
      local v = lookup(k)
      if v == nil then
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
      end
      return v
    end,
    __newindex = readonly,
    __metatable = false,
  }
  return setmetatable({}, mt), mt
end
local library_api = {redis = (strict(function(k) return rawget(library_redis, k) end))}
local api = G
-- What getmetatable answers for each read-only table (true: nil), so that
-- setmetatable, rawset and table.insert refuse them too, as Redis's
-- read-only tables do (from C, so without a position).
local protected = setmetatable({}, {__mode = 'k'})
local function refuse() error('Attempt to modify a readonly table', 0) end
local function readonly_view(real)
  local view = setmetatable({}, {__index = real, __newindex = readonly, __metatable = false})
  protected[view] = true
  return view
end
local rawsetmetatable, rawgetmetatable, rawrawset, rawinsert = setmetatable, getmetatable, rawset, table.insert
G.setmetatable = function(t, mt)
  if protected[t] then refuse() end
  return rawsetmetatable(t, mt)
end
G.getmetatable = function(t)
  local mt = protected[t]
  if mt == true then return nil end
  if mt then return mt end
  return rawgetmetatable(t)
end
G.rawset = function(t, ...)
  if protected[t] then refuse() end
  return rawrawset(t, ...)
end
table.insert = function(t, ...)
  if protected[t] then refuse() end
  return rawinsert(t, ...)
end
for _, name in ipairs({'string', 'table', 'math', 'coroutine', 'redis', 'bit', 'cjson', 'cmsgpack', 'struct'}) do
  local real = rawget(G, name)
  if real then
    G[name] = readonly_view(real)
  end
end
local P, globals_mt = strict(function(k) return rawget(api, k) end)
protected[P] = readonly_view(globals_mt)
G._G = P
-- A script runs without arguments; a function gets its keys and args.
local function run(f, keys, args)
  if keys == nil then return xpcall(f, handler) end
  return xpcall(function() return f(keys, args) end, handler)
end
local function loading(on)
  if on then api = library_api else api = G end
end
return P, run, loading, rawpcall
"#;

/// Redis's luaPushErrorBuff: `-CODE msg` or `msg` → `{err = "CODE msg"}`.
pub(crate) fn error_table(lua: &Lua, buf: &[u8]) -> mlua::Result<Table> {
    let (code, msg): (&[u8], &[u8]) = if let Some(rest) = buf.strip_prefix(b"-") {
        match rest.iter().position(|&b| b == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        }
    } else {
        (b"ERR", buf)
    };
    let start = msg.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(msg.len());
    let end = msg.iter().rposition(|&b| b != b'\r' && b != b'\n').map_or(start, |p| p + 1);
    let mut text = code.to_vec();
    text.push(b' ');
    text.extend_from_slice(&msg[start..end.max(start)]);
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&text)?)?;
    Ok(t)
}

fn new_state() -> mlua::Result<LuaState> {
    use mlua::StdLib;
    // SAFETY: the debug library is needed for the error handler, which keeps
    // it in a local and removes the global before any script runs; no C
    // module loading is available (no package library).
    let lua = unsafe {
        Lua::unsafe_new_with(StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG, mlua::LuaOptions::default())
    };
    let globals = lua.globals();
    let ctx = lua.create_table()?;
    let sha = lua.create_function(|lua, argv: MultiValue| {
        if argv.len() != 1 {
            return Ok((Value::Table(error_table(lua, b"wrong number of arguments")?), true));
        }
        let hex = match &argv[0] {
            Value::String(s) => sha1hex(&s.as_bytes()),
            v @ (Value::Integer(_) | Value::Number(_)) => {
                sha1hex(&lua.coerce_string(v.clone())?.map(|s| s.as_bytes().to_vec()).unwrap_or_default())
            }
            _ => sha1hex(b""),
        };
        Ok((Value::String(lua.create_string(hex)?), false))
    })?;
    ctx.raw_set("sha1hex", sha)?;
    crate::scripting_libs::register(&lua, &globals)?;
    lua.set_named_registry_value(CTX_KEY, &ctx)?;
    let outside_load = lua.create_function(|lua, _: MultiValue| {
        let t = error_table(lua, b"redis.register_function can only be called on FUNCTION LOAD command")?;
        Ok((Value::Table(t), true))
    })?;
    ctx.raw_set("register_function", outside_load)?;
    let err = lua.create_function(|lua, s: mlua::LuaString| error_table(lua, &s.as_bytes()))?;
    // SAFETY: the shims only move values on the stack and call ctx's functions.
    let shims = unsafe {
        (
            lua.create_c_function(redis_call)?,
            lua.create_c_function(redis_pcall)?,
            lua.create_c_function(redis_setresp)?,
            lua.create_c_function(redis_log)?,
            lua.create_c_function(redis_sha1hex)?,
            lua.create_c_function(redis_register_function)?,
            lua.create_c_function(redis_acl_check_cmd)?,
        )
    };
    let (proxy, runner, loading, pcall): (Table, Function, Function, Function) =
        lua.load(PRELUDE)
            .set_name("=forkv")
            .call((err, shims.0, shims.1, shims.2, shims.3, shims.4, shims.5, shims.6))?;
    lua.set_globals(proxy)?;
    Ok(LuaState { lua, globals, ctx, runner, loading, pcall, runs: 0, callbacks: HashMap::new() })
}

/// The registry key of the table holding the running script's callbacks.
const CTX_KEY: &str = "forkv_script_ctx";

/// redis.call and friends are C functions, as in Redis, so that an error
/// they raise (a table, for redis.call) is reported at the script's line
/// even from a tail call: each calls the Rust callback `ctx[name]`, which
/// returns (value, failed), and raises the value when it failed.
///
/// # Safety
/// Called by Lua with a valid state, as a C function.
unsafe fn invoke(state: *mut mlua::ffi::lua_State, name: &std::ffi::CStr, raise: bool, results: i32) -> i32 {
    use mlua::ffi;
    // No lua_checkstack: Lua gives a C function LUA_MINSTACK (20) free
    // slots, and lua_checkstack would refuse near 8000 arguments, which
    // Redis's redis.call takes.
    let n = ffi::lua_gettop(state);
    ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, c"forkv_script_ctx".as_ptr());
    ffi::lua_getfield(state, -1, name.as_ptr());
    ffi::lua_remove(state, -2);
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, n, 2);
    finish(state, raise, results)
}

/// After a callback left (value, failed) on the stack: raises the value
/// (a string error gets the caller's position, as luaL_error adds it) or
/// returns it.
///
/// # Safety
/// As `invoke`, with the two values on top of the stack.
unsafe fn finish(state: *mut mlua::ffi::lua_State, raise: bool, results: i32) -> i32 {
    use mlua::ffi;
    let failed = ffi::lua_toboolean(state, -1) != 0;
    ffi::lua_pop(state, 1);
    if failed && raise {
        if ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
            ffi::luaL_where(state, 1);
            ffi::lua_insert(state, -2);
            ffi::lua_concat(state, 2);
        }
        ffi::lua_error(state);
    }
    if failed {
        1
    } else {
        results
    }
}

/// A C closure around the Rust function in its first upvalue, which
/// returns (value, failed): library functions (bit, cjson) whose errors are
/// raised as Lua strings with the script's position.
unsafe extern "C-unwind" fn raising_closure(state: *mut mlua::ffi::lua_State) -> i32 {
    use mlua::ffi;
    // LUA_MINSTACK free slots are enough, as in `invoke`.
    let n = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, n, 2);
    finish(state, true, 1)
}

/// Wraps `f` (returning (value, failed)) as a C function that raises.
pub(crate) fn raising(lua: &Lua, f: Function) -> mlua::Result<Function> {
    // SAFETY: the closure takes the function from the stack as its upvalue.
    unsafe {
        lua.exec_raw::<Function>(f, |state| {
            mlua::ffi::lua_pushcclosure(state, raising_closure, 1);
        })
    }
}

/// How a function wrapped by `raising_many` ended, given as its first result.
#[derive(Clone, Copy)]
pub(crate) enum LibStatus {
    /// Next come a table of the function's results and their count.
    Returned,
    /// The next result is an error message, raised with the caller's position.
    RaisedAtCaller,
    /// The next result is an error message, raised as it is.
    Raised,
}

/// As `raising_closure`, for functions returning any number of values:
/// the Rust function returns a `LibStatus` and its payload. Results come
/// in a table because a Rust callback can return fewer values than the
/// C stack limit a C function has.
unsafe extern "C-unwind" fn raising_many_closure(state: *mut mlua::ffi::lua_State) -> i32 {
    use mlua::ffi;
    // LUA_MINSTACK free slots are enough, as in `invoke`.
    let n = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, n, 3);
    let status = ffi::lua_tointeger(state, 1);
    if status == LibStatus::Returned as ffi::lua_Integer {
        let count = ffi::lua_tointeger(state, 3) as i32;
        ffi::lua_settop(state, 2);
        ffi::lua_remove(state, 1);
        if ffi::lua_checkstack(state, count) == 0 {
            ffi::luaL_error(state, c"too many results".as_ptr());
        }
        for i in 1..=count {
            ffi::lua_rawgeti(state, 1, i as _);
        }
        return count;
    }
    ffi::lua_settop(state, 2);
    if status == LibStatus::RaisedAtCaller as ffi::lua_Integer {
        ffi::luaL_where(state, 1);
        ffi::lua_insert(state, -2);
        ffi::lua_concat(state, 2);
    }
    ffi::lua_error(state)
}

/// Wraps `f` (returning a `LibStatus` and its payload) as a C function.
pub(crate) fn raising_many(lua: &Lua, f: Function) -> mlua::Result<Function> {
    // SAFETY: the closure takes the function from the stack as its upvalue.
    unsafe {
        lua.exec_raw::<Function>(f, |state| {
            mlua::ffi::lua_pushcclosure(state, raising_many_closure, 1);
        })
    }
}

unsafe extern "C-unwind" fn redis_call(state: *mut mlua::ffi::lua_State) -> i32 {
    invoke(state, c"call", true, 1)
}

unsafe extern "C-unwind" fn redis_pcall(state: *mut mlua::ffi::lua_State) -> i32 {
    invoke(state, c"call", false, 1)
}

unsafe extern "C-unwind" fn redis_setresp(state: *mut mlua::ffi::lua_State) -> i32 {
    invoke(state, c"setresp", true, 0)
}

unsafe extern "C-unwind" fn redis_log(state: *mut mlua::ffi::lua_State) -> i32 {
    invoke(state, c"log", true, 0)
}

unsafe extern "C-unwind" fn redis_sha1hex(state: *mut mlua::ffi::lua_State) -> i32 {
    invoke(state, c"sha1hex", true, 1)
}

unsafe extern "C-unwind" fn redis_acl_check_cmd(state: *mut mlua::ffi::lua_State) -> i32 {
    invoke(state, c"acl_check_cmd", true, 1)
}

unsafe extern "C-unwind" fn redis_register_function(state: *mut mlua::ffi::lua_State) -> i32 {
    invoke(state, c"register_function", true, 0)
}

/// Lua numbers as command arguments: `%.17g`, as Redis formats them.
fn number_arg(v: &Value) -> Vec<u8> {
    let n = match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        _ => 0.0,
    };
    let mut buf = [0u8; 64];
    // SAFETY: the format takes one double; snprintf writes at most buf.len() bytes.
    let len = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut libc::c_char, buf.len(), c"%.17g".as_ptr(), n) };
    buf[..(len.max(0) as usize).min(buf.len() - 1)].to_vec()
}

/// Drops an interpreter (SCRIPT FLUSH, FUNCTION FLUSH): the next use
/// starts a new one.
pub fn reset_interpreter(which: Interpreter) {
    which.slot().with(|l| l.borrow_mut().take());
}

/// Compiles `body` (its Lua part after any shebang) as function `f_<sha>`
/// in the registry unless it is there; Err is the reply text.
fn ensure_compiled(st: &LuaState, sha: &str, body: &[u8], code_start: usize) -> Result<Function, String> {
    let name = format!("f_{sha}");
    if let Ok(f) = st.lua.named_registry_value::<Function>(&name) {
        return Ok(f);
    }
    let chunk = st.lua.load(&body[code_start..]).set_name("@user_script").set_mode(mlua::chunk::ChunkMode::Text);
    match chunk.into_function() {
        Ok(f) => {
            st.lua.set_named_registry_value(&name, &f).map_err(|e| format!("ERR {e}"))?;
            Ok(f)
        }
        Err(mlua::Error::SyntaxError { message, .. }) => {
            Err(format!("ERR Error compiling script (new function): {message}"))
        }
        Err(e) => Err(format!("ERR Error compiling script (new function): {e}")),
    }
}

pub(crate) fn with_state<R>(which: Interpreter, f: impl FnOnce(&mut LuaState) -> R) -> Result<R, String> {
    which.slot().with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(new_state().map_err(|e| format!("ERR Lua interpreter: {e}"))?);
        }
        Ok(f(slot.as_mut().expect("made above")))
    })
}

/// SCRIPT LOAD / EVAL's first run: the script's SHA once it compiled.
pub fn create_function(e: &mut Engine, body: &[u8]) -> Result<String, String> {
    let sha = sha1hex(body);
    if e.scripts.scripts.contains_key(&sha) {
        // Compiled lazily if the interpreter was made anew.
        return Ok(sha);
    }
    let (flags, start) = shebang(body).map_err(|m| format!("ERR {m}"))?;
    with_state(Interpreter::Eval, |st| ensure_compiled(st, &sha, body, start))??;
    e.scripts.scripts.insert(sha.clone(), Script { body: body.to_vec(), flags, code_start: start });
    Ok(sha)
}

/// What a running script's callbacks share.
pub(crate) struct RunState {
    resp3: bool,
    read_only: bool,
    /// A write ran: later writes are not refused for persistence errors
    /// or memory, and SCRIPT KILL no longer stops the script.
    wrote: Rc<Cell<bool>>,
    /// Over `maxmemory` when the script started, and it declared no
    /// `allow-oom`: its first command that may grow memory is refused.
    deny_oom: bool,
    logs: Vec<String>,
    /// The lowest redis.log level written (the `loglevel` setting).
    log_level: i64,
}

impl RunState {
    /// The state of a library's load, where only redis.log is callable.
    pub(crate) fn logging(log_level: i64) -> RunState {
        RunState { resp3: false, read_only: true, wrote: Rc::default(), deny_oom: false, logs: Vec::new(), log_level }
    }

    pub(crate) fn into_logs(self) -> Vec<String> {
        self.logs
    }
}

/// The flags declared by what the script command `args` (EVAL*, EVALSHA*,
/// FCALL*) runs; None for a script without a shebang, an unknown one, or
/// another command: Redis then goes by the command's own flags.
pub fn declared_flags(e: &Engine, args: &[&[u8]]) -> Option<ScriptFlags> {
    let (command, target) = (args.first()?, args.get(1)?);
    let is = |names: [&str; 2]| names.iter().any(|n| command.eq_ignore_ascii_case(n.as_bytes()));
    let flags = if is(["evalsha", "evalsha_ro"]) {
        e.scripts.by_sha(target).map(|(_, s)| s.flags)
    } else if is(["eval", "eval_ro"]) {
        shebang(target).ok().map(|(flags, _)| flags)
    } else if is(["fcall", "fcall_ro"]) {
        e.functions.function(target).map(|f| f.flags)
    } else {
        None
    };
    flags.filter(|f| !f.compat)
}

/// Whether the script command `args` runs one that declared flags but
/// neither `no-writes` nor `allow-oom`: Redis counts such a call as one
/// that may grow memory, refused while over `maxmemory`.
pub fn may_grow_memory(e: &Engine, args: &[&[u8]]) -> bool {
    declared_flags(e, args).is_some_and(|f| !f.no_writes && !f.allow_oom)
}

/// Runs the script `sha` (known to the cache) with `keys` and `args`,
/// writing its reply to `out`.
pub fn run(
    e: &mut Engine,
    caller: &mut Client,
    out: &mut Reply,
    sha: &str,
    keys: &[&[u8]],
    args: &[&[u8]],
    read_only_cmd: bool,
) {
    let Some(script) = e.scripts.scripts.get(sha) else {
        return out.error(NOSCRIPT);
    };
    let flags = script.flags;
    let prepared = with_state(Interpreter::Eval, |st| -> Result<Prepared, String> {
        let f = ensure_compiled(st, sha, &script.body, script.code_start)?;
        let set_array = |name: &str, items: &[&[u8]]| -> mlua::Result<()> {
            st.globals.raw_set(name, string_array(&st.lua, items)?)
        };
        set_array("KEYS", keys).and_then(|_| set_array("ARGV", args)).map_err(|err| format!("ERR {err}"))?;
        Ok(Prepared::new(st, f, None))
    });
    match prepared.and_then(|r| r) {
        Ok(prepared) => execute(e, caller, out, prepared, sha, flags, read_only_cmd),
        Err(msg) => out.error(&msg),
    }
}

/// A Lua array of `items`, as KEYS and ARGV are made.
pub(crate) fn string_array(lua: &Lua, items: &[&[u8]]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        t.raw_seti(i + 1, lua.create_string(item)?)?;
    }
    Ok(t)
}

/// Redis's scriptPrepareForRun checks of a script's (or function's)
/// declared flags: the error that refuses to run it.
fn refused_by_flags(e: &Engine, flags: ScriptFlags, read_only_cmd: bool) -> Result<(), String> {
    if flags.compat || flags.no_writes {
        return Ok(());
    }
    if let Some(err) = e.writes_refused() {
        return Err(if err.contains("AOF") {
            format!(
                "MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {}",
                e.persistence.aof_last_write_error
            )
        } else {
            "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".to_string()
        });
    }
    if read_only_cmd {
        return Err("ERR Can not execute a script with write flag using *_ro command.".into());
    }
    if e.out_of_memory() && !flags.allow_oom {
        return Err("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'".into());
    }
    Ok(())
}

/// What a run needs from an interpreter, taken out of its thread-local
/// so that the run may re-enter the engine.
pub(crate) struct Prepared {
    lua: Lua,
    ctx: Table,
    runner: Function,
    function: Function,
    /// A function's (keys, args); a script reads KEYS and ARGV instead.
    arguments: Option<(Table, Table)>,
}

impl Prepared {
    /// Counts the run, and calls the garbage collector every 50 runs, as
    /// Redis does to keep its latency low.
    pub(crate) fn new(st: &mut LuaState, function: Function, arguments: Option<(Table, Table)>) -> Prepared {
        st.runs += 1;
        if st.runs.is_multiple_of(50) {
            let _ = st.lua.gc_step();
        }
        Prepared { lua: st.lua.clone(), ctx: st.ctx.clone(), runner: st.runner.clone(), function, arguments }
    }
}

/// Runs a prepared script or function (`name` in its error messages),
/// writing its reply to `out`, after the checks of its `flags`.
pub(crate) fn execute(
    e: &mut Engine,
    caller: &mut Client,
    out: &mut Reply,
    prepared: Prepared,
    name: &str,
    flags: ScriptFlags,
    read_only_cmd: bool,
) {
    if let Err(msg) = refused_by_flags(e, flags, read_only_cmd) {
        return out.error(&msg);
    }
    let Prepared { lua, ctx, runner, function, arguments } = prepared;
    let read_only = read_only_cmd || (!flags.compat && flags.no_writes);
    let mut client = Client {
        db: caller.db,
        addr: "lua".into(),
        authenticated: true,
        user: caller.user,
        loader: caller.loader,
        script: true,
        id: caller.id,
        ..Default::default()
    };
    let log_level = log_level(e);
    let deny_oom = e.out_of_memory() && !flags.allow_oom;
    let wrote = Rc::new(Cell::new(false));
    let state =
        RefCell::new(RunState { resp3: false, read_only, wrote: wrote.clone(), deny_oom, logs: Vec::new(), log_level });
    let watched = e.script_watch.take().map(|watch| {
        let threshold = e.config.get("busy-reply-threshold").and_then(|v| v.parse().ok()).unwrap_or(5000);
        script_busy::watch_run(&lua, watch, threshold, (arguments.is_some(), e.acl.auth_required()), wrote)
    });
    let unit = e.aof.begin_script();
    let user = client.user;
    // Shared by redis.call and redis.acl_check_cmd; neither runs while the
    // other does (commands that run scripts are refused in scripts).
    let engine = RefCell::new(&mut *e);
    let result = lua.scope(|scope| {
        let call = scope.create_function_mut(|lua, argv: MultiValue| {
            script_call(&mut engine.borrow_mut(), &mut client, &state, lua, argv)
        })?;
        let acl_check =
            scope.create_function(|lua, argv: MultiValue| acl_check_cmd(&engine.borrow(), user, lua, argv))?;
        let setresp = scope.create_function(|lua, argv: MultiValue| {
            let n = match argv.front() {
                Some(v) if argv.len() == 1 => lua.coerce_number(v.clone()).ok().flatten().unwrap_or(0.0),
                _ => return Ok((Value::Table(error_table(lua, b"redis.setresp() requires one argument.")?), true)),
            };
            if n as i64 != 2 && n as i64 != 3 {
                return Ok((Value::Table(error_table(lua, b"RESP version must be 2 or 3.")?), true));
            }
            state.borrow_mut().resp3 = n as i64 == 3;
            Ok((Value::Nil, false))
        })?;
        let log = scope.create_function(|lua, argv: MultiValue| log_call(lua, &state, argv))?;
        ctx.raw_set("call", call)?;
        ctx.raw_set("setresp", setresp)?;
        ctx.raw_set("log", log)?;
        ctx.raw_set("acl_check_cmd", acl_check)?;
        let r = match arguments {
            Some((keys, args)) => runner.call::<(bool, Value)>((function, keys, args)),
            None => runner.call::<(bool, Value)>(function),
        };
        ctx.raw_set("call", Value::Nil)?;
        ctx.raw_set("setresp", Value::Nil)?;
        ctx.raw_set("log", Value::Nil)?;
        ctx.raw_set("acl_check_cmd", Value::Nil)?;
        r
    });
    let killed = watched.is_some_and(|run| {
        let (watch, killed) = script_busy::end_run(&lua, run);
        e.script_watch = watch;
        killed
    });
    e.aof.end_script(unit);
    let state = state.into_inner();
    warn_logged(e, state.logs);
    if killed {
        return out.error(script_busy::KILLED);
    }
    match result {
        Ok((true, value)) => lua_to_reply(&value, out, state.resp3, 0),
        Ok((false, Value::Table(t))) => {
            let msg = t.get::<Option<mlua::LuaString>>("err").ok().flatten();
            let mut text = match msg {
                Some(m) => String::from_utf8_lossy(&m.as_bytes()).into_owned(),
                None => "ERR unknown error".into(),
            };
            let field = |field: &str| match t.get::<Value>(field) {
                Ok(Value::String(s)) => Some(text_of(&s)),
                Ok(v @ (Value::Integer(_) | Value::Number(_))) => {
                    Some(format!("{}", lua_number(&v).unwrap_or(0.0) as i64))
                }
                _ => None,
            };
            if let (Some(source), Some(line)) = (field("source"), field("line")) {
                text.push_str(&format!(" script: {name}, on {source}:{line}."));
            }
            if matches!(t.raw_get::<Value>("ignore_error_stats_update"), Ok(Value::Boolean(true))) {
                uncounted_error(out, &text);
            } else {
                out.error(&text);
            }
        }
        Ok((false, other)) => {
            let msg = match &other {
                Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                _ => "execution failure".into(),
            };
            let msg: String = msg.chars().take(100).collect();
            out.error(&format!("ERR Error running script {name}, {msg}"));
        }
        Err(err) => out.error(&format!("ERR Error running script {name}, {err}")),
    }
}

/// The lowest redis.log level written (the `loglevel` setting).
pub(crate) fn log_level(e: &Engine) -> i64 {
    match e.config.loglevel.as_str() {
        "debug" => 0,
        "verbose" => 1,
        "notice" => 2,
        _ => 3,
    }
}

/// Hands what redis.log wrote to the server log: it has one channel for
/// the engine, so script lines go through it, whatever their level.
pub(crate) fn warn_logged(e: &mut Engine, logs: Vec<String>) {
    for line in logs {
        e.requests.push(crate::engine::Request::Warn(line));
    }
}

/// An error reply that INFO errorstats does not count again (the command
/// inside the script that produced it was counted already).
fn uncounted_error(out: &mut Reply, text: &str) {
    out.error_counted_before(text);
}

pub(crate) fn log_call(lua: &Lua, state: &RefCell<RunState>, argv: MultiValue) -> mlua::Result<(Value, bool)> {
    let fail = |m: &[u8]| -> mlua::Result<(Value, bool)> { Ok((Value::Table(error_table(lua, m)?), true)) };
    if argv.len() < 2 {
        return fail(b"redis.log() requires two arguments or more.");
    }
    let level = match &argv[0] {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        Value::String(s) => match crate::strtod::parse_f64(&s.as_bytes()) {
            Some(n) => n,
            None => return fail(b"First argument must be a number (log level)."),
        },
        _ => return fail(b"First argument must be a number (log level)."),
    };
    let level = level as i64;
    if !(0..=3).contains(&level) {
        return fail(b"Invalid debug level.");
    }
    if level >= state.borrow().log_level {
        let mut line = String::new();
        for (i, v) in argv.iter().skip(1).enumerate() {
            let text = match v {
                Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                Value::Integer(_) | Value::Number(_) => {
                    lua.coerce_string(v.clone())?.map(|s| s.to_string_lossy()).unwrap_or_default()
                }
                _ => continue,
            };
            if i != 0 {
                line.push(' ');
            }
            line.push_str(&text);
        }
        state.borrow_mut().logs.push(line);
    }
    Ok((Value::Nil, false))
}

/// Redis's luaArgsToRedisArgv: a command's arguments from a script's
/// strings and numbers, or the error table to raise.
fn command_args(lua: &Lua, argv: &MultiValue) -> mlua::Result<Result<Vec<Vec<u8>>, Table>> {
    if argv.is_empty() {
        return Ok(Err(error_table(lua, b"Please specify at least one argument for this redis lib call")?));
    }
    let mut owned: Vec<Vec<u8>> = Vec::with_capacity(argv.len());
    for v in argv.iter() {
        match v {
            Value::String(s) => owned.push(s.as_bytes().to_vec()),
            Value::Integer(_) | Value::Number(_) => owned.push(number_arg(v)),
            _ => return Ok(Err(error_table(lua, b"Lua redis lib command arguments must be strings or integers")?)),
        }
    }
    Ok(Ok(owned))
}

/// redis.acl_check_cmd: whether the script's user may run the command
/// (no ACL LOG entry, as in Redis), or the error table to raise.
fn acl_check_cmd(e: &Engine, user: crate::acl::UserId, lua: &Lua, argv: MultiValue) -> mlua::Result<(Value, bool)> {
    let owned = match command_args(lua, &argv)? {
        Ok(owned) => owned,
        Err(t) => return Ok((Value::Table(t), true)),
    };
    let args: Vec<&[u8]> = owned.iter().map(|a| a.as_slice()).collect();
    // Redis's lookupCommand: an unknown subcommand is an unknown command.
    let spec = e.commands.get(args[0]).filter(|spec| {
        !spec.has(table::CONTAINER)
            || args.len() < 2
            || crate::engine::command_stats::subcommand_name(spec, &args).is_some()
    });
    let Some(spec) = spec else {
        return Ok((Value::Table(error_table(lua, b"Invalid command passed to redis.acl_check_cmd()")?), true));
    };
    let call = crate::acl::CallToCheck::new(&e.acl.catalog, e.commands.id(spec), spec, &args);
    Ok((Value::Boolean(e.acl.check(user, &call).is_ok()), false))
}

/// redis.call / redis.pcall: (reply as Lua value, whether it is an error
/// that redis.call raises).
fn script_call(
    e: &mut Engine,
    client: &mut Client,
    state: &RefCell<RunState>,
    lua: &Lua,
    argv: MultiValue,
) -> mlua::Result<(Value, bool)> {
    let owned = match command_args(lua, &argv)? {
        Ok(owned) => owned,
        Err(t) => return Ok((Value::Table(t), true)),
    };
    let args: Vec<&[u8]> = owned.iter().map(|a| a.as_slice()).collect();
    let resp3 = state.borrow().resp3;
    let mut out = Reply::new(resp3);
    client.resp3 = resp3;
    let found = e.commands.get(args[0]);
    let spec = match check_script_command(e, client, state, found, &args) {
        Ok(spec) => spec,
        Err(msg) => {
            if let Some(spec) = found {
                let id = e.commands.id(spec);
                e.stats.commands.rejected(id, spec, &args);
            }
            e.stats.commands.error_replied(&msg);
            let mut buf = b"-".to_vec();
            buf.extend_from_slice(msg.as_bytes());
            let t = error_table(lua, &buf)?;
            t.raw_set("ignore_error_stats_update", true)?;
            return Ok((Value::Table(t), true));
        }
    };
    client.last_cmd.clear();
    e.call(spec, client, &args, &mut out, true);
    e.feed_monitors(spec, client, &args);
    e.count_errors(&mut out);
    let bytes = out.take();
    let mut pos = 0;
    let value = resp_to_lua(lua, &bytes, &mut pos)?;
    Ok((value, bytes.first() == Some(&b'-')))
}

/// Redis's scriptCall checks, in its order, on the command `found` for
/// `args`: the spec to call, or the error text (with its code).
fn check_script_command(
    e: &mut Engine,
    client: &Client,
    state: &RefCell<RunState>,
    found: Option<&'static CommandSpec>,
    args: &[&[u8]],
) -> Result<&'static CommandSpec, String> {
    let Some(spec) = found else {
        return Err("ERR Unknown Redis command called from script".into());
    };
    if !spec.arity_ok(args.len()) {
        return Err("ERR Wrong number of args calling Redis command from script".into());
    }
    if denied_in_scripts(spec, args) {
        return Err("ERR This Redis command is not allowed from script".into());
    }
    if !e.acl.unrestricted(client.user) {
        if let Some((refusal, _)) = e.acl_refusal(client, spec, args, Context::Lua) {
            return Err(format!("ERR The user executing the script {}", refusal.script_reason()));
        }
    }
    let st = state.borrow_mut();
    if st.read_only && (spec.is_write() || MAY_REPLICATE.contains(&spec.name)) {
        return Err("ERR Write commands are not allowed from read-only scripts.".into());
    }
    if spec.is_write() && !st.wrote.get() {
        if let Some(err) = e.writes_refused() {
            return Err(err);
        }
    }
    if st.deny_oom && !st.wrote.get() && spec.has(table::DENYOOM) {
        return Err(crate::engine::maxmemory::OOM_ERROR.into());
    }
    if spec.is_write() {
        st.wrote.set(true);
    }
    Ok(spec)
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..].windows(2).position(|w| w == b"\r\n").map_or(bytes.len(), |p| from + p)
}

/// One RESP reply (as the engine wrote it) → the Lua value redis.call
/// returns, by Redis's rules.
fn resp_to_lua(lua: &Lua, bytes: &[u8], pos: &mut usize) -> mlua::Result<Value> {
    if *pos >= bytes.len() {
        return Ok(Value::Nil);
    }
    let kind = bytes[*pos];
    let end = line_end(bytes, *pos + 1);
    let line = &bytes[*pos + 1..end];
    *pos = (end + 2).min(bytes.len());
    let num = || std::str::from_utf8(line).ok().and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let wrap = |field: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(field, v)?;
        Ok(Value::Table(t))
    };
    Ok(match kind {
        b':' => Value::Number(num() as f64),
        b'+' => wrap("ok", Value::String(lua.create_string(line)?))?,
        b'-' => {
            let mut buf = b"-".to_vec();
            buf.extend_from_slice(line);
            let t = error_table(lua, &buf)?;
            t.raw_set("ignore_error_stats_update", true)?;
            Value::Table(t)
        }
        b'$' | b'=' => {
            let n = num();
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let start = *pos;
            let stop = (start + n as usize).min(bytes.len());
            *pos = (stop + 2).min(bytes.len());
            let data = &bytes[start..stop];
            if kind == b'=' && data.len() >= 4 {
                let v = lua.create_table()?;
                v.raw_set("string", lua.create_string(&data[4..])?)?;
                v.raw_set("format", lua.create_string(&data[..3])?)?;
                wrap("verbatim_string", Value::Table(v))?
            } else {
                Value::String(lua.create_string(data)?)
            }
        }
        b'*' | b'~' | b'%' | b'>' | b'|' => {
            let n = num();
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let n = n as usize;
            let t = lua.create_table()?;
            match kind {
                b'%' => {
                    for _ in 0..n {
                        let k = resp_to_lua(lua, bytes, pos)?;
                        let v = resp_to_lua(lua, bytes, pos)?;
                        if !k.is_nil() {
                            t.raw_set(k, v)?;
                        }
                    }
                    wrap("map", Value::Table(t))?
                }
                b'~' => {
                    for _ in 0..n {
                        let k = resp_to_lua(lua, bytes, pos)?;
                        if !k.is_nil() {
                            t.raw_set(k, true)?;
                        }
                    }
                    wrap("set", Value::Table(t))?
                }
                b'|' => {
                    for _ in 0..2 * n {
                        resp_to_lua(lua, bytes, pos)?;
                    }
                    return resp_to_lua(lua, bytes, pos);
                }
                _ => {
                    for i in 0..n {
                        let v = resp_to_lua(lua, bytes, pos)?;
                        t.raw_set(i + 1, v)?;
                    }
                    Value::Table(t)
                }
            }
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(line == b"t"),
        b',' => {
            let d = crate::strtod::parse_f64(line).unwrap_or(0.0);
            wrap("double", Value::Number(d))?
        }
        b'(' => wrap("big_number", Value::String(lua.create_string(line)?))?,
        _ => Value::Nil,
    })
}

fn text_of(s: &mlua::LuaString) -> String {
    String::from_utf8_lossy(&s.as_bytes()).into_owned()
}

fn lua_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// A script's return value → the client's reply, by Redis's rules.
fn lua_to_reply(v: &Value, out: &mut Reply, script_resp3: bool, depth: usize) {
    if depth > 1000 {
        return out.error("ERR reached lua stack limit");
    }
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if script_resp3 {
                out.bool(*b)
            } else if *b {
                out.int(1)
            } else {
                out.null()
            }
        }
        Value::Integer(_) | Value::Number(_) => {
            let n = lua_number(v).unwrap_or(0.0);
            out.int(n as i64)
        }
        Value::Table(t) => table_to_reply(t, out, script_resp3, depth),
        _ => out.null(),
    }
}

fn table_to_reply(t: &Table, out: &mut Reply, script_resp3: bool, depth: usize) {
    if let Ok(Value::String(err)) = t.raw_get::<Value>("err") {
        let text = text_of(&err);
        if matches!(t.raw_get::<Value>("ignore_error_stats_update"), Ok(Value::Boolean(true))) {
            uncounted_error(out, &text);
        } else {
            out.error(&text);
        }
        return;
    }
    if let Ok(Value::String(ok)) = t.raw_get::<Value>("ok") {
        return out.simple(&text_of(&ok).replace(['\r', '\n'], " "));
    }
    if let Ok(v @ (Value::Number(_) | Value::Integer(_))) = t.raw_get::<Value>("double") {
        return out.double(lua_number(&v).unwrap_or(0.0));
    }
    if let Ok(Value::String(big)) = t.raw_get::<Value>("big_number") {
        let text = text_of(&big).replace(['\r', '\n'], " ");
        return out.big_number(text.as_bytes());
    }
    if let Ok(Value::Table(vt)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(format)), Ok(Value::String(s))) =
            (vt.raw_get::<Value>("format"), vt.raw_get::<Value>("string"))
        {
            let data = s.as_bytes();
            if out.resp3 {
                let format = format.as_bytes();
                let mut f = [b' '; 3];
                for (d, s) in f.iter_mut().zip(format.iter()) {
                    *d = *s;
                }
                out.buf.extend_from_slice(format!("={}\r\n", data.len() + 4).as_bytes());
                out.buf.extend_from_slice(&f);
                out.buf.extend_from_slice(b":");
                out.buf.extend_from_slice(&data);
                out.buf.extend_from_slice(b"\r\n");
            } else {
                out.bulk(&data);
            }
            return;
        }
    }
    if let Ok(Value::Table(map)) = t.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> = map.pairs::<Value, Value>().filter_map(Result::ok).collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            lua_to_reply(k, out, script_resp3, depth + 1);
            lua_to_reply(v, out, script_resp3, depth + 1);
        }
        return;
    }
    if let Ok(Value::Table(set)) = t.raw_get::<Value>("set") {
        let keys: Vec<Value> = set.pairs::<Value, Value>().filter_map(Result::ok).map(|(k, _)| k).collect();
        out.set(keys.len());
        for k in &keys {
            lua_to_reply(k, out, script_resp3, depth + 1);
        }
        return;
    }
    let mut items = Vec::new();
    loop {
        match t.raw_get::<Value>(items.len() + 1) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for item in &items {
        lua_to_reply(item, out, script_resp3, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_of_a_script_is_redis_one() {
        assert_eq!(sha1hex(b"return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }

    #[test]
    fn shebang_flags_and_errors() {
        assert_eq!(shebang(b"return 1").unwrap(), (ScriptFlags { compat: true, ..Default::default() }, 0));
        assert_eq!(shebang(b"#!lua\nreturn 1").unwrap(), (ScriptFlags::default(), 5));
        let (flags, start) = shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert!(flags.no_writes && !flags.compat);
        assert_eq!(start, 31);
        assert_eq!(shebang(b"#!lua").unwrap_err(), "Invalid script shebang");
        assert_eq!(shebang(b"#!py\nx").unwrap_err(), "Unexpected engine in script shebang: #!py");
        assert_eq!(shebang(b"#!lua x=y\n").unwrap_err(), "Unknown lua shebang option: x=y");
        assert_eq!(shebang(b"#!lua flags=bad\n").unwrap_err(), "Unexpected flag in script shebang: bad");
    }

    #[test]
    fn numbers_are_formatted_with_17_digits() {
        assert_eq!(number_arg(&Value::Integer(42)), b"42");
        assert_eq!(number_arg(&Value::Number(1.5)), b"1.5");
        assert_eq!(number_arg(&Value::Number(0.1)), b"0.10000000000000001");
        assert_eq!(number_arg(&Value::Number(1e20)), b"1e+20");
    }

    #[test]
    fn error_tables_follow_redis_format() {
        let lua = Lua::new();
        let text = |b: &[u8]| error_table(&lua, b).unwrap().get::<String>("err").unwrap();
        assert_eq!(text(b"-WRONGTYPE Operation"), "WRONGTYPE Operation");
        assert_eq!(text(b"-x"), "ERR x");
        assert_eq!(text(b"plain message\r\n"), "ERR plain message");
    }
}
