//! ACL: users and their permissions (SETUSER, GETUSER, DELUSER, LIST,
//! USERS, WHOAMI, CAT, GENPASS, LOG, DRYRUN, LOAD, SAVE, HELP).

use crate::acl::log::Field;
use crate::acl::selector::{Denied, Selector};
use crate::acl::{categories, file, has_spaces, CallToCheck};
use crate::engine::table::{cmd, CommandSpec, ADMIN, CONTAINER, LOADING};
use crate::engine::{Call, Engine};
use std::io::Read;

/// ADMIN keeps it from MONITOR, where SETUSER would show passwords.
pub static COMMANDS: &[CommandSpec] = &[cmd("acl", -2, ADMIN | LOADING | CONTAINER, (0, 0, 0), acl)];

const NO_ACL_FILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// GENPASS's largest password.
const GENPASS_MAX_BITS: i64 = 4096;

fn acl(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    let argc = c.argc();
    match sub.as_slice() {
        b"setuser" if argc >= 3 => setuser(e, c),
        b"deluser" if argc >= 3 => deluser(e, c),
        b"getuser" if argc == 3 => getuser(e, c),
        b"list" | b"users" if argc == 2 => {
            let lines: Vec<Vec<u8>> = e
                .acl
                .users()
                .map(|(_, u)| match sub.as_slice() {
                    b"users" => u.name.clone(),
                    _ => [b"user ", &u.name[..], b" ", u.describe(&e.acl.catalog).as_bytes()].concat(),
                })
                .collect();
            c.out.bulks(lines.iter().map(Vec::as_slice));
        }
        b"whoami" if argc == 2 => c.out.bulk(e.acl.name(c.client.user)),
        b"load" | b"save" if e.config.aclfile.is_empty() => c.out.error(NO_ACL_FILE),
        b"load" if argc == 2 => match e.load_acl_file() {
            Ok(replaced) => {
                e.disconnect_users(&replaced, c.client);
                c.out.ok();
            }
            Err(errors) => c.out.error(&format!("ERR {errors}")),
        },
        b"save" if argc == 2 => match file::save(&e.acl, &e.config.aclfile) {
            Ok(()) => c.out.ok(),
            Err(_) => c.out.error(
                "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
            ),
        },
        b"cat" if argc == 2 => c.out.bulks(categories::NAMES.iter().map(|n| n.as_bytes())),
        b"cat" if argc == 3 => match categories::by_name(c.arg(2)) {
            Some(category) => {
                let names: Vec<&str> =
                    e.acl.catalog.in_category(category).map(|id| e.acl.catalog.entries[id].name).collect();
                c.out.bulks(names.iter().map(|n| n.as_bytes()));
            }
            None => {
                let shown = String::from_utf8_lossy(&c.arg(2)[..c.arg(2).len().min(128)]).into_owned();
                c.out.error(&format!("ERR Unknown category '{shown}'"));
            }
        },
        b"genpass" if argc == 2 || argc == 3 => genpass(c),
        b"log" if argc == 2 || argc == 3 => log(e, c),
        b"dryrun" if argc >= 4 => dryrun(e, c),
        b"help" if argc == 2 => c.out.help(ACL_HELP),
        // Variable arities (-2 in Redis's table) pass the arity check and
        // meet the subcommand's own: Redis's addReplySubcommandSyntaxError.
        b"cat" | b"genpass" | b"log" => c.subcommand_syntax_error(),
        _ => c.subcommand_error(&[
            "setuser", "deluser", "getuser", "list", "users", "whoami", "load", "save", "cat", "genpass", "log",
            "dryrun", "help",
        ]),
    }
}

fn setuser(e: &mut Engine, c: &mut Call) {
    let name = c.arg(2);
    if has_spaces(name) {
        return c.out.error("ERR Usernames can't contain spaces or null characters");
    }
    let existed = e.acl.id(name).is_some();
    match e.acl.set_user(name, &c.args[3..]) {
        Ok(id) => {
            if existed {
                e.disconnect_revoked_subscribers(id, c.client);
            }
            c.out.ok();
        }
        Err(message) => c.out.error(&format!("ERR {}", message.replace(['\r', '\n'], " "))),
    }
}

fn deluser(e: &mut Engine, c: &mut Call) {
    if c.args[2..].iter().any(|&name| name == b"default") {
        return c.out.error("ERR The 'default' user cannot be removed");
    }
    let deleted: Vec<usize> = c.args[2..].iter().filter_map(|name| e.acl.delete(name)).collect();
    e.disconnect_users(&deleted, c.client);
    c.out.int(deleted.len() as i64);
}

/// A selector's commands, keys and channels, as GETUSER shows them.
fn describe_selector(e: &Engine, c: &mut Call, s: &Selector) {
    c.out.bulk(b"commands");
    c.out.bulk(s.describe_commands(&e.acl.catalog).as_bytes());
    c.out.bulk(b"keys");
    let keys = if s.allkeys { "~*".into() } else { s.keys.iter().map(|k| k.describe()).collect::<Vec<_>>().join(" ") };
    c.out.bulk(keys.as_bytes());
    c.out.bulk(b"channels");
    let channels: Vec<u8> = if s.allchannels {
        b"&*".to_vec()
    } else {
        s.channels.iter().map(|ch| [b"&", &ch[..]].concat()).collect::<Vec<_>>().join(&b' ')
    };
    c.out.bulk(&channels);
}

fn getuser(e: &mut Engine, c: &mut Call) {
    let Some(user) = e.acl.get(c.arg(2)).cloned() else { return c.out.null() };
    c.out.map(6);
    c.out.bulk(b"flags");
    let flags = user.flags();
    c.out.set(flags.len());
    for flag in flags {
        c.out.bulk(flag.as_bytes());
    }
    c.out.bulk(b"passwords");
    c.out.bulks(user.passwords.iter().map(|p| p.as_bytes()));
    describe_selector(e, c, user.root());
    c.out.bulk(b"selectors");
    c.out.array(user.selectors.len() - 1);
    for s in &user.selectors[1..] {
        c.out.map(3);
        describe_selector(e, c, s);
    }
}

/// Random hex digits from the kernel, `bits` worth (rounded up to 4).
fn genpass(c: &mut Call) {
    let bits = match c.args.get(2) {
        None => 256,
        Some(_) => match c.int_arg(2) {
            Some(n) => n,
            None => return,
        },
    };
    if bits <= 0 || bits > GENPASS_MAX_BITS {
        return c.out.error(&format!(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GENPASS_MAX_BITS}"
        ));
    }
    let chars = (bits as usize).div_ceil(4);
    let mut random = vec![0u8; chars.div_ceil(2)];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut random)).is_err() {
        return c.out.error("ERR Can't read random bytes");
    }
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    c.out.bulk(&hex.as_bytes()[..chars]);
}

fn log(e: &mut Engine, c: &mut Call) {
    let mut count = 10;
    if c.argc() == 3 {
        if c.is(2, "RESET") {
            e.acl.log.clear();
            return c.out.ok();
        }
        let Some(n) = c.int_arg(2) else { return };
        count = n.max(0) as usize;
    }
    let now = crate::util::now_ms();
    let entries = e.acl.log.latest(count);
    c.out.array(entries.len());
    for entry in entries {
        c.out.map(7);
        for (name, value) in entry.fields(now) {
            c.out.bulk(name.as_bytes());
            match value {
                Field::Int(n) => c.out.int(n),
                Field::Text(t) => c.out.bulk(t),
                Field::Double(d) => c.out.double(d),
            }
        }
    }
}

/// ACL DRYRUN user command [arg…]: would `user` be allowed to run it?
fn dryrun(e: &mut Engine, c: &mut Call) {
    let Some(id) = e.acl.id(c.arg(2)) else {
        return c.out.error(&format!("ERR User '{}' not found", String::from_utf8_lossy(c.arg(2))));
    };
    let args = &c.args[3..];
    let Some(spec) = e.commands.get(args[0]) else {
        return c.out.error(&format!("ERR Command '{}' not found", String::from_utf8_lossy(args[0])));
    };
    if !spec.arity_ok(args.len()) {
        return c.out.error(&format!("ERR wrong number of arguments for '{}' command", spec.name));
    }
    let call = CallToCheck::new(&e.acl.catalog, e.commands.id(spec), spec, args);
    let Err(refusal) = e.acl.check(id, &call) else { return c.out.ok() };
    let message = match refusal.reason {
        Denied::Command => {
            format!("This user has no permissions to run the '{}' command", e.acl.catalog.entries[call.id].name)
        }
        Denied::Key => format!(
            "This user has no permissions to access the '{}' key",
            String::from_utf8_lossy(args[refusal.position])
        ),
        Denied::Channel => format!(
            "This user has no permissions to access the '{}' channel",
            String::from_utf8_lossy(args[refusal.position])
        ),
    };
    c.out.bulk(message.as_bytes());
}

const ACL_HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];
