//! Records of dataset changes, in execution order, waiting to be handed to
//! the AOF writer. SELECT is inserted when the db changes and MULTI/EXEC wrap
//! the writes of a transaction, as Redis's feedAppendOnlyFile does.

use crate::aof::record::encode_command;
use bytes::BytesMut;

#[derive(Default)]
pub struct Propagator {
    /// Whether anyone consumes records (AOF on, or a rewrite collecting).
    pub enabled: bool,
    pub pending: BytesMut,
    selected_db: Option<usize>,
    multi_open: bool,
    multi_written: bool,
    /// Records appended so far (a script wraps its own in MULTI/EXEC when
    /// it wrote more than one).
    records: u64,
}

/// Where a script's records start (see `begin_script`).
pub struct ScriptUnit {
    start: usize,
    records: u64,
    nested: bool,
}

impl Propagator {
    fn select(&mut self, db: usize) {
        if self.selected_db != Some(db) {
            let mut n = crate::util::itoa_buf();
            encode_command(&mut self.pending, &[b"SELECT", crate::util::fmt_i64(db as i64, &mut n)]);
            self.selected_db = Some(db);
        }
    }

    fn before_write(&mut self, db: usize) {
        if self.multi_open && !self.multi_written {
            encode_command(&mut self.pending, &[b"MULTI"]);
            self.multi_written = true;
        }
        self.select(db);
    }

    /// Appends one command record for `db`.
    pub fn command(&mut self, db: usize, parts: &[&[u8]]) {
        if self.enabled {
            self.before_write(db);
            encode_command(&mut self.pending, parts);
            self.records += 1;
        }
    }

    /// Appends `count` records already encoded by a command handler.
    pub fn encoded(&mut self, db: usize, records: &[u8], count: u64) {
        if self.enabled && !records.is_empty() {
            self.before_write(db);
            self.pending.extend_from_slice(records);
            self.records += count;
        }
    }

    pub fn begin_multi(&mut self) {
        self.multi_open = true;
        self.multi_written = false;
    }

    pub fn end_multi(&mut self) {
        if self.multi_written {
            encode_command(&mut self.pending, &[b"EXEC"]);
        }
        self.multi_open = false;
        self.multi_written = false;
    }

    /// A script starts: what it writes is wrapped in MULTI/EXEC by
    /// `end_script` if it is more than one command (Redis 7 propagates a
    /// script's effects). Inside a transaction the EXEC's MULTI covers it.
    pub fn begin_script(&mut self) -> ScriptUnit {
        ScriptUnit { start: self.pending.len(), records: self.records, nested: self.multi_open }
    }

    pub fn end_script(&mut self, unit: ScriptUnit) {
        if unit.nested || self.records - unit.records < 2 || unit.start > self.pending.len() {
            return;
        }
        let tail = self.pending.split_off(unit.start);
        encode_command(&mut self.pending, &[b"MULTI"]);
        self.pending.extend_from_slice(&tail);
        encode_command(&mut self.pending, &[b"EXEC"]);
    }

    /// The records since the last call; the next record re-selects its db,
    /// since a new file may start here (after a rewrite).
    pub fn take(&mut self) -> BytesMut {
        self.pending.split()
    }

    /// Forget the selected db (a new AOF file starts without a SELECT).
    pub fn reset_selected_db(&mut self) {
        self.selected_db = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_and_wraps_transactions() {
        let mut p = Propagator { enabled: true, ..Default::default() };
        p.command(0, &[b"SET", b"a", b"1"]);
        p.begin_multi();
        p.command(0, &[b"INCR", b"a"]);
        p.command(2, &[b"DEL", b"b"]);
        p.end_multi();
        let text = String::from_utf8(p.take().to_vec()).unwrap();
        let words: Vec<&str> = text.split("\r\n").filter(|w| !w.starts_with(['*', '$']) && !w.is_empty()).collect();
        assert_eq!(words, ["SELECT", "0", "SET", "a", "1", "MULTI", "INCR", "a", "SELECT", "2", "DEL", "b", "EXEC"]);
    }

    fn words(p: &mut Propagator) -> Vec<String> {
        let text = String::from_utf8(p.take().to_vec()).unwrap();
        text.split("\r\n").filter(|w| !w.starts_with(['*', '$']) && !w.is_empty()).map(String::from).collect()
    }

    #[test]
    fn scripts_wrap_more_than_one_write() {
        let mut p = Propagator { enabled: true, ..Default::default() };
        p.command(0, &[b"SET", b"a", b"1"]);
        let unit = p.begin_script();
        p.end_script(unit);
        let unit = p.begin_script();
        p.command(0, &[b"INCR", b"a"]);
        p.end_script(unit);
        let unit = p.begin_script();
        p.command(1, &[b"DEL", b"b"]);
        let mut two = BytesMut::new();
        encode_command(&mut two, &[b"SREM", b"s", b"x"]);
        encode_command(&mut two, &[b"SREM", b"s", b"y"]);
        p.encoded(1, &two, 2);
        p.end_script(unit);
        assert_eq!(
            words(&mut p),
            [
                "SELECT", "0", "SET", "a", "1", "INCR", "a", "MULTI", "SELECT", "1", "DEL", "b", "SREM", "s", "x",
                "SREM", "s", "y", "EXEC"
            ]
        );
        // Inside EXEC the transaction's own MULTI covers the script.
        p.begin_multi();
        let unit = p.begin_script();
        p.command(1, &[b"DEL", b"b"]);
        p.command(1, &[b"DEL", b"c"]);
        p.end_script(unit);
        p.end_multi();
        assert_eq!(words(&mut p), ["MULTI", "DEL", "b", "DEL", "c", "EXEC"]);
    }

    #[test]
    fn disabled_records_nothing() {
        let mut p = Propagator::default();
        p.command(0, &[b"SET", b"a", b"1"]);
        assert!(p.take().is_empty());
    }
}
