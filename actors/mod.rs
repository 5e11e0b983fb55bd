//! The actor system: connections, the keyspace, the AOF writer and its fsync
//! thread, the snapshot supervisor and signals, talking only through the
//! typed messages in `messages`.

pub mod aof_writer;
pub mod busy_script;
pub mod connection;
pub mod fsync;
pub mod keyspace;
pub mod listener;
pub mod messages;
pub mod signals;
pub mod supervisor;
