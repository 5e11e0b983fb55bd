//! The Redis RDB snapshot format, independent of forkv's own value types.
//!
//! [`RdbWriter`] streams a version-10 file (what Redis 7.0 writes) using only
//! the plain, encoding-free value types, so it is cheap to run in a forked
//! child. [`RdbReader`] loads everything Redis 7.0 can load except module
//! values, including the ziplist/listpack/intset/zipmap blobs and function
//! libraries.

mod check;
mod compress;
mod encodings;
mod lp_encode;
mod payload;
mod read;
pub mod stream;
mod write;

pub use check::{check_rdb, check_stream, CheckReport, DbReport};
pub use payload::{
    read_functions_payload, read_payload, seal_payload, verify_payload, write_functions_payload, write_payload,
};
pub use read::RdbReader;
pub use stream::{RdbConsumer, RdbGroup, RdbNack, RdbStream, StreamMeta, StreamNodes};
pub use write::RdbWriter;

use crc::{Crc, Table, CRC_64_REDIS};
use std::fmt;

/// RDB format version written by this module (Redis 7.0).
pub const RDB_VERSION: u32 = 10;

/// CRC-64 (Jones) as Redis uses for the trailing checksum.
pub(crate) static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// Opcodes that may appear where a value type byte is expected.
pub(crate) mod opcode {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Value type bytes.
pub(crate) mod ty {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Human-readable name of an RDB value type byte, e.g. `"hash-listpack"`.
pub fn type_name(rdb_type: u8) -> &'static str {
    match rdb_type {
        ty::STRING => "string",
        ty::LIST => "list",
        ty::SET => "set",
        ty::ZSET => "zset",
        ty::HASH => "hash",
        ty::ZSET_2 => "zset",
        ty::HASH_ZIPMAP => "hash-zipmap",
        ty::LIST_ZIPLIST => "list-ziplist",
        ty::SET_INTSET => "set-intset",
        ty::ZSET_ZIPLIST => "zset-ziplist",
        ty::HASH_ZIPLIST => "hash-ziplist",
        ty::LIST_QUICKLIST => "list-quicklist",
        ty::HASH_LISTPACK => "hash-listpack",
        ty::ZSET_LISTPACK => "zset-listpack",
        ty::LIST_QUICKLIST_2 => "list-quicklist",
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 => "stream",
        _ => "unknown",
    }
}

/// A fully decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum RdbValue {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    ZSet(Vec<(Vec<u8>, f64)>),
    Stream(Box<RdbStream>),
}

/// One key as stored in an RDB file.
#[derive(Debug, Clone, PartialEq)]
pub struct RdbEntry {
    pub db: usize,
    pub key: Vec<u8>,
    pub value: RdbValue,
    /// Absolute expiry, Unix time in milliseconds.
    pub expire_ms: Option<i64>,
}

/// A read failure, with the byte offset at which it was detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError {
    pub offset: u64,
    pub msg: String,
}

impl RdbError {
    pub(crate) fn new(offset: u64, msg: impl Into<String>) -> Self {
        RdbError { offset, msg: msg.into() }
    }
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RDB error at byte {}: {}", self.offset, self.msg)
    }
}

impl std::error::Error for RdbError {}

#[cfg(test)]
mod tests;
