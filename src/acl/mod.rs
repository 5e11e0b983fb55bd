//! Redis 7.0 ACL: users with passwords and command, key and channel
//! permissions, owned by the engine. Clients refer to their user by id;
//! the default user, allowed everything, costs one flag test a command.

pub mod catalog;
pub mod categories;
mod check;
pub mod file;
pub mod log;
mod rules;
pub mod selector;
pub mod user;

pub use check::{CallToCheck, Refusal};
pub use rules::{has_spaces, merge_selector_rules, RuleError};

use crate::engine::table::CommandTable;
use catalog::Catalog;
use selector::Denied;
use std::collections::BTreeMap;
use user::User;

/// A client's user: an index into `Acl::users`, never reused, so a client
/// left pointing at a deleted user finds no user, and no permission.
pub type UserId = usize;

/// The default user's id.
pub const DEFAULT_USER: UserId = 0;

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
        let mut u = User::new(b"default", &self.catalog);
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

    /// Has the default user the `nopass` flag? (Protected mode's test.)
    pub fn default_nopass(&self) -> bool {
        self.user(DEFAULT_USER).is_some_and(|u| u.nopass)
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
        let mut user = self.get(name).cloned().unwrap_or_else(|| User::new(name, &self.catalog));
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
