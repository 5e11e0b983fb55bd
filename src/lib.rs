//! forkv's actor-free core: protocol, data types, command execution and
//! persistence formats. The actors in `actors/` drive it; nothing here knows
//! about actix.

pub mod acl;
pub mod aof;
pub mod commands;
pub mod config;
pub mod digest;
pub mod engine;
pub mod eviction;
pub mod fork;
pub mod function_lua;
pub mod functions;
pub mod geo;
pub mod glob;
pub mod lcs;
pub mod listen;
pub mod load;
pub mod log;
pub mod long_double;
pub mod memory;
pub mod output_limit;
pub mod rdb;
pub mod reply;
pub mod resp;
pub mod script_busy;
pub mod scripting;
mod scripting_libs;
pub mod snapshot;
pub mod sparkline;
pub mod store;
pub mod strtod;
pub mod types;
pub mod util;
