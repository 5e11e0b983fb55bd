//! Key finders for commands whose keys the first/last/step triple cannot
//! describe — a count argument followed by that many keys (ZUNION, LMPOP…)
//! a key behind a subcommand (OBJECT ENCODING, MEMORY USAGE) or after a
//! keyword (GEORADIUS's STORE) — as Redis finds them for COMMAND GETKEYS.

/// Finds the key positions in a whole argument vector (the command name
/// first), or says why there are none with COMMAND GETKEYS's error.
pub type KeyFinder = fn(&[&[u8]]) -> Result<Vec<usize>, &'static str>;

pub const INVALID_ARGUMENTS: &str = "ERR Invalid arguments specified for command";
pub const NO_KEYS: &str = "ERR The command has no key arguments";
pub const WRONG_ARITY: &str = "ERR Invalid number of arguments specified for command";
pub const UNKNOWN_COMMAND: &str = "ERR Invalid command specified";

/// C's atoi, which Redis's getkeys procs use: leading digits, else 0.
pub(crate) fn atoi(arg: &[u8]) -> i64 {
    let (sign, digits) = match arg.split_first() {
        Some((b'-', rest)) => (-1, rest),
        Some((b'+', rest)) => (1, rest),
        _ => (1, arg),
    };
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).take(18).fold(0i64, |n, b| n * 10 + i64::from(b - b'0'));
    sign * n
}

/// `count_at` holds how many keys follow from `first_at`; `store_at`, if
/// any, is a destination key before them.
fn counted(
    args: &[&[u8]],
    store_at: Option<usize>,
    count_at: usize,
    first_at: usize,
) -> Result<Vec<usize>, &'static str> {
    let count = args.get(count_at).map_or(0, |a| atoi(a));
    let room = args.len().saturating_sub(first_at) as i64;
    if count < 1 || count > room {
        return Err(INVALID_ARGUMENTS);
    }
    Ok(store_at.into_iter().chain(first_at..first_at + count as usize).collect())
}

/// `dest numkeys key…` (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE).
pub fn store_then_counted(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    counted(args, Some(1), 2, 3)
}

/// `numkeys key…` (ZUNION, ZINTER, ZDIFF, ZINTERCARD, SINTERCARD, LMPOP, ZMPOP).
pub fn counted_first(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    counted(args, None, 1, 2)
}

/// `arg numkeys key…` (BLMPOP and BZMPOP after their timeout, EVAL after its script).
pub fn counted_second(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    counted(args, None, 2, 3)
}

/// SORT_RO: its first argument, found by a function as Redis's
/// sortROGetKeys finds it, which makes it `movablekeys` in COMMAND INFO.
pub fn sort_ro_keys(_args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    Ok(vec![1])
}

/// SORT's key and its last STORE destination, found as Redis's
/// sortGetKeys scans: LIMIT skips two words, GET and BY one, and anything
/// else is taken for a word on its own (so an argument that reads STORE
/// counts wherever it stands).
pub fn sort_keys(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let word = args[i];
        if word.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if word.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        } else if word.eq_ignore_ascii_case(b"get") || word.eq_ignore_ascii_case(b"by") {
            i += 1;
        }
        i += 1;
    }
    Ok(std::iter::once(1).chain(store).collect())
}

/// The key of a container command's subcommand: `keyed` subcommands take
/// it at position 2 and have `arity` (Redis's rule: negative is a minimum),
/// `keyless` ones have none.
fn subcommand_key(args: &[&[u8]], keyed: &[&str], arity: i32, keyless: &[&str]) -> Result<Vec<usize>, &'static str> {
    let sub = String::from_utf8_lossy(args.get(1).copied().unwrap_or_default()).to_ascii_lowercase();
    if keyless.contains(&sub.as_str()) {
        return Err(NO_KEYS);
    }
    if !keyed.contains(&sub.as_str()) {
        return Err(UNKNOWN_COMMAND);
    }
    let argc = args.len() as i32;
    if (arity >= 0 && argc != arity) || argc < arity.abs() {
        return Err(WRONG_ARITY);
    }
    Ok(vec![2])
}

/// `script numkeys key…` (EVAL and friends), where no keys is fine.
pub fn script_keys(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    Ok(counted(args, None, 2, 3).unwrap_or_default())
}

/// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key.
pub fn object_key(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    subcommand_key(args, &["encoding", "freq", "idletime", "refcount"], 3, &["help"])
}

/// MEMORY USAGE key [SAMPLES n].
pub fn memory_usage_key(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    subcommand_key(args, &["usage"], -3, &["doctor", "help", "malloc-stats", "purge", "stats"])
}

/// The source key, then the keys after the first STORE and the first
/// STOREDIST from `options_at` on, as Redis 7.0's keyword key specs find
/// them (a keyword that is the last argument names no key).
fn store_options(args: &[&[u8]], options_at: usize) -> Result<Vec<usize>, &'static str> {
    let after = |keyword: &str| {
        (options_at..args.len().saturating_sub(1))
            .find(|&i| args[i].eq_ignore_ascii_case(keyword.as_bytes()))
            .map(|i| i + 1)
    };
    Ok([Some(1), after("STORE"), after("STOREDIST")].into_iter().flatten().collect())
}

/// GEORADIUS key longitude latitude radius unit … [STORE key] [STOREDIST key].
pub fn georadius_keys(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    store_options(args, 6)
}

/// GEORADIUSBYMEMBER key member radius unit … [STORE key] [STOREDIST key].
pub fn georadiusbymember_keys(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    store_options(args, 5)
}

/// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2
/// user pw] [KEYS key…]: the key argument, or what follows KEYS, skipping
/// the options' values as Redis's migrateGetKeys does (KEYS after a
/// non-empty key names none: MIGRATE itself reports that error).
pub fn migrate_keys(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    let mut i = 6;
    while i < args.len() {
        let word = args[i].to_ascii_lowercase();
        match word.as_slice() {
            b"keys" if args[3].is_empty() => return Ok((i + 1..args.len()).collect()),
            b"keys" => return Err(INVALID_ARGUMENTS),
            b"auth" => i += 1,
            b"auth2" => i += 2,
            _ => {}
        }
        i += 1;
    }
    Ok(vec![3])
}

/// XREAD's and XREADGROUP's keys: the first half of what follows STREAMS,
/// found as Redis's xreadGetKeys skips the options before it.
pub fn xread_keys(args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    let is = |a: &[u8], w: &str| a.eq_ignore_ascii_case(w.as_bytes());
    let mut i = 1;
    let mut streams_at = None;
    while i < args.len() {
        let a = args[i];
        if is(a, "BLOCK") || is(a, "COUNT") {
            i += 1;
        } else if is(a, "GROUP") {
            i += 2;
        } else if is(a, "STREAMS") {
            streams_at = Some(i);
            break;
        } else if !is(a, "NOACK") {
            break;
        }
        i += 1;
    }
    let at = streams_at.ok_or(INVALID_ARGUMENTS)?;
    let rest = args.len() - at - 1;
    if rest == 0 || !rest.is_multiple_of(2) {
        return Err(INVALID_ARGUMENTS);
    }
    Ok((at + 1..=at + rest / 2).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<&[u8]> {
        line.split(' ').map(str::as_bytes).collect()
    }

    #[test]
    fn counted_keys_follow_their_count_and_must_all_be_there() {
        assert_eq!(store_then_counted(&args("zunionstore d 2 a b WEIGHTS 1 2")), Ok(vec![1, 3, 4]));
        assert_eq!(store_then_counted(&args("zunionstore d 3 a b")), Err(INVALID_ARGUMENTS));
        assert_eq!(store_then_counted(&args("zunionstore d 0 a")), Err(INVALID_ARGUMENTS));
        assert_eq!(store_then_counted(&args("zunionstore d x a")), Err(INVALID_ARGUMENTS));
        assert_eq!(counted_first(&args("lmpop 2 a b LEFT")), Ok(vec![2, 3]));
        assert_eq!(counted_second(&args("blmpop 0 1 a LEFT")), Ok(vec![3]));
        // atoi reads the leading digits, as Redis's procs do.
        assert_eq!(counted_first(&args("zdiff 1x a")), Ok(vec![2]));
        assert_eq!(counted_first(&args("zdiff -1 a")), Err(INVALID_ARGUMENTS));
        assert_eq!(script_keys(&args("eval s 1 k a")), Ok(vec![3]));
        assert_eq!(script_keys(&args("eval s 0")), Ok(vec![]));
    }

    #[test]
    fn sort_keys_take_the_last_store_as_redis_scans() {
        assert_eq!(sort_keys(&args("sort k")), Ok(vec![1]));
        assert_eq!(sort_keys(&args("sort k STORE d")), Ok(vec![1, 3]));
        assert_eq!(sort_keys(&args("sort k store")), Ok(vec![1]));
        assert_eq!(sort_keys(&args("sort k store store store d")), Ok(vec![1, 5]));
        assert_eq!(sort_keys(&args("sort k limit store 1 store d get store")), Ok(vec![1, 6]));
        assert_eq!(sort_keys(&args("sort k by store get store")), Ok(vec![1]));
    }

    #[test]
    fn georadius_store_keys_follow_their_keywords() {
        assert_eq!(georadius_keys(&args("georadius src 0 0 1 km")), Ok(vec![1]));
        assert_eq!(georadius_keys(&args("georadius src 0 0 1 km STORE dst")), Ok(vec![1, 7]));
        // Redis's key spec order: STORE's key, then STOREDIST's.
        assert_eq!(georadius_keys(&args("georadius src 0 0 1 km storedist d1 store d2")), Ok(vec![1, 9, 7]));
        assert_eq!(georadius_keys(&args("georadius src 0 0 1 km STORE")), Ok(vec![1]));
        // The search starts after the unit: a member named STORE is no keyword.
        assert_eq!(georadiusbymember_keys(&args("georadiusbymember src STORE 1 km")), Ok(vec![1]));
        assert_eq!(georadiusbymember_keys(&args("georadiusbymember src m 1 km STORE d")), Ok(vec![1, 6]));
    }

    /// `args`, with `""` for an empty argument.
    fn args_with_empty(line: &str) -> Vec<&[u8]> {
        line.split(' ').map(|a| if a == "\"\"" { &b""[..] } else { a.as_bytes() }).collect()
    }

    #[test]
    fn migrate_keys_are_its_key_or_those_after_keys() {
        assert_eq!(migrate_keys(&args("migrate h 1 k 0 0")), Ok(vec![3]));
        assert_eq!(migrate_keys(&args("migrate h 1 k 0 0 COPY REPLACE")), Ok(vec![3]));
        assert_eq!(migrate_keys(&args_with_empty("migrate h 1 \"\" 0 0 KEYS a b")), Ok(vec![7, 8]));
        // Redis answers an empty key for no KEYS, as COMMAND GETKEYS shows.
        assert_eq!(migrate_keys(&args_with_empty("migrate h 1 \"\" 0 0 COPY")), Ok(vec![3]));
        assert_eq!(migrate_keys(&args("migrate h 1 k 0 0 keys a b")), Err(INVALID_ARGUMENTS));
        // A password that reads KEYS is no keyword.
        assert_eq!(migrate_keys(&args("migrate h 1 k 0 0 auth keys a b")), Ok(vec![3]));
        assert_eq!(migrate_keys(&args_with_empty("migrate h 1 \"\" 0 0 AUTH2 u keys KEYS a")), Ok(vec![10]));
    }

    #[test]
    fn subcommand_keys_only_for_the_keyed_subcommands() {
        assert_eq!(object_key(&args("object ENCODING k")), Ok(vec![2]));
        assert_eq!(object_key(&args("object encoding k extra")), Err(WRONG_ARITY));
        assert_eq!(object_key(&args("object help")), Err(NO_KEYS));
        assert_eq!(object_key(&args("object nosuch k")), Err(UNKNOWN_COMMAND));
        assert_eq!(memory_usage_key(&args("memory usage k SAMPLES 5")), Ok(vec![2]));
        assert_eq!(memory_usage_key(&args("memory stats")), Err(NO_KEYS));
        assert_eq!(memory_usage_key(&args("memory usage")), Err(WRONG_ARITY));
    }
}
