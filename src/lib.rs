//! forkv's actor-free core: protocol, data types, command execution and
//! persistence formats. The actors in `actors/` drive it; nothing here knows
//! about actix.

pub mod glob;
pub mod reply;
pub mod resp;
pub mod util;
pub mod store;
pub mod types;
pub mod config;
pub mod rdb;
