//! The geospatial math behind the GEO commands, as Redis 7.0 does it: a
//! geo set is a sorted set whose scores are 52-bit interleaved geohashes.

pub mod hash;
pub mod search;
