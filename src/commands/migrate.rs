//! MIGRATE, as Redis 7.0's migrateCommand runs it outside a cluster: the
//! keys' DUMP payloads go to the target as RESTORE commands, over a
//! blocking socket with the command's timeout, in the keyspace's thread
//! (as Redis does it in its main thread); the keys the target took are
//! then deleted here, and the AOF records a DEL, unless COPY.

mod links;

pub use links::Links;

use crate::aof::record::encode_command;
use crate::engine::key_finders::migrate_keys;
use crate::engine::notify::GENERIC;
use crate::engine::table::{cmd, CommandSpec, MARKS_OWN_WRITES, WRITE};
use crate::engine::{Call, Engine, SYNTAX};
use crate::snapshot::dump_payload;
use crate::util::{fmt_i64, itoa_buf};
use bytes::BytesMut;
use links::{is_timeout, ConnectError};
use std::io;
use std::time::Duration;

pub static COMMANDS: &[CommandSpec] =
    &[cmd("migrate", -6, WRITE | MARKS_OWN_WRITES, (3, 3, 1), migrate).keys_by(migrate_keys)];

const KEYS_NEED_EMPTY_KEY: &str =
    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";
const CONNECT_ERROR: &str = "IOERR error or timeout connecting to the client";
const WRITE_ERROR: &str = "IOERR error or timeout writing to target instance";
const READ_ERROR: &str = "IOERR error or timeout reading to target instance";

struct Options<'a> {
    copy: bool,
    replace: bool,
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    /// The key argument, or the keys after KEYS.
    keys: &'a [&'a [u8]],
}

/// The options after the timeout, in Redis's order of checks; None after
/// the error reply.
fn parse_options<'a>(c: &mut Call<'a>) -> Option<Options<'a>> {
    let args = c.args;
    let mut o = Options { copy: false, replace: false, username: None, password: None, keys: &args[3..4] };
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if c.is(j, "COPY") {
            o.copy = true;
        } else if c.is(j, "REPLACE") {
            o.replace = true;
        } else if c.is(j, "AUTH") && more >= 1 {
            o.password = Some(args[j + 1]);
            j += 1;
        } else if c.is(j, "AUTH2") && more >= 2 {
            o.username = Some(args[j + 1]);
            o.password = Some(args[j + 2]);
            j += 2;
        } else if c.is(j, "KEYS") {
            if !args[3].is_empty() {
                c.out.error(KEYS_NEED_EMPTY_KEY);
                return None;
            }
            o.keys = &args[j + 1..];
            break;
        } else {
            c.out.error(SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// Where MIGRATE holds the AUTH password and the AUTH2 username and
/// password, which SLOWLOG and MONITOR show redacted: those its option
/// parsing reached, as Redis redacts them while it parses.
pub fn secret_positions(args: &[&[u8]]) -> Vec<usize> {
    let mut secrets = Vec::new();
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        match args[j].to_ascii_lowercase().as_slice() {
            b"copy" | b"replace" => {}
            b"auth" if more >= 1 => {
                secrets.push(j + 1);
                j += 1;
            }
            b"auth2" if more >= 2 => {
                secrets.extend([j + 1, j + 2]);
                j += 2;
            }
            _ => break,
        }
        j += 1;
    }
    secrets
}

/// How one attempt at the exchange with the target failed.
enum Failure {
    /// The target's address could not be resolved.
    Connect,
    /// Writing (else reading) failed before any RESTORE was answered, so
    /// nothing happened: the caller may try once more on a new socket.
    Io { writing: bool, err: io::Error },
}

/// What the target answered.
struct Answers {
    /// The first error line (its `-` included), if the target refused
    /// anything.
    target_error: Option<Vec<u8>>,
    /// For each RESTORE answered, whether the target took its key.
    taken: Vec<bool>,
    /// The socket failed after some RESTOREs were answered.
    cut_short: bool,
}

/// Sends AUTH (if asked), SELECT (if the link has another db selected)
/// and the RESTOREs in one write, and reads the replies in order.
fn exchange(
    e: &mut Engine,
    c: &Call,
    o: &Options,
    dbid: i64,
    timeout: Duration,
    restores: &[u8],
    restore_count: usize,
) -> Result<Answers, Failure> {
    let now_s = e.now / 1000;
    let link = match e.migrate_links.get(c.arg(1), c.arg(2), timeout, now_s) {
        Ok(link) => link,
        Err(ConnectError::Unresolved) => return Err(Failure::Connect),
        // Redis 7.0 does not wait for the connection's outcome: a refusal
        // or a timeout shows when it writes.
        Err(ConnectError::Failed(err)) => return Err(Failure::Io { writing: true, err }),
    };
    let mut request = BytesMut::new();
    if let Some(password) = o.password {
        let auth: Vec<&[u8]> = [Some(&b"AUTH"[..]), o.username, Some(password)].into_iter().flatten().collect();
        encode_command(&mut request, &auth);
    }
    let select = link.selected_db != Some(dbid);
    if select {
        encode_command(&mut request, &[b"SELECT", fmt_i64(dbid, &mut itoa_buf())]);
    }
    request.extend_from_slice(restores);
    link.send(&request).map_err(|err| Failure::Io { writing: true, err })?;

    let mut prefix_error = None;
    for _ in 0..usize::from(o.password.is_some()) + usize::from(select) {
        let line = link.read_line().map_err(|err| Failure::Io { writing: false, err })?;
        if line.starts_with(b"-") && prefix_error.is_none() {
            prefix_error = Some(line);
        }
    }
    let mut answers = Answers { target_error: None, taken: Vec::new(), cut_short: false };
    for _ in 0..restore_count {
        match link.read_line() {
            Ok(line) => {
                let refused = line.starts_with(b"-");
                answers.taken.push(!refused && prefix_error.is_none());
                if answers.target_error.is_none() {
                    answers.target_error = prefix_error.clone().or(refused.then_some(line));
                }
            }
            Err(err) if answers.taken.is_empty() => return Err(Failure::Io { writing: false, err }),
            Err(_) => {
                answers.cut_short = true;
                break;
            }
        }
    }
    // A refusal may have left the target in another db: SELECT next time.
    link.selected_db = answers.target_error.is_none().then_some(dbid);
    Ok(answers)
}

/// The RESTORE commands for the keys still live, and those keys. A TTL
/// is sent as what remains of it, at least 1 ms.
fn restore_commands<'a>(e: &Engine, db: usize, keys: &[&'a [u8]], replace: bool) -> (BytesMut, Vec<&'a [u8]>) {
    let now = crate::util::now_ms();
    let (mut commands, mut sent) = (BytesMut::new(), Vec::new());
    for &key in keys {
        let Some(slot) = e.dbs[db].find(key) else { continue };
        let ttl = match e.dbs[db].expire_at(slot) {
            None => 0,
            Some(at) if at < now => continue,
            Some(at) => (at - now).max(1),
        };
        let Ok(payload) = dump_payload(e.dbs[db].value(slot), e.config.rdbcompression) else {
            // Only an empty collection fails, which the keyspace never holds.
            continue;
        };
        let mut num = itoa_buf();
        let mut parts: Vec<&[u8]> = vec![b"RESTORE", key, fmt_i64(ttl, &mut num), &payload];
        if replace {
            parts.push(b"REPLACE");
        }
        encode_command(&mut commands, &parts);
        sent.push(key);
    }
    (commands, sent)
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password] [AUTH2 username password] [KEYS key…]
fn migrate(e: &mut Engine, c: &mut Call) {
    let Some(o) = parse_options(c) else { return };
    let Some(timeout) = c.int_arg(5) else { return };
    let Some(dbid) = c.int_arg(4) else { return };
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });
    let db = c.db();
    let found: Vec<&[u8]> = o.keys.iter().copied().filter(|k| e.lookup_read(db, k).is_some()).collect();
    if found.is_empty() {
        // Not an error: the keys may just have expired meanwhile.
        return c.out.simple("NOKEY");
    }
    let (restores, sent) = restore_commands(e, db, &found, o.replace);
    let mut may_retry = true;
    let answers = loop {
        match exchange(e, c, &o, dbid, timeout, &restores, sent.len()) {
            Ok(answers) => break answers,
            Err(Failure::Connect) => return c.out.error(CONNECT_ERROR),
            Err(Failure::Io { writing, err }) => {
                e.migrate_links.close(c.arg(1), c.arg(2));
                // A cached socket the target has closed fails this way;
                // a new one may well work.
                if may_retry && !is_timeout(&err) {
                    may_retry = false;
                    continue;
                }
                return c.out.error(if writing { WRITE_ERROR } else { READ_ERROR });
            }
        }
    };
    if answers.cut_short {
        e.migrate_links.close(c.arg(1), c.arg(2));
    }
    if !o.copy {
        let moved: Vec<&[u8]> = sent.iter().zip(&answers.taken).filter(|(_, &taken)| taken).map(|(&k, _)| k).collect();
        delete_moved(e, c, db, &moved);
    }
    if let Some(line) = answers.target_error {
        let message = String::from_utf8_lossy(&line[1..]);
        return c.out.error(&format!("ERR Target instance replied with error: {message}"));
    }
    if answers.cut_short {
        return c.out.error(READ_ERROR);
    }
    c.out.ok();
}

/// Deletes the keys the target took, recorded as one DEL, as Redis
/// rewrites the command for propagation.
fn delete_moved(e: &mut Engine, c: &mut Call, db: usize, moved: &[&[u8]]) {
    if moved.is_empty() {
        return;
    }
    for &key in moved {
        e.dbs[db].remove(key);
        e.signal_modified(db, key);
        e.notify(GENERIC, "del", db, key);
        e.dirty += 1;
    }
    let del: Vec<&[u8]> = std::iter::once(&b"DEL"[..]).chain(moved.iter().copied()).collect();
    c.propagate_as(&del);
}
