//! Redis 7.0 ACL: users with passwords and command, key and channel
//! permissions, owned by the engine. Clients refer to their user by id;
//! the default user, allowed everything, costs one flag test a command.

pub mod catalog;
pub mod categories;
pub mod file;
pub mod log;
pub mod selector;
pub mod user;

use crate::engine::table::{CommandSpec, CommandTable};
use catalog::Catalog;
use selector::Denied;
use std::collections::BTreeMap;
use std::ops::Range;
use user::User;

/// A client's user: an index into `Acl::users`, never reused, so a client
/// left pointing at a deleted user finds no user, and no permission.
pub type UserId = usize;

/// The default user's id.
pub const DEFAULT_USER: UserId = 0;

/// Why an ACL SETUSER rule was refused (Redis's errno cases).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    Unknown,
    Syntax,
    KeyAfterAll,
    ChannelAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::Unknown => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// A call as the checks see it: its catalog id, its arguments, the
/// positions of its keys and of the channels it publishes or subscribes to.
pub struct CallToCheck<'a> {
    pub id: usize,
    pub args: &'a [&'a [u8]],
    pub keys: Vec<usize>,
    /// What each key needs (see `categories::COMMANDS`).
    pub access: &'static [u8],
    /// Channel positions, and whether they are patterns (PSUBSCRIBE).
    pub channels: Option<(Range<usize>, bool)>,
}

impl<'a> CallToCheck<'a> {
    pub fn new(catalog: &Catalog, spec_id: usize, spec: &CommandSpec, args: &'a [&'a [u8]]) -> CallToCheck<'a> {
        let keys = if spec.has_keys() { spec.key_positions(args).unwrap_or_default() } else { Vec::new() };
        let channels = match spec.name {
            "subscribe" | "ssubscribe" => Some((1..args.len(), false)),
            "psubscribe" => Some((1..args.len(), true)),
            "publish" | "spublish" => Some((1..2, false)),
            _ => None,
        };
        let id = catalog.id_of_call(spec_id, spec, args);
        let access = variable_access(spec.name, args).unwrap_or(catalog.entries[id].access);
        CallToCheck { id, args, keys, access, channels }
    }
}

/// The key access of the commands whose options decide it (Redis's
/// VARIABLE_FLAGS key specs): SET reads its key only with GET, BITFIELD
/// writes it only with SET or INCRBY (or what it cannot parse).
fn variable_access(name: &str, args: &[&[u8]]) -> Option<&'static [u8]> {
    let is = |arg: &[u8], word: &str| arg.eq_ignore_ascii_case(word.as_bytes());
    match name {
        "set" if args.iter().skip(3).any(|a| is(a, "get")) => Some(&[categories::RW]),
        "set" => Some(&[categories::W]),
        "bitfield" => {
            let mut i = 2;
            while i < args.len() {
                let remaining = args.len() - i - 1;
                if is(args[i], "get") && remaining >= 2 {
                    i += 3;
                } else if is(args[i], "overflow") && remaining >= 1 {
                    i += 2;
                } else {
                    return Some(&[categories::RW]);
                }
            }
            Some(&[categories::R])
        }
        _ => None,
    }
}

/// The refusal of a call: what ACL LOG records and the client is told.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Refusal {
    pub reason: Denied,
    /// The argument at fault (a key or channel).
    pub position: usize,
}

impl Refusal {
    /// Why EXEC no longer runs a queued command.
    pub fn exec_reason(&self) -> &'static str {
        match self.reason {
            Denied::Command => "no permission to execute the command or subcommand",
            Denied::Key => "no permission to touch the specified keys",
            Denied::Channel => "no permission to access one of the channels used as arguments",
        }
    }

    /// Why a script's redis.call was refused.
    pub fn script_reason(&self) -> &'static str {
        match self.reason {
            Denied::Command => "can't run this command or subcommand",
            Denied::Key => "can't access at least one of the keys mentioned in the command arguments",
            Denied::Channel => "can't publish to the channel mentioned in the command",
        }
    }

    /// The NOPERM error a refused command gets.
    pub fn error(&self, command: &str) -> String {
        match self.reason {
            Denied::Command => format!("NOPERM this user has no permissions to run the '{command}' command"),
            Denied::Key => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
            Denied::Channel => {
                "NOPERM this user has no permissions to access one of the channels used as arguments".into()
            }
        }
    }
}

pub struct Acl {
    pub catalog: Catalog,
    /// By id; None once deleted.
    users: Vec<Option<User>>,
    /// By id: the user may run anything (read on every command).
    open: Vec<bool>,
    by_name: BTreeMap<Vec<u8>, UserId>,
    pub log: log::AclLog,
}

impl Acl {
    /// The default user alone, allowed everything; `requirepass` gives it
    /// its password.
    pub fn new(table: &CommandTable, requirepass: Option<&str>) -> Acl {
        let catalog = Catalog::new(table);
        let mut acl =
            Acl { catalog, users: Vec::new(), open: Vec::new(), by_name: BTreeMap::new(), log: Default::default() };
        let default = acl.default_rules();
        acl.put(default);
        acl.set_default_password(requirepass);
        acl
    }

    fn default_rules(&self) -> User {
        let mut u = User::new(b"default");
        for rule in ["+@all", "~*", "&*", "on", "nopass"] {
            u.apply(&self.catalog, rule.as_bytes()).expect("the default user's rules are valid");
        }
        u
    }

    /// Keeps the default user in step with `requirepass` (None: nopass).
    pub fn set_default_password(&mut self, password: Option<&str>) {
        let catalog = &self.catalog;
        let user = self.users[DEFAULT_USER].as_mut().expect("the default user is never deleted");
        let rule = password.map_or(b"nopass".to_vec(), |p| [b">", p.as_bytes()].concat());
        for rule in [&b"resetpass"[..], &rule] {
            user.apply(catalog, rule).expect("password rules are valid");
        }
    }

    pub fn user(&self, id: UserId) -> Option<&User> {
        self.users.get(id).and_then(Option::as_ref)
    }

    pub fn id(&self, name: &[u8]) -> Option<UserId> {
        self.by_name.get(name).copied()
    }

    pub fn get(&self, name: &[u8]) -> Option<&User> {
        self.id(name).and_then(|id| self.user(id))
    }

    /// The user's name ("default" for a user since deleted: its clients
    /// are on their way out).
    pub fn name(&self, id: UserId) -> &[u8] {
        self.user(id).map_or(b"default", |u| &u.name)
    }

    /// Users in name order (ACL LIST, USERS, SAVE).
    pub fn users(&self) -> impl Iterator<Item = (UserId, &User)> {
        self.by_name.values().filter_map(|&id| self.user(id).map(|u| (id, u)))
    }

    /// True when a client of `id` may run anything: the one test on the
    /// path of every command.
    #[inline]
    pub fn unrestricted(&self, id: UserId) -> bool {
        self.open.get(id).copied().unwrap_or(false)
    }

    /// Must a client that has not authenticated do so first? (The
    /// default user is off or has passwords.)
    pub fn auth_required(&self) -> bool {
        self.user(DEFAULT_USER).is_none_or(|u| !u.nopass || !u.enabled)
    }

    /// Checks a call for user `id` (a deleted user may run nothing).
    pub fn check(&self, id: UserId, call: &CallToCheck) -> Result<(), Refusal> {
        let Some(user) = self.user(id) else {
            return Err(Refusal { reason: Denied::Command, position: 0 });
        };
        user.check(&self.catalog, call).map_err(|(reason, position)| Refusal { reason, position })
    }

    /// The user `name` if `password` opens it (it must be on).
    pub fn authenticate(&self, name: &[u8], password: &[u8]) -> Option<UserId> {
        let id = self.id(name)?;
        let user = self.user(id)?;
        (user.enabled && user.password_matches(password)).then_some(id)
    }

    /// Applies ACL SETUSER's rules to `name` (created if new), all or
    /// none: the error names the rule at fault. Returns the user's id.
    pub fn set_user(&mut self, name: &[u8], rules: &[&[u8]]) -> Result<UserId, String> {
        let rules = merge_selector_rules(rules).map_err(|start| {
            format!("Unmatched parenthesis in acl selector starting at '{}'.", String::from_utf8_lossy(start))
        })?;
        let mut user = self.get(name).cloned().unwrap_or_else(|| User::new(name));
        for rule in &rules {
            user.apply(&self.catalog, rule).map_err(|e| {
                format!("Error in ACL SETUSER modifier '{}': {}", String::from_utf8_lossy(rule), e.message())
            })?;
        }
        Ok(self.put(user))
    }

    /// Stores a user, replacing one of the same name in place (its
    /// clients keep it).
    fn put(&mut self, user: User) -> UserId {
        let open = user.unrestricted();
        let id = match self.id(&user.name) {
            Some(id) => id,
            None => {
                self.by_name.insert(user.name.clone(), self.users.len());
                self.users.push(None);
                self.open.push(false);
                self.users.len() - 1
            }
        };
        self.users[id] = Some(user);
        self.open[id] = open;
        id
    }

    /// Deletes a user (not the default one); its id is never reused.
    pub fn delete(&mut self, name: &[u8]) -> Option<UserId> {
        if name == b"default" {
            return None;
        }
        let id = self.by_name.remove(name)?;
        self.users[id] = None;
        self.open[id] = false;
        Some(id)
    }

    /// Replaces every user with `users` (ACL LOAD, startup): the default
    /// user keeps its id, the others are new. Returns the ids dropped.
    pub fn replace_all(&mut self, users: Vec<User>) -> Vec<UserId> {
        let dropped: Vec<UserId> = self.by_name.values().copied().filter(|&id| id != DEFAULT_USER).collect();
        for &id in &dropped {
            self.users[id] = None;
            self.open[id] = false;
        }
        self.by_name.retain(|_, id| *id == DEFAULT_USER);
        let mut default = self.default_rules();
        for user in users {
            if user.name == b"default" {
                default = user;
            } else {
                self.put(user);
            }
        }
        self.put(default);
        dropped
    }
}

/// Spaces (C's isspace) or NUL in a user name or pattern, which Redis
/// refuses so that rules read back as they were written.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&b| b.is_ascii_whitespace() || b == 0x0b || b == 0)
}

/// Joins a selector written over several words (`(+get` `~k)`) into one
/// rule, as Redis accepts; Err gives the word of an unclosed `(`.
pub fn merge_selector_rules<'a>(words: &[&'a [u8]]) -> Result<Vec<Vec<u8>>, &'a [u8]> {
    let mut merged = Vec::new();
    let mut open: Option<(Vec<u8>, &[u8])> = None;
    for &word in words {
        if let Some((selector, _)) = open.as_mut() {
            selector.push(b' ');
            selector.extend_from_slice(word);
            if word.ends_with(b")") {
                merged.push(open.take().map(|(s, _)| s).unwrap_or_default());
            }
        } else if word.first() == Some(&b'(') && !word.ends_with(b")") {
            open = Some((word.to_vec(), word));
        } else {
            merged.push(word.to_vec());
        }
    }
    match open {
        Some((_, start)) => Err(start),
        None => Ok(merged),
    }
}
