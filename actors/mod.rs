//! The actor system: connections, the keyspace, persistence and signals,
//! talking only through the typed messages in `messages`.

pub mod connection;
pub mod keyspace;
pub mod listener;
pub mod messages;
pub mod signals;
