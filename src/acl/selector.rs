//! One set of permissions: the commands, keys and channels a selector
//! allows (a user's root permissions, or one of its `(…)` selectors), the
//! rules that change it, and the check of one call against it.

use super::catalog::Catalog;
use super::categories::{self, R, RW, W};
use super::{has_spaces, CallToCheck, RuleError};
use crate::glob::glob_match;
use std::collections::BTreeMap;

/// Why a call is refused, in Redis's order of relevance (a later reason
/// wins when several selectors refuse).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Command,
    Key,
    Channel,
}

/// A key pattern with the access it grants (`~` both, `%R~`, `%W~`).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyPattern {
    pub pattern: Vec<u8>,
    pub access: u8,
}

impl KeyPattern {
    /// The pattern as a rule: `~p`, `%R~p`, `%W~p`.
    pub fn describe(&self) -> String {
        let prefix = match self.access {
            RW => "~",
            R => "%R~",
            _ => "%W~",
        };
        format!("{prefix}{}", String::from_utf8_lossy(&self.pattern))
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selector {
    pub allkeys: bool,
    pub allchannels: bool,
    /// Every command, including any added later (`+@all`).
    pub allcommands: bool,
    /// `+@all` was the starting point: rules describe it as `+@all -…`.
    pub from_all: bool,
    /// Allowed commands by catalog id.
    bits: Vec<u64>,
    /// `+cmd|arg` of a denied non-container command: the first arguments
    /// that still allow it, by command id.
    first_args: BTreeMap<usize, Vec<Vec<u8>>>,
    pub keys: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

impl Selector {
    /// A new selector: nothing allowed, channels as `acl-pubsub-default` says.
    pub fn new(catalog: &Catalog) -> Selector {
        Selector { allchannels: catalog.all_channels_default, ..Selector::default() }
    }

    pub fn allows(&self, id: usize) -> bool {
        self.bits.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, allow: bool) {
        if self.bits.len() <= id / 64 {
            self.bits.resize(id / 64 + 1, 0);
        }
        if allow {
            self.bits[id / 64] |= 1 << (id % 64);
        } else {
            self.bits[id / 64] &= !(1 << (id % 64));
            self.allcommands = false;
        }
    }

    /// Allows or denies a command with all its subcommands.
    fn change(&mut self, catalog: &Catalog, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.first_args.remove(&id);
        for &sub in &catalog.entries[id].subcommands {
            self.set_bit(sub, allow);
        }
    }

    fn set_all_commands(&mut self, catalog: &Catalog, allow: bool) {
        self.bits = vec![if allow { u64::MAX } else { 0 }; catalog.len().div_ceil(64)];
        self.allcommands = allow;
        self.from_all = allow;
        self.first_args.clear();
    }

    /// Redis's category rule: each command of the category, with all its
    /// subcommands, then the subcommands of the category on their own.
    fn change_category(&mut self, catalog: &Catalog, category: u32, allow: bool) {
        for id in catalog.in_category(category).collect::<Vec<_>>() {
            self.change(catalog, id, allow);
        }
    }

    /// Applies one selector rule (ACL SETUSER's words other than the
    /// user's own flags and passwords).
    pub fn apply(&mut self, catalog: &Catalog, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.allkeys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all_commands(catalog, true);
        } else if is("nocommands") || is("-@all") {
            self.set_all_commands(catalog, false);
        } else if op[0] == b'~' || op[0] == b'%' {
            self.add_key_pattern(op)?;
        } else if op[0] == b'&' {
            if self.allchannels {
                return Err(RuleError::ChannelAfterAll);
            }
            if has_spaces(&op[1..]) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == &op[1..]) {
                self.channels.push(op[1..].to_vec());
            }
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let category = categories::by_name(&op[2..]).ok_or(RuleError::Unknown)?;
            self.change_category(catalog, category, op[0] == b'+');
        } else if op[0] == b'+' {
            self.allow_command(catalog, &op[1..])?;
        } else if op[0] == b'-' {
            let id = catalog.find(&op[1..]).ok_or(RuleError::Unknown)?;
            self.change(catalog, id, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.allkeys {
            return Err(RuleError::KeyAfterAll);
        }
        let (access, offset) = if op[0] == b'%' {
            let mut access = 0;
            let mut offset = 1;
            while offset < op.len() {
                match op[offset].to_ascii_uppercase() {
                    b'R' if access & R == 0 => access |= R,
                    b'W' if access & W == 0 => access |= W,
                    b'~' => {
                        offset += 1;
                        break;
                    }
                    _ => return Err(RuleError::Syntax),
                }
                offset += 1;
            }
            // `%~p` grants nothing (Redis would keep it and fail to show it).
            if access == 0 {
                return Err(RuleError::Syntax);
            }
            (access, offset)
        } else {
            (RW, 1)
        };
        let pattern = &op[offset.min(op.len())..];
        if has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(existing) => existing.access |= access,
            None => self.keys.push(KeyPattern { pattern: pattern.to_vec(), access }),
        }
        self.allkeys = false;
        Ok(())
    }

    /// `+cmd`, `+container|sub`, or `+cmd|first-arg` for a command that
    /// has no subcommands.
    fn allow_command(&mut self, catalog: &Catalog, name: &[u8]) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let id = catalog.find(name).ok_or(RuleError::Unknown)?;
            self.change(catalog, id, true);
            return Ok(());
        };
        let (base, arg) = (&name[..bar], &name[bar + 1..]);
        let id = catalog.find(base).ok_or(RuleError::Unknown)?;
        if catalog.entries[id].parent.is_some() {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if arg.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !catalog.entries[id].subcommands.is_empty() {
            let sub = catalog.find(name).ok_or(RuleError::Unknown)?;
            self.change(catalog, sub, true);
        } else {
            let args = self.first_args.entry(id).or_default();
            if !args.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
                args.push(arg.to_vec());
            }
        }
        Ok(())
    }

    /// May it run command `id` called with `args`? A first-arg rule looks
    /// at the argument after the command (after the subcommand for one).
    fn command_allowed(&self, catalog: &Catalog, id: usize, args: &[&[u8]]) -> bool {
        if self.allcommands || catalog.entries[id].no_auth || self.allows(id) {
            return true;
        }
        let position = if catalog.entries[id].parent.is_some() { 2 } else { 1 };
        let allowed = self.first_args.get(&id);
        args.get(position)
            .is_some_and(|arg| allowed.is_some_and(|list| list.iter().any(|a| a.eq_ignore_ascii_case(arg))))
    }

    /// May it touch `key` with `access`?
    pub fn key_allowed(&self, key: &[u8], access: u8) -> bool {
        self.allkeys || self.keys.iter().any(|k| k.access & access == access && glob_match(&k.pattern, key, false))
    }

    /// May it use `channel`? A PSUBSCRIBE pattern must be listed as is.
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.allchannels
            || self.channels.iter().any(|c| if is_pattern { c == channel } else { glob_match(c, channel, false) })
    }

    /// Checks one call: Ok, or why not and the argument at fault.
    pub fn check(&self, catalog: &Catalog, call: &CallToCheck) -> Result<(), (Denied, usize)> {
        if !self.command_allowed(catalog, call.id, call.args) {
            return Err((Denied::Command, 0));
        }
        if !self.allkeys {
            let access = call.access;
            for (n, &pos) in call.keys.iter().enumerate() {
                let needed = access.get(n.min(access.len().saturating_sub(1))).copied().unwrap_or(RW);
                if !self.key_allowed(call.args[pos], needed) {
                    return Err((Denied::Key, pos));
                }
            }
        }
        if !self.allchannels {
            if let Some((positions, is_pattern)) = call.channels.clone() {
                for pos in positions {
                    if !self.channel_allowed(call.args[pos], is_pattern) {
                        return Err((Denied::Channel, pos));
                    }
                }
            }
        }
        Ok(())
    }

    /// The command rules that rebuild this selector's commands, as Redis
    /// writes them: `+@all`/`-@all`, then the categories that fit best,
    /// then single commands and first arguments.
    pub fn describe_commands(&self, catalog: &Catalog) -> String {
        let mut rules = String::new();
        let mut fake = Selector::default();
        fake.set_all_commands(catalog, self.from_all);
        rules.push_str(if self.from_all { "+@all " } else { "-@all " });
        let additive = !self.from_all;
        let mut temp = self.clone();
        let mut applied = [false; categories::NAMES.len()];
        loop {
            let mut best = None;
            let (mut min_diff, mut max_same) = (usize::MAX, 0);
            for (j, _) in categories::NAMES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = catalog.in_category(1 << j).fold((0, 0), |(on, off), id| {
                    if temp.allows(id) {
                        (on + 1, off)
                    } else {
                        (on, off + 1)
                    }
                });
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < min_diff || (diff == min_diff && same > max_same)) {
                    best = Some(j);
                    min_diff = diff;
                    max_same = same;
                }
            }
            let Some(j) = best else { break };
            fake.change_category(catalog, 1 << j, additive);
            temp.change_category(catalog, 1 << j, !additive);
            rules.push_str(&format!("{}@{} ", if additive { '+' } else { '-' }, categories::NAMES[j]));
            applied[j] = true;
        }
        for id in 0..catalog.len() {
            let (mine, predicted) = (self.allows(id), fake.allows(id));
            if mine != predicted {
                rules.push_str(&format!("{}{} ", if mine { '+' } else { '-' }, catalog.entries[id].name));
                fake.change(catalog, id, mine);
            }
            if !mine {
                for arg in self.first_args.get(&id).into_iter().flatten() {
                    rules.push_str(&format!("+{}|{} ", catalog.entries[id].name, String::from_utf8_lossy(arg)));
                }
            }
        }
        rules.pop();
        rules
    }

    /// The whole selector as rules (ACL LIST): keys, channels, commands.
    pub fn describe(&self, catalog: &Catalog) -> String {
        let mut out = String::new();
        if self.allkeys {
            out.push_str("~* ");
        } else {
            for k in &self.keys {
                out.push_str(&k.describe());
                out.push(' ');
            }
        }
        if self.allchannels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            for c in &self.channels {
                out.push_str(&format!("&{} ", String::from_utf8_lossy(c)));
            }
        }
        out.push_str(&self.describe_commands(catalog));
        out
    }
}
