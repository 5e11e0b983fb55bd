//! Command implementations, one module per command group. Each exports its
//! rows of the command table; write commands describe their AOF record in
//! one place (their handler), through `Call::propagate_as` when the command
//! text alone would not replay deterministically.

pub mod acl;
pub mod bitmaps;
pub mod client_tracking;
pub mod conn;
pub mod debug;
pub mod draws;
pub mod dump;
pub mod functions;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod keys;
pub mod latency;
pub mod lists;
pub mod memory;
pub mod migrate;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod sets;
pub mod slowlog;
pub mod sort;
pub mod standalone;
pub mod stream_groups;
pub mod stream_info;
pub mod stream_read;
pub mod streams;
pub mod strings;
pub mod tx;
pub mod zsets;

use crate::engine::table::CommandSpec;

pub static GROUPS: &[&[CommandSpec]] = &[
    conn::COMMANDS,
    keys::COMMANDS,
    strings::COMMANDS,
    bitmaps::COMMANDS,
    hyperloglog::COMMANDS,
    lists::COMMANDS,
    hashes::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
    streams::COMMANDS,
    geo::COMMANDS,
    sort::COMMANDS,
    tx::COMMANDS,
    pubsub::COMMANDS,
    server::COMMANDS,
    slowlog::COMMANDS,
    memory::COMMANDS,
    latency::COMMANDS,
    dump::COMMANDS,
    migrate::COMMANDS,
    scripting::COMMANDS,
    standalone::COMMANDS,
    functions::COMMANDS,
    acl::COMMANDS,
];
