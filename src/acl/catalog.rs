//! The commands ACL rules name: every command of the table (its ACL id is
//! its table position) and the subcommands of containers after them, each
//! with its categories and key access.

use super::categories::{self, ADMIN, BLOCKING, DANGEROUS, FAST, PUBSUB, READ, SLOW, WRITE};
use crate::engine::command_stats::{subcommand_name, SUBCOMMANDS};
use crate::engine::table::{self, CommandSpec, CommandTable};
use std::collections::HashMap;

pub struct Entry {
    /// `get`, `client|id`.
    pub name: &'static str,
    pub categories: u32,
    /// What each key needs (see `categories::COMMANDS`).
    pub access: &'static [u8],
    /// Runs before AUTH, so no rule can deny it (AUTH, HELLO…).
    pub no_auth: bool,
    /// A subcommand's container.
    pub parent: Option<usize>,
    pub subcommands: Vec<usize>,
}

pub struct Catalog {
    pub entries: Vec<Entry>,
    by_name: HashMap<&'static str, usize>,
    /// `acl-pubsub-default allchannels`: new users and selectors start with
    /// every channel (Redis 7.0's default, `resetchannels`, is false).
    pub all_channels_default: bool,
}

/// The categories a command's flags imply, for a command with no row
/// (Redis's setImplicitACLCategories).
fn implied_categories(spec: &CommandSpec) -> u32 {
    let mut bits = 0;
    for (flag, category) in [
        (table::WRITE, WRITE),
        (table::READONLY, READ),
        (table::ADMIN, ADMIN | DANGEROUS),
        (table::PUBSUB, PUBSUB),
        (table::FAST, FAST),
        (table::BLOCKING, BLOCKING),
    ] {
        if spec.has(flag) {
            bits |= category;
        }
    }
    if bits & FAST == 0 {
        bits |= SLOW;
    }
    bits
}

impl Catalog {
    pub fn new(table: &CommandTable) -> Catalog {
        let mut entries: Vec<Entry> = table
            .all()
            .iter()
            .map(|spec| {
                let row = categories::row(spec.name);
                Entry {
                    name: spec.name,
                    categories: row.map_or_else(|| implied_categories(spec), |r| r.1),
                    access: row.map_or(&[], |r| r.2),
                    no_auth: spec.has(table::NO_AUTH),
                    parent: None,
                    subcommands: Vec::new(),
                }
            })
            .collect();
        let mut by_name: HashMap<&'static str, usize> = entries.iter().enumerate().map(|(i, e)| (e.name, i)).collect();
        for &full in SUBCOMMANDS {
            let parent_name = full.split_once('|').map_or(full, |(p, _)| p);
            let (Some(&parent), Some(row)) = (by_name.get(parent_name), categories::row(full)) else { continue };
            let id = entries.len();
            entries.push(Entry {
                name: full,
                categories: row.1,
                access: row.2,
                no_auth: false,
                parent: Some(parent),
                subcommands: Vec::new(),
            });
            entries[parent].subcommands.push(id);
            by_name.insert(full, id);
        }
        Catalog { entries, by_name, all_channels_default: false }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of a full name, case-insensitive (`GET`, `config|get`).
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        self.by_name.get(lower.as_str()).copied()
    }

    /// The id a call is checked as: its subcommand's for a container
    /// called with one Redis knows, else the command's own (`spec_id`).
    pub fn id_of_call(&self, spec_id: usize, spec: &CommandSpec, args: &[&[u8]]) -> usize {
        match subcommand_name(spec, args) {
            Some(full) => self.by_name.get(full).copied().unwrap_or(spec_id),
            None => spec_id,
        }
    }

    /// Ids of the commands in `category`, in ACL CAT's order.
    pub fn in_category(&self, category: u32) -> impl Iterator<Item = usize> + '_ {
        (0..self.entries.len()).filter(move |&i| self.entries[i].categories & category != 0)
    }
}
