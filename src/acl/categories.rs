//! ACL categories (Redis's `@read`, `@string`…) and, for every command and
//! subcommand forkv has, its categories and the access its keys need.
//!
//! The rows are Redis 7.0.15's: each command's `acl_categories` from its
//! JSON file plus the implicit ones its flags give (`write` → @write,
//! `readonly` → @read unless @scripting, `admin` → @admin @dangerous,
//! `pubsub`, `fast` (else @slow), `blocking`); the key access comes from
//! its key specs (`ACCESS` reads, `INSERT`/`DELETE`/`UPDATE` write; of
//! the specs its own key finder resolves, only those that write are keys
//! forkv reports: SORT's STORE, not its BY/GET patterns).

pub const KEYSPACE: u32 = 1;
pub const READ: u32 = 1 << 1;
pub const WRITE: u32 = 1 << 2;
pub const SET: u32 = 1 << 3;
pub const SORTEDSET: u32 = 1 << 4;
pub const LIST: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const STRING: u32 = 1 << 7;
pub const BITMAP: u32 = 1 << 8;
pub const HYPERLOGLOG: u32 = 1 << 9;
pub const GEO: u32 = 1 << 10;
pub const STREAM: u32 = 1 << 11;
pub const PUBSUB: u32 = 1 << 12;
pub const ADMIN: u32 = 1 << 13;
pub const FAST: u32 = 1 << 14;
pub const SLOW: u32 = 1 << 15;
pub const BLOCKING: u32 = 1 << 16;
pub const DANGEROUS: u32 = 1 << 17;
pub const CONNECTION: u32 = 1 << 18;
pub const TRANSACTION: u32 = 1 << 19;
pub const SCRIPTING: u32 = 1 << 20;

/// Category names in Redis's order (ACL CAT, COMMAND INFO); bit `i` is
/// the category at position `i`.
pub const NAMES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The category bit for a name (case-insensitive), as `+@name` uses it.
pub fn by_name(name: &[u8]) -> Option<u32> {
    NAMES.iter().position(|n| n.as_bytes().eq_ignore_ascii_case(name)).map(|i| 1 << i)
}

/// The names of the categories in `bits`, in Redis's order.
pub fn names(bits: u32) -> impl Iterator<Item = &'static str> {
    NAMES.iter().enumerate().filter(move |(i, _)| bits & (1 << i) != 0).map(|(_, n)| *n)
}

/// The permission a key needs: read, write, both, or just a matching
/// pattern (TYPE, EXISTS…: keys that are neither read nor written).
pub const ANY: u8 = 0;
pub const R: u8 = 1;
pub const W: u8 = 2;
pub const RW: u8 = R | W;

/// Full name → categories, and the access of its keys by key spec:
/// the nth key position takes the nth entry, later ones the last.
pub static COMMANDS: &[(&str, u32, &[u8])] = &[
    ("acl", SLOW, &[]),
    ("acl|cat", SLOW, &[]),
    ("acl|deluser", ADMIN | SLOW | DANGEROUS, &[]),
    ("acl|dryrun", ADMIN | SLOW | DANGEROUS, &[]),
    ("acl|genpass", SLOW, &[]),
    ("acl|getuser", ADMIN | SLOW | DANGEROUS, &[]),
    ("acl|help", SLOW, &[]),
    ("acl|list", ADMIN | SLOW | DANGEROUS, &[]),
    ("acl|load", ADMIN | SLOW | DANGEROUS, &[]),
    ("acl|log", ADMIN | SLOW | DANGEROUS, &[]),
    ("acl|save", ADMIN | SLOW | DANGEROUS, &[]),
    ("acl|setuser", ADMIN | SLOW | DANGEROUS, &[]),
    ("acl|users", ADMIN | SLOW | DANGEROUS, &[]),
    ("acl|whoami", SLOW, &[]),
    ("append", WRITE | STRING | FAST, &[W]),
    ("asking", FAST | CONNECTION, &[]),
    ("auth", FAST | CONNECTION, &[]),
    ("bgrewriteaof", ADMIN | SLOW | DANGEROUS, &[]),
    ("bgsave", ADMIN | SLOW | DANGEROUS, &[]),
    ("bitcount", READ | BITMAP | SLOW, &[R]),
    ("bitfield", WRITE | BITMAP | SLOW, &[RW]),
    ("bitfield_ro", READ | BITMAP | FAST, &[R]),
    ("bitop", WRITE | BITMAP | SLOW, &[W, R]),
    ("bitpos", READ | BITMAP | SLOW, &[R]),
    ("blmove", WRITE | LIST | SLOW | BLOCKING, &[RW, W]),
    ("blmpop", WRITE | LIST | SLOW | BLOCKING, &[RW]),
    ("blpop", WRITE | LIST | SLOW | BLOCKING, &[RW]),
    ("brpop", WRITE | LIST | SLOW | BLOCKING, &[RW]),
    ("brpoplpush", WRITE | LIST | SLOW | BLOCKING, &[RW, W]),
    ("bzmpop", WRITE | SORTEDSET | SLOW | BLOCKING, &[RW]),
    ("bzpopmax", WRITE | SORTEDSET | FAST | BLOCKING, &[RW]),
    ("bzpopmin", WRITE | SORTEDSET | FAST | BLOCKING, &[RW]),
    ("client", SLOW, &[]),
    ("client|caching", SLOW | CONNECTION, &[]),
    ("client|getname", SLOW | CONNECTION, &[]),
    ("client|getredir", SLOW | CONNECTION, &[]),
    ("client|help", SLOW | CONNECTION, &[]),
    ("client|id", SLOW | CONNECTION, &[]),
    ("client|info", SLOW | CONNECTION, &[]),
    ("client|kill", ADMIN | SLOW | DANGEROUS | CONNECTION, &[]),
    ("client|list", ADMIN | SLOW | DANGEROUS | CONNECTION, &[]),
    ("client|no-evict", ADMIN | SLOW | DANGEROUS | CONNECTION, &[]),
    ("client|pause", ADMIN | SLOW | DANGEROUS | CONNECTION, &[]),
    ("client|reply", SLOW | CONNECTION, &[]),
    ("client|setname", SLOW | CONNECTION, &[]),
    ("client|tracking", SLOW | CONNECTION, &[]),
    ("client|trackinginfo", SLOW | CONNECTION, &[]),
    ("client|unblock", ADMIN | SLOW | DANGEROUS | CONNECTION, &[]),
    ("client|unpause", ADMIN | SLOW | DANGEROUS | CONNECTION, &[]),
    ("cluster", SLOW, &[]),
    ("command", SLOW | CONNECTION, &[]),
    ("command|count", SLOW | CONNECTION, &[]),
    ("command|docs", SLOW | CONNECTION, &[]),
    ("command|getkeys", SLOW | CONNECTION, &[]),
    ("command|getkeysandflags", SLOW | CONNECTION, &[]),
    ("command|help", SLOW | CONNECTION, &[]),
    ("command|info", SLOW | CONNECTION, &[]),
    ("command|list", SLOW | CONNECTION, &[]),
    ("config", SLOW, &[]),
    ("config|get", ADMIN | SLOW | DANGEROUS, &[]),
    ("config|help", SLOW, &[]),
    ("config|resetstat", ADMIN | SLOW | DANGEROUS, &[]),
    ("config|rewrite", ADMIN | SLOW | DANGEROUS, &[]),
    ("config|set", ADMIN | SLOW | DANGEROUS, &[]),
    ("copy", KEYSPACE | WRITE | SLOW, &[R, W]),
    ("dbsize", KEYSPACE | READ | FAST, &[]),
    ("debug", ADMIN | SLOW | DANGEROUS, &[]),
    ("decr", WRITE | STRING | FAST, &[RW]),
    ("decrby", WRITE | STRING | FAST, &[RW]),
    ("del", KEYSPACE | WRITE | SLOW, &[W]),
    ("discard", FAST | TRANSACTION, &[]),
    ("dump", KEYSPACE | READ | SLOW, &[R]),
    ("echo", FAST | CONNECTION, &[]),
    ("eval", SLOW | SCRIPTING, &[RW]),
    ("eval_ro", SLOW | SCRIPTING, &[R]),
    ("evalsha", SLOW | SCRIPTING, &[RW]),
    ("evalsha_ro", SLOW | SCRIPTING, &[R]),
    ("exec", SLOW | TRANSACTION, &[]),
    ("exists", KEYSPACE | READ | FAST, &[ANY]),
    ("expire", KEYSPACE | WRITE | FAST, &[W]),
    ("expireat", KEYSPACE | WRITE | FAST, &[W]),
    ("expiretime", KEYSPACE | READ | FAST, &[R]),
    ("failover", ADMIN | SLOW | DANGEROUS, &[]),
    ("fcall", SLOW | SCRIPTING, &[RW]),
    ("fcall_ro", SLOW | SCRIPTING, &[R]),
    ("flushall", KEYSPACE | WRITE | SLOW | DANGEROUS, &[]),
    ("flushdb", KEYSPACE | WRITE | SLOW | DANGEROUS, &[]),
    ("function", SLOW, &[]),
    ("function|delete", WRITE | SLOW | SCRIPTING, &[]),
    ("function|dump", SLOW | SCRIPTING, &[]),
    ("function|flush", WRITE | SLOW | SCRIPTING, &[]),
    ("function|help", SLOW | SCRIPTING, &[]),
    ("function|kill", SLOW | SCRIPTING, &[]),
    ("function|list", SLOW | SCRIPTING, &[]),
    ("function|load", WRITE | SLOW | SCRIPTING, &[]),
    ("function|restore", WRITE | SLOW | SCRIPTING, &[]),
    ("function|stats", SLOW | SCRIPTING, &[]),
    ("geoadd", WRITE | GEO | SLOW, &[W]),
    ("geodist", READ | GEO | SLOW, &[R]),
    ("geohash", READ | GEO | SLOW, &[R]),
    ("geopos", READ | GEO | SLOW, &[R]),
    ("georadius", WRITE | GEO | SLOW, &[R, W]),
    ("georadius_ro", READ | GEO | SLOW, &[R]),
    ("georadiusbymember", WRITE | GEO | SLOW, &[R, W]),
    ("georadiusbymember_ro", READ | GEO | SLOW, &[R]),
    ("geosearch", READ | GEO | SLOW, &[R]),
    ("geosearchstore", WRITE | GEO | SLOW, &[W, R]),
    ("get", READ | STRING | FAST, &[R]),
    ("getbit", READ | BITMAP | FAST, &[R]),
    ("getdel", WRITE | STRING | FAST, &[RW]),
    ("getex", WRITE | STRING | FAST, &[RW]),
    ("getrange", READ | STRING | SLOW, &[R]),
    ("getset", WRITE | STRING | FAST, &[RW]),
    ("hdel", WRITE | HASH | FAST, &[W]),
    ("hello", FAST | CONNECTION, &[]),
    ("hexists", READ | HASH | FAST, &[ANY]),
    ("hget", READ | HASH | FAST, &[R]),
    ("hgetall", READ | HASH | SLOW, &[R]),
    ("hincrby", WRITE | HASH | FAST, &[RW]),
    ("hincrbyfloat", WRITE | HASH | FAST, &[RW]),
    ("hkeys", READ | HASH | SLOW, &[R]),
    ("hlen", READ | HASH | FAST, &[ANY]),
    ("hmget", READ | HASH | FAST, &[R]),
    ("hmset", WRITE | HASH | FAST, &[W]),
    ("hrandfield", READ | HASH | SLOW, &[R]),
    ("hscan", READ | HASH | SLOW, &[R]),
    ("hset", WRITE | HASH | FAST, &[W]),
    ("hsetnx", WRITE | HASH | FAST, &[W]),
    ("hstrlen", READ | HASH | FAST, &[ANY]),
    ("hvals", READ | HASH | SLOW, &[R]),
    ("incr", WRITE | STRING | FAST, &[RW]),
    ("incrby", WRITE | STRING | FAST, &[RW]),
    ("incrbyfloat", WRITE | STRING | FAST, &[RW]),
    ("info", SLOW | DANGEROUS, &[]),
    ("keys", KEYSPACE | READ | SLOW | DANGEROUS, &[]),
    ("lastsave", ADMIN | FAST | DANGEROUS, &[]),
    ("latency", SLOW, &[]),
    ("latency|doctor", ADMIN | SLOW | DANGEROUS, &[]),
    ("latency|graph", ADMIN | SLOW | DANGEROUS, &[]),
    ("latency|help", SLOW, &[]),
    ("latency|histogram", ADMIN | SLOW | DANGEROUS, &[]),
    ("latency|history", ADMIN | SLOW | DANGEROUS, &[]),
    ("latency|latest", ADMIN | SLOW | DANGEROUS, &[]),
    ("latency|reset", ADMIN | SLOW | DANGEROUS, &[]),
    ("lcs", READ | STRING | SLOW, &[R]),
    ("lindex", READ | LIST | SLOW, &[R]),
    ("linsert", WRITE | LIST | SLOW, &[W]),
    ("llen", READ | LIST | FAST, &[ANY]),
    ("lmove", WRITE | LIST | SLOW, &[RW, W]),
    ("lmpop", WRITE | LIST | SLOW, &[RW]),
    ("lpop", WRITE | LIST | FAST, &[RW]),
    ("lpos", READ | LIST | SLOW, &[R]),
    ("lpush", WRITE | LIST | FAST, &[W]),
    ("lpushx", WRITE | LIST | FAST, &[W]),
    ("lrange", READ | LIST | SLOW, &[R]),
    ("lrem", WRITE | LIST | SLOW, &[W]),
    ("lset", WRITE | LIST | SLOW, &[W]),
    ("ltrim", WRITE | LIST | SLOW, &[W]),
    ("memory", SLOW, &[]),
    ("memory|doctor", SLOW, &[]),
    ("memory|help", SLOW, &[]),
    ("memory|malloc-stats", SLOW, &[]),
    ("memory|purge", SLOW, &[]),
    ("memory|stats", SLOW, &[]),
    ("memory|usage", READ | SLOW, &[ANY]),
    ("mget", READ | STRING | FAST, &[R]),
    ("migrate", KEYSPACE | WRITE | SLOW | DANGEROUS, &[RW]),
    ("module", SLOW, &[]),
    ("monitor", ADMIN | SLOW | DANGEROUS, &[]),
    ("move", KEYSPACE | WRITE | FAST, &[RW]),
    ("mset", WRITE | STRING | SLOW, &[W]),
    ("msetnx", WRITE | STRING | SLOW, &[W]),
    ("multi", FAST | TRANSACTION, &[]),
    ("object", SLOW, &[]),
    ("object|encoding", KEYSPACE | READ | SLOW, &[ANY]),
    ("object|freq", KEYSPACE | READ | SLOW, &[ANY]),
    ("object|help", KEYSPACE | SLOW, &[]),
    ("object|idletime", KEYSPACE | READ | SLOW, &[ANY]),
    ("object|refcount", KEYSPACE | READ | SLOW, &[ANY]),
    ("persist", KEYSPACE | WRITE | FAST, &[W]),
    ("pexpire", KEYSPACE | WRITE | FAST, &[W]),
    ("pexpireat", KEYSPACE | WRITE | FAST, &[W]),
    ("pexpiretime", KEYSPACE | READ | FAST, &[R]),
    ("pfadd", WRITE | HYPERLOGLOG | FAST, &[W]),
    ("pfcount", READ | HYPERLOGLOG | SLOW, &[R]),
    ("pfdebug", WRITE | HYPERLOGLOG | ADMIN | SLOW | DANGEROUS, &[R]),
    ("pfmerge", WRITE | HYPERLOGLOG | SLOW, &[RW, R]),
    ("pfselftest", HYPERLOGLOG | ADMIN | SLOW | DANGEROUS, &[]),
    ("ping", FAST | CONNECTION, &[]),
    ("psetex", WRITE | STRING | SLOW, &[W]),
    ("psubscribe", PUBSUB | SLOW, &[]),
    ("psync", ADMIN | SLOW | DANGEROUS, &[]),
    ("pttl", KEYSPACE | READ | FAST, &[R]),
    ("publish", PUBSUB | FAST, &[]),
    ("pubsub", SLOW, &[]),
    ("pubsub|channels", PUBSUB | SLOW, &[]),
    ("pubsub|help", SLOW, &[]),
    ("pubsub|numpat", PUBSUB | SLOW, &[]),
    ("pubsub|numsub", PUBSUB | SLOW, &[]),
    ("pubsub|shardchannels", PUBSUB | SLOW, &[]),
    ("pubsub|shardnumsub", PUBSUB | SLOW, &[]),
    ("punsubscribe", PUBSUB | SLOW, &[]),
    ("quit", FAST | CONNECTION, &[]),
    ("randomkey", KEYSPACE | READ | SLOW, &[]),
    ("readonly", FAST | CONNECTION, &[]),
    ("readwrite", FAST | CONNECTION, &[]),
    ("rename", KEYSPACE | WRITE | SLOW, &[RW, W]),
    ("renamenx", KEYSPACE | WRITE | FAST, &[RW, W]),
    ("replconf", ADMIN | SLOW | DANGEROUS, &[]),
    ("replicaof", ADMIN | SLOW | DANGEROUS, &[]),
    ("reset", FAST | CONNECTION, &[]),
    ("restore", KEYSPACE | WRITE | SLOW | DANGEROUS, &[W]),
    ("restore-asking", KEYSPACE | WRITE | SLOW | DANGEROUS, &[W]),
    ("role", ADMIN | FAST | DANGEROUS, &[]),
    ("rpop", WRITE | LIST | FAST, &[RW]),
    ("rpoplpush", WRITE | LIST | SLOW, &[RW, W]),
    ("rpush", WRITE | LIST | FAST, &[W]),
    ("rpushx", WRITE | LIST | FAST, &[W]),
    ("sadd", WRITE | SET | FAST, &[W]),
    ("save", ADMIN | SLOW | DANGEROUS, &[]),
    ("scan", KEYSPACE | READ | SLOW, &[]),
    ("scard", READ | SET | FAST, &[ANY]),
    ("script", SLOW, &[]),
    ("script|debug", SLOW | SCRIPTING, &[]),
    ("script|exists", SLOW | SCRIPTING, &[]),
    ("script|flush", SLOW | SCRIPTING, &[]),
    ("script|help", SLOW | SCRIPTING, &[]),
    ("script|kill", SLOW | SCRIPTING, &[]),
    ("script|load", SLOW | SCRIPTING, &[]),
    ("sdiff", READ | SET | SLOW, &[R]),
    ("sdiffstore", WRITE | SET | SLOW, &[W, R]),
    ("select", FAST | CONNECTION, &[]),
    ("set", WRITE | STRING | SLOW, &[RW]),
    ("setbit", WRITE | BITMAP | SLOW, &[RW]),
    ("setex", WRITE | STRING | SLOW, &[W]),
    ("setnx", WRITE | STRING | FAST, &[W]),
    ("setrange", WRITE | STRING | SLOW, &[W]),
    ("shutdown", ADMIN | SLOW | DANGEROUS, &[]),
    ("sinter", READ | SET | SLOW, &[R]),
    ("sintercard", READ | SET | SLOW, &[R]),
    ("sinterstore", WRITE | SET | SLOW, &[W, R]),
    ("sismember", READ | SET | FAST, &[ANY]),
    ("slaveof", ADMIN | SLOW | DANGEROUS, &[]),
    ("slowlog", SLOW, &[]),
    ("slowlog|get", ADMIN | SLOW | DANGEROUS, &[]),
    ("slowlog|help", SLOW, &[]),
    ("slowlog|len", ADMIN | SLOW | DANGEROUS, &[]),
    ("slowlog|reset", ADMIN | SLOW | DANGEROUS, &[]),
    ("smembers", READ | SET | SLOW, &[R]),
    ("smismember", READ | SET | FAST, &[R]),
    ("smove", WRITE | SET | FAST, &[RW, W]),
    ("sort", WRITE | SET | SORTEDSET | LIST | SLOW | DANGEROUS, &[R, W]),
    ("sort_ro", READ | SET | SORTEDSET | LIST | SLOW | DANGEROUS, &[R]),
    ("spop", WRITE | SET | FAST, &[RW]),
    ("spublish", PUBSUB | FAST, &[ANY]),
    ("srandmember", READ | SET | SLOW, &[R]),
    ("srem", WRITE | SET | FAST, &[W]),
    ("sscan", READ | SET | SLOW, &[R]),
    ("ssubscribe", PUBSUB | SLOW, &[ANY]),
    ("strlen", READ | STRING | FAST, &[ANY]),
    ("subscribe", PUBSUB | SLOW, &[]),
    ("substr", READ | STRING | SLOW, &[R]),
    ("sunion", READ | SET | SLOW, &[R]),
    ("sunionstore", WRITE | SET | SLOW, &[W, R]),
    ("sunsubscribe", PUBSUB | SLOW, &[ANY]),
    ("swapdb", KEYSPACE | WRITE | FAST | DANGEROUS, &[]),
    ("sync", ADMIN | SLOW | DANGEROUS, &[]),
    ("time", FAST, &[]),
    ("touch", KEYSPACE | READ | FAST, &[ANY]),
    ("ttl", KEYSPACE | READ | FAST, &[R]),
    ("type", KEYSPACE | READ | FAST, &[ANY]),
    ("unlink", KEYSPACE | WRITE | FAST, &[W]),
    ("unsubscribe", PUBSUB | SLOW, &[]),
    ("unwatch", FAST | TRANSACTION, &[]),
    ("wait", SLOW | CONNECTION, &[]),
    ("watch", FAST | TRANSACTION, &[ANY]),
    ("xack", WRITE | STREAM | FAST, &[W]),
    ("xadd", WRITE | STREAM | FAST, &[W]),
    ("xautoclaim", WRITE | STREAM | FAST, &[W]),
    ("xclaim", WRITE | STREAM | FAST, &[W]),
    ("xdel", WRITE | STREAM | FAST, &[W]),
    ("xgroup", SLOW, &[]),
    ("xgroup|create", WRITE | STREAM | SLOW, &[W]),
    ("xgroup|createconsumer", WRITE | STREAM | SLOW, &[W]),
    ("xgroup|delconsumer", WRITE | STREAM | SLOW, &[W]),
    ("xgroup|destroy", WRITE | STREAM | SLOW, &[W]),
    ("xgroup|help", STREAM | SLOW, &[]),
    ("xgroup|setid", WRITE | STREAM | SLOW, &[W]),
    ("xinfo", SLOW, &[]),
    ("xinfo|consumers", READ | STREAM | SLOW, &[R]),
    ("xinfo|groups", READ | STREAM | SLOW, &[R]),
    ("xinfo|help", STREAM | SLOW, &[]),
    ("xinfo|stream", READ | STREAM | SLOW, &[R]),
    ("xlen", READ | STREAM | FAST, &[ANY]),
    ("xpending", READ | STREAM | SLOW, &[R]),
    ("xrange", READ | STREAM | SLOW, &[R]),
    ("xread", READ | STREAM | SLOW | BLOCKING, &[R]),
    ("xreadgroup", WRITE | STREAM | SLOW | BLOCKING, &[R]),
    ("xrevrange", READ | STREAM | SLOW, &[R]),
    ("xsetid", WRITE | STREAM | FAST, &[W]),
    ("xtrim", WRITE | STREAM | SLOW, &[W]),
    ("zadd", WRITE | SORTEDSET | FAST, &[W]),
    ("zcard", READ | SORTEDSET | FAST, &[ANY]),
    ("zcount", READ | SORTEDSET | FAST, &[R]),
    ("zdiff", READ | SORTEDSET | SLOW, &[R]),
    ("zdiffstore", WRITE | SORTEDSET | SLOW, &[W, R]),
    ("zincrby", WRITE | SORTEDSET | FAST, &[RW]),
    ("zinter", READ | SORTEDSET | SLOW, &[R]),
    ("zintercard", READ | SORTEDSET | SLOW, &[R]),
    ("zinterstore", WRITE | SORTEDSET | SLOW, &[W, R]),
    ("zlexcount", READ | SORTEDSET | FAST, &[R]),
    ("zmpop", WRITE | SORTEDSET | SLOW, &[RW]),
    ("zmscore", READ | SORTEDSET | FAST, &[R]),
    ("zpopmax", WRITE | SORTEDSET | FAST, &[RW]),
    ("zpopmin", WRITE | SORTEDSET | FAST, &[RW]),
    ("zrandmember", READ | SORTEDSET | SLOW, &[R]),
    ("zrange", READ | SORTEDSET | SLOW, &[R]),
    ("zrangebylex", READ | SORTEDSET | SLOW, &[R]),
    ("zrangebyscore", READ | SORTEDSET | SLOW, &[R]),
    ("zrangestore", WRITE | SORTEDSET | SLOW, &[W, R]),
    ("zrank", READ | SORTEDSET | FAST, &[R]),
    ("zrem", WRITE | SORTEDSET | FAST, &[W]),
    ("zremrangebylex", WRITE | SORTEDSET | SLOW, &[W]),
    ("zremrangebyrank", WRITE | SORTEDSET | SLOW, &[W]),
    ("zremrangebyscore", WRITE | SORTEDSET | SLOW, &[W]),
    ("zrevrange", READ | SORTEDSET | SLOW, &[R]),
    ("zrevrangebylex", READ | SORTEDSET | SLOW, &[R]),
    ("zrevrangebyscore", READ | SORTEDSET | SLOW, &[R]),
    ("zrevrank", READ | SORTEDSET | FAST, &[R]),
    ("zscan", READ | SORTEDSET | SLOW, &[R]),
    ("zscore", READ | SORTEDSET | FAST, &[R]),
    ("zunion", READ | SORTEDSET | SLOW, &[R]),
    ("zunionstore", WRITE | SORTEDSET | SLOW, &[W, R]),
];

/// The row of a full name (`get`, `client|id`).
pub fn row(name: &str) -> Option<&'static (&'static str, u32, &'static [u8])> {
    COMMANDS.binary_search_by(|(n, _, _)| n.cmp(&name)).ok().map(|i| &COMMANDS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_sorted_for_lookup() {
        assert!(COMMANDS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(row("get").map(|r| r.1), Some(READ | STRING | FAST));
        assert_eq!(row("client|kill").map(|r| r.1), Some(ADMIN | SLOW | DANGEROUS | CONNECTION));
    }

    #[test]
    fn every_command_and_subcommand_has_a_row() {
        for spec in crate::commands::GROUPS.iter().flat_map(|g| g.iter()) {
            assert!(row(spec.name).is_some(), "no ACL categories for {}", spec.name);
        }
        for full in crate::engine::command_stats::SUBCOMMANDS {
            assert!(row(full).is_some(), "no ACL categories for {full}");
        }
    }

    #[test]
    fn names_follow_the_bits() {
        assert_eq!(by_name(b"SortedSet"), Some(SORTEDSET));
        assert_eq!(by_name(b"nope"), None);
        assert_eq!(names(WRITE | STRING | FAST).collect::<Vec<_>>(), ["write", "string", "fast"]);
    }
}
