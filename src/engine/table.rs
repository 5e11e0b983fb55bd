//! The command table: names, arity, flags and key positions, as in Redis's
//! command table, each pointing at its handler.

use super::key_finders::{KeyFinder, NO_KEYS};
use super::{Call, Engine};

pub type Handler = fn(&mut Engine, &mut Call);

pub const WRITE: u32 = 1;
pub const READONLY: u32 = 1 << 1;
/// May be refused while persistence is failing (MISCONF).
pub const DENYOOM: u32 = 1 << 2;
pub const ADMIN: u32 = 1 << 3;
pub const PUBSUB: u32 = 1 << 4;
/// Allowed while the dataset is loading.
pub const LOADING: u32 = 1 << 5;
pub const FAST: u32 = 1 << 6;
/// Allowed before AUTH.
pub const NO_AUTH: u32 = 1 << 7;
/// Runs immediately even inside MULTI (EXEC, DISCARD, …).
pub const NO_MULTI: u32 = 1 << 8;
pub const BLOCKING: u32 = 1 << 9;
/// Allowed in RESP2 subscribe mode.
pub const PUBSUB_CONTEXT: u32 = 1 << 10;
/// Has subcommands, counted on their own in INFO commandstats (`client|id`).
pub const CONTAINER: u32 = 1 << 11;
/// Marks the keys it writes itself: its other keys are only read (the
/// sources of BITOP, SUNIONSTORE, COPY…), and a WATCH on a source must not
/// see a change, as in Redis, whose key specs tell the two apart.
pub const MARKS_OWN_WRITES: u32 = 1 << 12;
/// Shows itself to MONITOR before it runs, rather than after (EVAL: the
/// commands its script runs then follow it).
pub const SKIP_MONITOR: u32 = 1 << 13;
/// Not a write, but may replicate (PUBLISH, SPUBLISH, PFCOUNT, EVAL): held
/// by CLIENT PAUSE WRITE.
pub const MAY_REPLICATE: u32 = 1 << 14;
/// Its key positions name no keys (Redis's NOT_KEY key spec): the shard
/// channels of SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH, which Redis places
/// for cluster slot checks. COMMAND INFO shows the positions; COMMAND
/// GETKEYS, WATCH and the keyspace see no key.
pub const NOT_KEY: u32 = 1 << 15;
/// Refused unless `enable-debug-command` allows the client (DEBUG; Redis's
/// CMD_PROTECTED).
pub const PROTECTED: u32 = 1 << 16;

pub struct CommandSpec {
    pub name: &'static str,
    /// Redis arity: exact count if positive, minimum count if negative.
    pub arity: i32,
    pub flags: u32,
    /// Keys the command may modify or watch: first, last (negative counts from
    /// the end), step — Redis's legacy key specification.
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// Finds keys the triple cannot describe (COMMAND GETKEYS only: such
    /// commands mark what they write themselves).
    pub find_keys: Option<KeyFinder>,
    pub handler: Handler,
}

impl CommandSpec {
    pub fn is_write(&self) -> bool {
        self.flags & WRITE != 0
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        arity_fits(self.arity, argc)
    }

    /// Indexes of the key arguments in an argument vector of length `argc`.
    pub fn key_indexes(&self, argc: usize) -> impl Iterator<Item = usize> {
        let first = if self.has(NOT_KEY) { 0 } else { self.first_key.max(0) as usize };
        let last = if self.last_key < 0 { argc as i32 + self.last_key } else { self.last_key };
        let step = self.step.max(1) as usize;
        let last = if first == 0 { 0 } else { (last.max(0) as usize).min(argc.saturating_sub(1)) };
        (first..=last).step_by(step).filter(move |&i| i > 0 && i < argc)
    }

    pub fn has_keys(&self) -> bool {
        (self.first_key > 0 && !self.has(NOT_KEY)) || self.find_keys.is_some()
    }

    /// Every key position in `args` (the command name first), as COMMAND
    /// GETKEYS reports them, or its error when they name none.
    pub fn key_positions(&self, args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
        match self.find_keys {
            Some(find) => find(args),
            None => {
                let keys: Vec<usize> = self.key_indexes(args.len()).collect();
                if keys.is_empty() {
                    Err(NO_KEYS)
                } else {
                    Ok(keys)
                }
            }
        }
    }

    /// This row with a key finder for COMMAND GETKEYS.
    pub const fn keys_by(mut self, find: KeyFinder) -> CommandSpec {
        self.find_keys = Some(find);
        self
    }
}

/// Redis's arity rule: exactly `arity` arguments (the name included) when
/// positive, at least `-arity` when negative.
pub fn arity_fits(arity: i32, argc: usize) -> bool {
    (arity >= 0 && argc == arity as usize) || (arity < 0 && argc >= arity.unsigned_abs() as usize)
}

/// Shorthand for table rows.
pub const fn cmd(name: &'static str, arity: i32, flags: u32, keys: (i32, i32, i32), handler: Handler) -> CommandSpec {
    CommandSpec { name, arity, flags, first_key: keys.0, last_key: keys.1, step: keys.2, find_keys: None, handler }
}

/// Name → spec, built once from every command group's table.
pub struct CommandTable {
    map: hashbrown::HashMap<&'static str, &'static CommandSpec>,
    all: Vec<&'static CommandSpec>,
    groups: Vec<&'static [CommandSpec]>,
}

impl CommandTable {
    pub fn new(groups: &[&'static [CommandSpec]]) -> CommandTable {
        let all: Vec<&'static CommandSpec> = groups.iter().flat_map(|g| g.iter()).collect();
        let map = all.iter().map(|c| (c.name, *c)).collect();
        CommandTable { map, all, groups: groups.to_vec() }
    }

    /// The position of `spec` in `all()`, found from its address in its
    /// group's static array (no hashing: it runs for every command).
    pub fn id(&self, spec: &'static CommandSpec) -> usize {
        let address = spec as *const CommandSpec as usize;
        let mut base = 0;
        for group in &self.groups {
            let start = group.as_ptr() as usize;
            let offset = address.wrapping_sub(start) / std::mem::size_of::<CommandSpec>();
            if address >= start && offset < group.len() {
                return base + offset;
            }
            base += group.len();
        }
        unreachable!("command specs all come from the table's groups")
    }

    /// Case-insensitive lookup without allocating for names up to 32 bytes.
    pub fn get(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
        self.map.get(lower).copied()
    }

    /// `rename-command from to` (an empty `to` removes the command), with
    /// Redis's errors; renames apply in order, so they may chain.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), &'static str> {
        let from = from.to_ascii_lowercase();
        let spec = self.map.remove(from.as_str()).ok_or("No such command in rename-command")?;
        if to.is_empty() {
            return Ok(());
        }
        // Leaked once at startup: the table's names live as long as the process.
        let to: &'static str = Box::leak(to.to_ascii_lowercase().into_boxed_str());
        if self.map.contains_key(to) {
            self.map.insert(spec.name, spec);
            return Err("Target command name already exists");
        }
        self.map.insert(to, spec);
        Ok(())
    }

    pub fn all(&self) -> &[&'static CommandSpec] {
        &self.all
    }
}

#[cfg(test)]
mod tests {
    use super::CommandTable;

    #[test]
    fn renamed_commands_answer_to_their_new_name_only() {
        let mut table = CommandTable::new(crate::commands::GROUPS);
        table.rename("CONFIG", "cfg-secret").unwrap();
        table.rename("flushall", "").unwrap();
        assert!(table.get(b"config").is_none() && table.get(b"flushall").is_none());
        assert_eq!(table.get(b"CFG-SECRET").map(|s| s.name), Some("config"));
        assert_eq!(table.rename("nosuch", "x"), Err("No such command in rename-command"));
        assert_eq!(table.rename("get", "set"), Err("Target command name already exists"));
        assert!(table.get(b"get").is_some(), "a refused rename keeps the command");
        table.rename("cfg-secret", "cfg2").unwrap();
        assert_eq!(table.get(b"cfg2").map(|s| s.name), Some("config"));
    }

    #[test]
    fn every_command_id_is_its_position() {
        let table = CommandTable::new(crate::commands::GROUPS);
        for (position, spec) in table.all().iter().enumerate() {
            assert_eq!(table.id(spec), position, "{}", spec.name);
        }
    }
}
