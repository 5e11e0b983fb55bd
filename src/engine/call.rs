//! The context one command runs in: its arguments, its client, its reply,
//! and how its effect is recorded for the AOF.

use super::client::Client;
use crate::long_double::LongDouble;
use crate::reply::Reply;
use crate::strtod::parse_f64;
use crate::util::parse_i64;
use bytes::BytesMut;

pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
/// Redis's getPositiveLongFromObjectOrReply reply, for non-integers too.
pub const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const SYNTAX: &str = "ERR syntax error";
/// The reply to what cannot run while the dataset loads.
pub const LOADING_ERROR: &str = "LOADING Redis is loading the dataset in memory";

/// A request to park the client until one of `keys` gets data.
pub struct BlockRequest {
    pub keys: Vec<Vec<u8>>,
    pub deadline: Option<i64>,
    /// The command to re-run, when not the one that blocked (XREAD's `$`
    /// pinned to an ID).
    pub command: Option<Vec<Vec<u8>>>,
}

pub struct Call<'a> {
    pub args: &'a [&'a [u8]],
    pub out: &'a mut Reply,
    pub client: &'a mut Client,
    /// Inside EXEC, or re-run for a woken client: never block.
    pub no_block: bool,
    /// Replacement AOF records, when the command's own text would not replay
    /// to the same state (EXPIRE → PEXPIREAT, SPOP → SREM, …).
    pub(crate) records: Option<BytesMut>,
    /// How many records `records` holds.
    pub(crate) record_count: u64,
    pub(crate) block: Option<BlockRequest>,
}

impl<'a> Call<'a> {
    pub fn new(args: &'a [&'a [u8]], out: &'a mut Reply, client: &'a mut Client) -> Call<'a> {
        Call { args, out, client, no_block: false, records: None, record_count: 0, block: None }
    }

    pub fn db(&self) -> usize {
        self.client.db
    }

    pub fn arg(&self, i: usize) -> &'a [u8] {
        self.args[i]
    }

    pub fn argc(&self) -> usize {
        self.args.len()
    }

    /// The argument as an integer, or the Redis error reply and None.
    pub fn int_arg(&mut self, i: usize) -> Option<i64> {
        let v = parse_i64(self.args[i]);
        if v.is_none() {
            self.out.error(NOT_INTEGER);
        }
        v
    }

    /// An integer argument that must not be negative.
    pub fn positive_arg(&mut self, i: usize) -> Option<usize> {
        let v = parse_i64(self.args[i]).filter(|&n| n >= 0);
        if v.is_none() {
            self.out.error(NOT_POSITIVE);
        }
        v.map(|n| n as usize)
    }

    pub fn float_arg(&mut self, i: usize) -> Option<f64> {
        let v = parse_f64(self.args[i]);
        if v.is_none() {
            self.out.error(NOT_FLOAT);
        }
        v
    }

    /// INCRBYFLOAT's operand, read as Redis reads a `long double`.
    pub fn long_double_arg(&mut self, i: usize) -> Option<LongDouble> {
        let v = LongDouble::parse(self.args[i]);
        if v.is_none() {
            self.out.error(NOT_FLOAT);
        }
        v
    }

    /// Case-insensitive comparison of argument `i` with an option name.
    pub fn is(&self, i: usize, word: &str) -> bool {
        self.args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
    }

    /// Argument `i` as one of two words (LEFT|RIGHT, BIT|BYTE): true for
    /// `yes`, false for `no`; None after a syntax error reply.
    pub fn either(&mut self, i: usize, yes: &str, no: &str) -> Option<bool> {
        if self.is(i, yes) {
            Some(true)
        } else if self.is(i, no) {
            Some(false)
        } else {
            self.out.error(SYNTAX);
            None
        }
    }

    /// Records `parts` in the AOF instead of the command itself; call several
    /// times for several records, or with nothing to record for none.
    pub fn propagate_as(&mut self, parts: &[&[u8]]) {
        let buf = self.records.get_or_insert_with(BytesMut::new);
        if !parts.is_empty() {
            crate::aof::record::encode_command(buf, parts);
            self.record_count += 1;
        }
    }

    /// Suppresses the AOF record of a command that changed nothing durable.
    pub fn propagate_nothing(&mut self) {
        self.records.get_or_insert_with(BytesMut::new);
    }

    /// Parks the client (blocking commands); the command is run again when
    /// one of `keys` is signalled ready, and at `deadline` with `no_block`
    /// set, to give its timeout reply. With no keys only the deadline (or
    /// a disconnect) ends the wait (WAIT).
    pub fn block_on(&mut self, keys: Vec<Vec<u8>>, deadline: Option<i64>) {
        self.block = Some(BlockRequest { keys, deadline, command: None });
    }

    /// Like `block_on`, re-running `command` instead of this one.
    pub fn block_on_as(&mut self, keys: Vec<Vec<u8>>, deadline: Option<i64>, command: Vec<Vec<u8>>) {
        self.block = Some(BlockRequest { keys, deadline, command: Some(command) });
    }

    /// Redis 7's reply when a container command (CONFIG, CLIENT, …) gets a
    /// subcommand it does not know, or one of `known` with the wrong number
    /// of arguments.
    pub fn subcommand_error(&mut self, known: &[&str]) {
        let cmd = String::from_utf8_lossy(self.args[0]).to_ascii_lowercase();
        let sub = self.args[1];
        let lower = String::from_utf8_lossy(sub).to_ascii_lowercase();
        if known.contains(&lower.as_str()) {
            self.out.error(&format!("ERR wrong number of arguments for '{cmd}|{lower}' command"));
        } else {
            self.out.error(&format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                String::from_utf8_lossy(&sub[..sub.len().min(128)]),
                cmd.to_ascii_uppercase()
            ));
        }
    }

    /// Redis's addReplySubcommandSyntaxError, for commands without a
    /// subcommand table (DEBUG, XINFO, FUNCTION, …) or a subcommand whose
    /// arguments are wrong beyond its arity.
    pub fn subcommand_syntax_error(&mut self) {
        let sub = String::from_utf8_lossy(&self.args[1][..self.args[1].len().min(128)]).into_owned();
        let cmd = String::from_utf8_lossy(self.args[0]).to_uppercase();
        self.out.error(&format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP."));
    }

    pub fn wrong_args(&mut self, name: &str) {
        self.out.error(&format!("ERR wrong number of arguments for '{name}' command"));
    }
}
