//! Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, CLIENT, COMMAND, RESET, MONITOR.

use crate::acl::log::{Context, Reason};
use crate::acl::DEFAULT_USER;
use crate::commands::client_tracking;
use crate::engine::key_finders::{NO_KEYS, UNKNOWN_COMMAND, WRONG_ARITY};
use crate::engine::pause::PauseKind;
use crate::engine::table::{
    self, cmd, CommandSpec, ADMIN, CONTAINER, FAST, LOADING, NO_AUTH, NO_MULTI, PUBSUB_CONTEXT,
};
use crate::engine::{Call, Client, Engine, Outbound, ReplyMode, Request, Sub, NOT_INTEGER, SYNTAX};
use crate::output_limit::Class;
use crate::util::parse_i64;

pub static COMMANDS: &[CommandSpec] = &[
    cmd("ping", -1, FAST | PUBSUB_CONTEXT, (0, 0, 0), ping),
    cmd("echo", 2, FAST | LOADING, (0, 0, 0), echo),
    cmd("quit", -1, FAST | LOADING | NO_AUTH | NO_MULTI | PUBSUB_CONTEXT, (0, 0, 0), quit),
    cmd("select", 2, FAST | LOADING, (0, 0, 0), select),
    cmd("hello", -1, FAST | LOADING | NO_AUTH, (0, 0, 0), hello),
    cmd("auth", -2, FAST | LOADING | NO_AUTH, (0, 0, 0), auth),
    cmd("client", -2, LOADING | CONTAINER, (0, 0, 0), client),
    cmd("command", -1, LOADING | CONTAINER, (0, 0, 0), command),
    cmd("reset", 1, FAST | LOADING | NO_AUTH | NO_MULTI | PUBSUB_CONTEXT, (0, 0, 0), reset),
    cmd("monitor", 1, ADMIN | LOADING, (0, 0, 0), monitor),
];

fn ping(_: &mut Engine, c: &mut Call) {
    if c.argc() > 2 {
        return c.wrong_args("ping");
    }
    if c.client.in_pubsub_mode() {
        // In subscribe mode PING answers with a pong message array.
        c.out.array(2);
        c.out.bulk(b"pong");
        c.out.bulk(if c.argc() == 2 { c.arg(1) } else { b"" });
    } else if c.argc() == 2 {
        c.out.bulk(c.arg(1));
    } else {
        c.out.simple("PONG");
    }
}

fn echo(_: &mut Engine, c: &mut Call) {
    c.out.bulk(c.arg(1));
}

fn quit(_: &mut Engine, c: &mut Call) {
    c.out.ok();
    c.client.closing = true;
}

fn select(e: &mut Engine, c: &mut Call) {
    match parse_i64(c.arg(1)) {
        None => c.out.error(NOT_INTEGER),
        Some(n) if n < 0 || n as usize >= e.dbs.len() => c.out.error("ERR DB index is out of range"),
        Some(n) => {
            c.client.db = n as usize;
            c.out.ok();
        }
    }
}

/// Logs the client in as `user` if `pass` opens it; true when accepted.
/// A refusal is logged in ACL LOG and answered with WRONGPASS.
fn authenticate(e: &mut Engine, c: &mut Call, user: &[u8], pass: &[u8]) -> bool {
    if let Some(id) = e.acl.authenticate(user, pass) {
        c.client.authenticated = true;
        c.client.user = id;
        return true;
    }
    let context = if c.client.multi.is_some() { Context::Multi } else { Context::TopLevel };
    e.log_acl_event(c.client, Reason::Auth, context, c.arg(0).to_vec(), user.to_vec());
    c.out.error("WRONGPASS invalid username-password pair or user is disabled.");
    false
}

fn auth(e: &mut Engine, c: &mut Call) {
    let ok = match c.argc() {
        2 if e.acl.get(b"default").is_some_and(|u| u.nopass) => {
            return c.out.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        }
        2 => authenticate(e, c, b"default", c.arg(1)),
        3 => authenticate(e, c, c.arg(1), c.arg(2)),
        _ => return c.out.error(SYNTAX),
    };
    if ok {
        c.out.ok();
    }
}

fn hello(e: &mut Engine, c: &mut Call) {
    let mut proto = if c.client.resp3 { 3 } else { 2 };
    let mut i = 1;
    if c.argc() > 1 {
        match parse_i64(c.arg(1)) {
            Some(v) if v == 2 || v == 3 => proto = v,
            Some(_) => return c.out.error("NOPROTO unsupported protocol version"),
            None => return c.out.error("ERR Protocol version is not an integer or out of range"),
        }
        i = 2;
    }
    let mut new_name = None;
    while i < c.argc() {
        if c.is(i, "AUTH") && i + 2 < c.argc() {
            if !authenticate(e, c, c.arg(i + 1), c.arg(i + 2)) {
                return;
            }
            i += 3;
        } else if c.is(i, "SETNAME") && i + 1 < c.argc() {
            if !valid_name(c.arg(i + 1)) {
                return c.out.error("ERR Client names cannot contain spaces, newlines or special characters.");
            }
            new_name = Some(c.arg(i + 1).to_vec());
            i += 2;
        } else {
            return c.out.error(&format!("ERR Syntax error in HELLO option '{}'", String::from_utf8_lossy(c.arg(i))));
        }
    }
    if !c.client.authenticated && e.acl.auth_required() {
        return c.out.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(name) = new_name {
        c.client.name = Some(name).filter(|n| !n.is_empty());
    }
    c.client.resp3 = proto == 3;
    c.out.resp3 = c.client.resp3;
    c.out.map(7);
    c.out.bulk(b"server");
    c.out.bulk(b"redis");
    c.out.bulk(b"version");
    c.out.bulk(super::server::REDIS_VERSION.as_bytes());
    c.out.bulk(b"proto");
    c.out.int(proto);
    c.out.bulk(b"id");
    c.out.int(c.client.id as i64);
    c.out.bulk(b"mode");
    c.out.bulk(b"standalone");
    c.out.bulk(b"role");
    c.out.bulk(b"master");
    c.out.bulk(b"modules");
    c.out.array(0);
}

fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// One CLIENT LIST line, with Redis's field names.
pub fn client_line(e: &Engine, cl: &Client) -> String {
    let mut flags = String::new();
    if cl.multi.is_some() {
        flags.push('x');
    }
    if cl.blocked.is_some() || cl.paused {
        flags.push('b');
    }
    client_tracking::list_flags(e, cl.id, &mut flags);
    if cl.subscriptions() > 0 {
        flags.push('P');
    }
    if cl.monitor {
        flags.push('O');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    format!(
        "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user={} redir={} resp={}\n",
        cl.id,
        cl.addr,
        cl.laddr,
        String::from_utf8_lossy(cl.name.as_deref().unwrap_or_default()),
        (e.now - cl.created_ms) / 1000,
        (e.now - cl.last_active_ms) / 1000,
        flags,
        cl.db,
        cl.channels.len(),
        cl.patterns.len(),
        cl.shard_channels.len(),
        cl.multi.as_ref().map_or(-1, |m| m.len() as i64),
        if cl.last_cmd.is_empty() { "NULL" } else { &cl.last_cmd },
        String::from_utf8_lossy(e.acl.name(cl.user)),
        client_tracking::redirect_shown(e, cl.id),
        if cl.resp3 { 3 } else { 2 },
    )
}

fn client(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    match (sub.as_slice(), c.argc()) {
        (b"id", 2) => c.out.int(c.client.id as i64),
        (b"getname", 2) => match &c.client.name {
            Some(n) => c.out.bulk(n),
            None => c.out.null(),
        },
        (b"setname", 3) => {
            let name = c.arg(2);
            if !valid_name(name) {
                return c.out.error("ERR Client names cannot contain spaces, newlines or special characters.");
            }
            c.client.name = Some(name.to_vec()).filter(|n| !n.is_empty());
            c.out.ok();
        }
        (b"list", _) => client_list(e, c),
        (b"info", 2) => {
            let line = client_line(e, c.client);
            c.out.verbatim(&line);
        }
        (b"kill", n) if n >= 3 => client_kill(e, c),
        (b"setinfo", 4) | (b"no-evict", 3) | (b"no-touch", 3) => c.out.ok(),
        (b"reply", 3) => client_reply(c),
        (b"help", 2) => c.out.help(CLIENT_HELP),
        (b"pause", 3 | 4) => client_pause(e, c),
        (b"unpause", 2) => {
            e.unpause_clients();
            c.out.ok();
        }
        (b"unblock", 3 | 4) => client_unblock(e, c),
        (b"tracking", n) if n >= 3 => client_tracking::tracking(e, c),
        (b"caching", 3) => client_tracking::caching(e, c),
        (b"getredir", 2) => client_tracking::getredir(e, c),
        (b"trackinginfo", 2) => client_tracking::trackinginfo(e, c),
        _ => c.subcommand_error(&[
            "id",
            "getname",
            "setname",
            "list",
            "info",
            "kill",
            "setinfo",
            "no-evict",
            "no-touch",
            "reply",
            "help",
            "pause",
            "unpause",
            "unblock",
            "tracking",
            "caching",
            "getredir",
            "trackinginfo",
        ]),
    }
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

/// CLIENT PAUSE timeout [WRITE|ALL].
fn client_pause(e: &mut Engine, c: &mut Call) {
    let kind = match c.args.get(3) {
        None => PauseKind::All,
        Some(_) if c.is(3, "WRITE") => PauseKind::Write,
        Some(_) if c.is(3, "ALL") => PauseKind::All,
        Some(_) => return c.out.error("ERR CLIENT PAUSE mode must be WRITE or ALL"),
    };
    let timeout = match parse_i64(c.arg(2)) {
        None => return c.out.error("ERR timeout is not an integer or out of range"),
        Some(t) if t < 0 => return c.out.error("ERR timeout is negative"),
        Some(t) => t,
    };
    // A zero timeout is an end already past (Redis's rule).
    let end = if timeout > 0 { crate::util::now_ms().saturating_add(timeout) } else { 0 };
    if let Some(end) = e.pause_clients(kind, end) {
        e.requests.push(Request::PauseUntil(end));
    }
    c.out.ok();
}

/// CLIENT LIST [TYPE type | ID id ...]: every client by id, those of one
/// type, or those with the ids given (in their order, as Redis).
fn client_list(e: &mut Engine, c: &mut Call) {
    // None: every client; Some(None): `master`, which no client is.
    let mut kind: Option<Option<Class>> = None;
    let mut asked: Option<Vec<u64>> = None;
    if c.argc() == 4 && c.is(2, "TYPE") {
        let Some(named) = client_type(c, 3) else { return };
        kind = Some(named);
    } else if c.argc() > 3 && c.is(2, "ID") {
        let mut ids = Vec::new();
        for i in 3..c.argc() {
            match parse_i64(c.arg(i)) {
                Some(id) => ids.extend(u64::try_from(id).ok()),
                None => return c.out.error("ERR Invalid client ID"),
            }
        }
        asked = Some(ids);
    } else if c.argc() != 2 {
        return c.out.error(SYNTAX);
    }
    // The running client is out of the engine's map while its command runs.
    let me = c.client.id;
    let client_of = |id: u64| if id == me { Some(&*c.client) } else { e.clients.get(&id).map(|b| &**b) };
    let ids = asked.unwrap_or_else(|| {
        let mut all: Vec<u64> = e.clients.keys().copied().chain([me]).collect();
        all.sort_unstable();
        all
    });
    let text: String = ids
        .into_iter()
        .filter_map(client_of)
        .filter(|cl| kind.is_none_or(|k| k == Some(cl.output_class())))
        .map(|cl| client_line(e, cl))
        .collect();
    c.out.verbatim(&text);
}

/// The client type named at argument `i` (Redis's getClientTypeByName):
/// Some(None) for `master`, which no client here is (forkv follows no
/// master); None after Redis's error for a name it does not know.
fn client_type(c: &mut Call, i: usize) -> Option<Option<Class>> {
    if c.is(i, "MASTER") {
        return Some(None);
    }
    let name = String::from_utf8_lossy(c.arg(i)).into_owned();
    match Class::by_name(&name) {
        Some(class) => Some(Some(class)),
        None => {
            c.out.error(&format!("ERR Unknown client type '{name}'"));
            None
        }
    }
}

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: 1 if the client was blocked.
fn client_unblock(e: &mut Engine, c: &mut Call) {
    let error = match c.args.get(3) {
        None => false,
        Some(_) if c.is(3, "TIMEOUT") => false,
        Some(_) if c.is(3, "ERROR") => true,
        Some(_) => return c.out.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    };
    let Some(id) = c.int_arg(2) else { return };
    let unblocked = u64::try_from(id).is_ok_and(|id| e.unblock_client(id, error));
    c.out.int(i64::from(unblocked));
}

/// CLIENT KILL addr | CLIENT KILL [ID id] [ADDR addr] [LADDR addr] [SKIPME yes/no].
fn client_kill(e: &mut Engine, c: &mut Call) {
    let old_style = c.argc() == 3;
    let (mut id, mut addr, mut laddr, mut user, mut skipme) = (None, None, None, None, true);
    // None: any type; Some(None): `master`, which matches no client.
    let mut kind: Option<Option<Class>> = None;
    if old_style {
        addr = Some(c.arg(2).to_vec());
    } else {
        let mut i = 2;
        while i + 1 < c.argc() {
            let v = c.arg(i + 1);
            if c.is(i, "ID") {
                match parse_i64(v) {
                    Some(n) if n > 0 => id = Some(n as u64),
                    _ => return c.out.error("ERR client-id should be greater than 0"),
                }
            } else if c.is(i, "ADDR") {
                addr = Some(v.to_vec());
            } else if c.is(i, "LADDR") {
                laddr = Some(v.to_vec());
            } else if c.is(i, "SKIPME") {
                skipme = match v.to_ascii_lowercase().as_slice() {
                    b"yes" => true,
                    b"no" => false,
                    _ => return c.out.error(SYNTAX),
                };
            } else if c.is(i, "USER") {
                match e.acl.id(v) {
                    Some(found) => user = Some(found),
                    None => return c.out.error(&format!("ERR No such user '{}'", String::from_utf8_lossy(v))),
                }
            } else if c.is(i, "TYPE") {
                let Some(named) = client_type(c, i + 1) else { return };
                kind = Some(named);
            } else {
                return c.out.error(SYNTAX);
            }
            i += 2;
        }
        if i != c.argc() {
            return c.out.error(SYNTAX);
        }
    }
    let matches = |cl: &Client| {
        id.is_none_or(|i| cl.id == i)
            && addr.as_deref().is_none_or(|a| cl.addr.as_bytes() == a)
            && laddr.as_deref().is_none_or(|a| cl.laddr.as_bytes() == a)
            && user.is_none_or(|u| cl.user == u)
            && kind.is_none_or(|k| k == Some(cl.output_class()))
    };
    let mut killed: Vec<u64> = e.clients.values().filter(|cl| matches(cl)).map(|cl| cl.id).collect();
    let me = matches(c.client) && (old_style || !skipme);
    if me {
        c.client.closing = true;
    }
    for &victim in &killed {
        e.disconnect(victim);
        e.outbox.push((victim, Outbound::Close));
    }
    if me {
        killed.push(c.client.id);
    }
    if old_style {
        if killed.is_empty() {
            c.out.error("ERR No such client");
        } else {
            c.out.ok();
        }
    } else {
        c.out.int(killed.len() as i64);
    }
}

/// COMMAND INFO's names for the table's flags, in Redis's order.
const FLAG_NAMES: &[(u32, &str)] = &[
    (table::WRITE, "write"),
    (table::READONLY, "readonly"),
    (table::DENYOOM, "denyoom"),
    (table::ADMIN, "admin"),
    (table::PUBSUB, "pubsub"),
    (table::LOADING, "loading"),
    (table::FAST, "fast"),
    (table::NO_AUTH, "no_auth"),
    (table::BLOCKING, "blocking"),
    (table::SKIP_MONITOR, "skip_monitor"),
];

/// Redis-style COMMAND INFO entry: name, arity, flags, first, last, step,
/// ACL categories.
fn command_info(e: &Engine, c: &mut Call, spec: &'static CommandSpec) {
    c.out.array(10);
    c.out.bulk(spec.name.as_bytes());
    c.out.int(spec.arity as i64);
    let mut flags: Vec<&str> = FLAG_NAMES.iter().filter(|(flag, _)| spec.has(*flag)).map(|&(_, name)| name).collect();
    // Keys found by parsing the arguments (numkeys, KEYS, STORE…): a client
    // must ask COMMAND GETKEYS. A container's keys are its subcommands'.
    if spec.find_keys.is_some() && !spec.has(table::CONTAINER) {
        flags.push("movablekeys");
    }
    c.out.set(flags.len());
    for f in flags {
        c.out.simple(f);
    }
    c.out.int(spec.first_key as i64);
    c.out.int(spec.last_key as i64);
    c.out.int(spec.step as i64);
    let categories = e.acl.catalog.entries[e.commands.id(spec)].categories;
    c.out.set(categories.count_ones() as usize);
    for name in crate::acl::categories::names(categories) {
        c.out.simple(&format!("@{name}"));
    }
    c.out.set(0); // tips
    c.out.set(0); // key specs
    c.out.set(0); // subcommands
}

/// COMMAND and COMMAND INFO without names: every command's details.
fn all_command_info(e: &Engine, c: &mut Call) {
    let all = e.commands.all().to_vec();
    c.out.array(all.len());
    for spec in all {
        command_info(e, c, spec);
    }
}

const COMMAND_HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// How COMMAND LIST narrows its answer.
enum ListFilter<'a> {
    Module,
    Category(Option<u32>),
    Pattern(&'a [u8]),
}

/// COMMAND LIST [FILTERBY MODULE|ACLCAT|PATTERN arg]: every command and
/// subcommand (`parent|sub`), as Redis lists them.
fn command_list(e: &Engine, c: &mut Call) {
    let filter = match c.argc() {
        2 => None,
        5 if c.is(2, "FILTERBY") => Some(match c.arg(3).to_ascii_lowercase().as_slice() {
            b"module" => ListFilter::Module,
            b"aclcat" => ListFilter::Category(crate::acl::categories::by_name(c.args[4])),
            b"pattern" => ListFilter::Pattern(c.args[4]),
            _ => return c.out.error(SYNTAX),
        }),
        _ => return c.out.error(SYNTAX),
    };
    let listed = |entry: &&crate::acl::catalog::Entry| match &filter {
        None => true,
        // No modules: nothing comes from one.
        Some(ListFilter::Module) | Some(ListFilter::Category(None)) => false,
        Some(ListFilter::Category(Some(bit))) => entry.categories & bit != 0,
        Some(ListFilter::Pattern(p)) => crate::glob::glob_match(p, entry.name.as_bytes(), true),
    };
    let names: Vec<&str> = e.acl.catalog.entries.iter().filter(listed).map(|entry| entry.name).collect();
    c.out.bulks(names.iter().map(|n| n.as_bytes()));
}

fn command(e: &mut Engine, c: &mut Call) {
    if c.argc() == 1 {
        return all_command_info(e, c);
    }
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"count" if c.argc() == 2 => c.out.int(e.commands.all().len() as i64),
        b"help" if c.argc() == 2 => c.out.help(COMMAND_HELP),
        b"info" if c.argc() == 2 => all_command_info(e, c),
        b"info" => {
            let names: Vec<&[u8]> = c.args[2..].to_vec();
            c.out.array(names.len());
            for name in names {
                match e.commands.get(name) {
                    Some(spec) => command_info(e, c, spec),
                    None => c.out.null_array(),
                }
            }
        }
        b"list" => command_list(e, c),
        b"getkeys" | b"getkeysandflags" if c.argc() >= 4 => {
            let args: Vec<&[u8]> = c.args[2..].to_vec();
            let keys = match e.commands.get(args[0]) {
                None => Err(UNKNOWN_COMMAND),
                Some(spec) if !spec.has_keys() => Err(NO_KEYS),
                Some(spec) if !spec.arity_ok(args.len()) => Err(WRONG_ARITY),
                Some(spec) => spec.key_positions(&args).map(|keys| (spec, keys)),
            };
            match keys {
                Err(message) => c.out.error(message),
                Ok((_, keys)) if sub == b"getkeys" => c.out.bulks(keys.into_iter().map(|i| args[i])),
                Ok((spec, keys)) => {
                    // forkv has no key specs: a read-only command's keys are
                    // read, any other's read and updated.
                    let flags: &[&str] =
                        if spec.has(table::READONLY) { &["RO", "access"] } else { &["RW", "access", "update"] };
                    c.out.array(keys.len());
                    for i in keys {
                        c.out.array(2);
                        c.out.bulk(args[i]);
                        c.out.set(flags.len());
                        for flag in flags {
                            c.out.simple(flag);
                        }
                    }
                }
            }
        }
        // No DOCS: forkv has no command documentation to give, and
        // redis-cli, told so by an error, uses its own built-in help (an
        // empty answer would leave it with no help, hints or completion).
        _ => c.subcommand_error(&["count", "help", "info", "list", "getkeys", "getkeysandflags"]),
    }
}

/// From now on the client is sent every command run (see engine/monitor.rs).
fn monitor(e: &mut Engine, c: &mut Call) {
    // Inside EXEC the client expects one reply per command.
    if c.no_block {
        return c.out.error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    // Already monitoring: Redis ignores it, without a reply.
    if !c.client.monitor {
        c.client.monitor = true;
        e.monitors.add(c.client.id);
        c.out.ok();
    }
}

/// CLIENT REPLY ON|OFF|SKIP; OFF and SKIP are not answered themselves
/// (`Client::settle_reply` drops what follows).
fn client_reply(c: &mut Call) {
    let mode = c.arg(2);
    if mode.eq_ignore_ascii_case(b"on") {
        c.client.reply_mode = ReplyMode::On;
        c.out.ok();
    } else if mode.eq_ignore_ascii_case(b"off") {
        c.client.reply_mode = ReplyMode::Off;
    } else if mode.eq_ignore_ascii_case(b"skip") {
        if c.client.reply_mode != ReplyMode::Off {
            c.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        c.out.error(SYNTAX);
    }
}

fn reset(e: &mut Engine, c: &mut Call) {
    let id = c.client.id;
    e.watches.unwatch_all(id, &c.client.watched);
    c.client.watched.clear();
    c.client.multi = None;
    c.client.multi_error = false;
    e.pubsub.remove_client(c.client);
    e.monitors.remove(id);
    c.client.monitor = false;
    e.disable_tracking(id);
    let before = c.client.output_class();
    for kind in Sub::ALL {
        c.client.subscribed_to_mut(kind).clear();
    }
    e.note_output_class(c.client, before);
    c.client.db = 0;
    c.client.resp3 = false;
    c.out.resp3 = false;
    c.client.name = None;
    c.client.authenticated = !e.acl.auth_required();
    c.client.user = DEFAULT_USER;
    c.client.reply_mode = ReplyMode::On;
    c.out.simple("RESET");
}
