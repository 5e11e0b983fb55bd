//! The keyspace storage: compact entries in a chained dict, with TTLs.

pub mod db;
pub mod dict;
mod entry;

pub use db::Db;
pub use dict::{Dict, Slot};
