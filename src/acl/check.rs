//! One call as the ACL checks see it (its command, keys, their access and
//! channels) and the refusal a check gives, in Redis's words.

use super::catalog::Catalog;
use super::categories;
use super::selector::Denied;
use crate::engine::table::CommandSpec;
use std::ops::Range;

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
