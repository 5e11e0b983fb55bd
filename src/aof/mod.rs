//! The append-only file: its record format, reading it back, checking and
//! fixing it, and the compacted file a rewrite produces.

pub mod reader;
pub mod record;
pub mod redis7;
pub mod rewrite;
