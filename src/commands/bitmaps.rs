//! Bitmap commands: a string read and written as an array of bits, bit 0
//! the most significant bit of the first byte, as Redis 7.0's bitops.c
//! (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO).
//! Writes change the string in place; reads borrow its bytes.

use super::strings::{read_str, string_buffer};
use crate::engine::notify::{GENERIC, STRING};
use crate::engine::table::{cmd, CommandSpec, DENYOOM, FAST, MARKS_OWN_WRITES, READONLY, WRITE};
use crate::engine::{Call, Engine, SYNTAX};
use crate::types::string::resize_greedy;
use crate::types::{Str, Value, WRONGTYPE};
use crate::util::parse_i64;
use std::borrow::Cow;

pub static COMMANDS: &[CommandSpec] = &[
    cmd("setbit", 4, WRITE | DENYOOM, (1, 1, 1), setbit),
    cmd("getbit", 3, READONLY | FAST, (1, 1, 1), getbit),
    cmd("bitcount", -2, READONLY, (1, 1, 1), bitcount),
    cmd("bitpos", -3, READONLY, (1, 1, 1), bitpos),
    cmd("bitop", -4, WRITE | DENYOOM | MARKS_OWN_WRITES, (2, -1, 1), bitop),
    cmd("bitfield", -2, WRITE | DENYOOM, (1, 1, 1), bitfield),
    cmd("bitfield_ro", -2, READONLY | FAST, (1, 1, 1), bitfield_ro),
];

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
const BAD_FIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

// ---- Bits and fields in a byte string ----

/// Bit `offset`; past the end of the string it reads as 0.
fn get_bit(buf: &[u8], offset: u64) -> bool {
    buf.get((offset / 8) as usize).is_some_and(|b| b & (0x80 >> (offset % 8)) != 0)
}

fn set_bit(buf: &mut [u8], offset: u64, on: bool) {
    let mask = 0x80 >> (offset % 8);
    let byte = &mut buf[(offset / 8) as usize];
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
}

/// `bits` low ones (1..=64).
fn low_mask(bits: u32) -> u64 {
    u64::MAX >> (64 - bits)
}

/// The low `bits` of `v` sign-extended: two's complement wrap-around.
fn sign_extend(v: i64, bits: u32) -> i64 {
    let unused = 64 - bits;
    (v << unused) >> unused
}

/// A field spans at most 9 bytes: the shift that brings its last bit to
/// bit 0 of the 16-byte big-endian window starting at its first byte.
fn window_shift(offset: u64, bits: u32) -> u32 {
    128 - (offset % 8) as u32 - bits
}

/// The unsigned field of `bits` at bit `offset`; bytes past the end of the
/// string read as 0.
fn get_unsigned(buf: &[u8], offset: u64, bits: u32) -> u64 {
    let first = (offset / 8) as usize;
    let have = buf.len().saturating_sub(first).min(9);
    let mut window = [0u8; 16];
    if let Some(bytes) = buf.get(first..first + have) {
        window[..have].copy_from_slice(bytes);
    }
    (u128::from_be_bytes(window) >> window_shift(offset, bits)) as u64 & low_mask(bits)
}

fn get_signed(buf: &[u8], offset: u64, bits: u32) -> i64 {
    sign_extend(get_unsigned(buf, offset, bits) as i64, bits)
}

/// Stores the low `bits` of `value` at bit `offset` (the string is long
/// enough), leaving the bits around it alone.
fn set_field(buf: &mut [u8], offset: u64, bits: u32, value: u64) {
    let first = (offset / 8) as usize;
    let last = ((offset + u64::from(bits) - 1) / 8) as usize;
    let span = &mut buf[first..=last];
    let mut window = [0u8; 16];
    window[..span.len()].copy_from_slice(span);
    let shift = window_shift(offset, bits);
    let mask = u128::from(low_mask(bits)) << shift;
    let merged = (u128::from_be_bytes(window) & !mask) | (u128::from(value & low_mask(bits)) << shift);
    span.copy_from_slice(&merged.to_be_bytes()[..span.len()]);
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// What an unsigned field of `bits` stores for `value + incr` (SET passes
/// its value and 0), by Redis's checkUnsignedBitfieldOverflow; None when
/// FAIL refuses. A negative SET value is taken as its two's complement, so
/// SAT stores the maximum for it, as in Redis.
fn unsigned_result(value: u64, incr: i64, bits: u32, mode: Overflow) -> Option<u64> {
    let max = low_mask(bits);
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let limit = if value > max || (incr > 0 && incr > max_incr) {
        max
    } else if incr < 0 && incr < min_incr {
        0
    } else {
        return Some(value.wrapping_add(incr as u64));
    };
    match mode {
        Overflow::Wrap => Some(value.wrapping_add(incr as u64) & max),
        Overflow::Sat => Some(limit),
        Overflow::Fail => None,
    }
}

/// The signed counterpart (checkSignedBitfieldOverflow), with its C
/// arithmetic kept: the increments' limits wrap, so e.g. SET i8 of
/// i64::MIN saturates to the maximum, as Redis does.
fn signed_result(value: i64, incr: i64, bits: u32, mode: Overflow) -> Option<i64> {
    let max = (low_mask(bits) >> 1) as i64;
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let narrow = bits != 64;
    let limit = if value > max || (narrow && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        max
    } else if value < min || (narrow && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        min
    } else {
        return Some(value.wrapping_add(incr));
    };
    match mode {
        Overflow::Wrap => Some(sign_extend(value.wrapping_add(incr), bits)),
        Overflow::Sat => Some(limit),
        Overflow::Fail => None,
    }
}

// ---- Ranges of bits ----

/// BITCOUNT's and BITPOS's range rules: negative indexes count from the
/// end, then both are clamped to the string; in bytes, or bits with BIT.
/// The inclusive range of bits, None when empty.
fn bit_range(start: i64, end: i64, in_bits: bool, len: usize) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let start = if start < 0 { total + start } else { start }.max(0);
    let end = if end < 0 { total + end } else { end }.max(0).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits { (start, end) } else { (start * 8, end * 8 + 7) })
}

/// The bits of the first byte of a range that lie before it.
fn before_mask(first: u64) -> u8 {
    !(0xFF >> (first % 8))
}

/// The bits of the last byte of a range that lie after it.
fn after_mask(last: u64) -> u8 {
    !(0xFF << (7 - last % 8))
}

fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let whole: u64 =
        (&mut words).map(|w| u64::from(u64::from_ne_bytes(w.try_into().expect("8 bytes")).count_ones())).sum();
    whole + words.remainder().iter().map(|b| u64::from(b.count_ones())).sum::<u64>()
}

/// Set bits in the inclusive range of bits `first..=last` of `buf`:
/// whole bytes counted a word at a time, the edges' outside bits taken off.
fn count_bits(buf: &[u8], first: u64, last: u64) -> u64 {
    let (lo, hi) = ((first / 8) as usize, (last / 8) as usize);
    let outside = (buf[lo] & before_mask(first)).count_ones() + (buf[hi] & after_mask(last)).count_ones();
    popcount(&buf[lo..=hi]) - u64::from(outside)
}

/// The first bit equal to `bit` in `first..=last` of `buf`. Looking for a
/// 0 is looking for a 1 in the complement; whole words are skipped at once.
fn find_bit(buf: &[u8], first: u64, last: u64, bit: bool) -> Option<u64> {
    let flip = if bit { 0 } else { u64::MAX };
    let (lo, hi) = ((first / 8) as usize, (last / 8) as usize);
    let hit = |byte: usize, leading: u32| Some(byte as u64 * 8 + u64::from(leading));
    // The edge bytes without their bits outside the range.
    let edge = |i: usize| {
        let mut b = buf[i] ^ flip as u8;
        if i == lo {
            b &= !before_mask(first);
        }
        if i == hi {
            b &= !after_mask(last);
        }
        b
    };
    match edge(lo) {
        0 if lo < hi => {}
        0 => return None,
        b => return hit(lo, b.leading_zeros()),
    }
    let mut at = lo + 1;
    let mut words = buf[lo + 1..hi].chunks_exact(8);
    for w in &mut words {
        let w = u64::from_be_bytes(w.try_into().expect("8 bytes")) ^ flip;
        if w != 0 {
            return hit(at, w.leading_zeros());
        }
        at += 8;
    }
    for &b in words.remainder() {
        let b = b ^ flip as u8;
        if b != 0 {
            return hit(at, b.leading_zeros());
        }
        at += 1;
    }
    match edge(hi) {
        0 => None,
        b => hit(hi, b.leading_zeros()),
    }
}

// ---- Arguments ----

/// A bit offset argument (getBitOffsetFromArgument): not negative, in a
/// byte below proto-max-bulk-len (the AOF's replay is not limited). With
/// `field_bits`, `#N` means the N-th field of that width.
fn bit_offset(e: &Engine, c: &mut Call, i: usize, field_bits: Option<u32>) -> Option<u64> {
    let arg = c.arg(i);
    let (digits, scale) = match (arg.first(), field_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], i64::from(bits)),
        _ => (arg, 1),
    };
    // Redis multiplies in a C long long: a huge `#N` wraps.
    match parse_i64(digits).map(|n| n.wrapping_mul(scale)) {
        Some(n) if n >= 0 && (c.client.loader || ((n >> 3) as u64) < e.config.proto_max_bulk_len) => Some(n as u64),
        _ => {
            c.out.error(BAD_OFFSET);
            None
        }
    }
}

/// BITCOUNT's and BITPOS's unit word: true for BIT.
fn unit_in_bits(c: &mut Call, i: usize) -> Option<bool> {
    c.either(i, "bit", "byte")
}

/// The string at the key, created or zero-padded so that bit `last_bit`
/// exists (lookupStringForBitCommand), and whether that made it longer.
fn bits_for_write<'e>(e: &'e mut Engine, c: &mut Call, last_bit: u64) -> Option<(&'e mut Vec<u8>, bool)> {
    let buf = string_buffer(e, c)?;
    let len = (last_bit / 8) as usize + 1;
    let grown = buf.len() < len;
    if grown {
        resize_greedy(buf, len);
    }
    Some((buf, grown))
}

// ---- SETBIT, GETBIT, BITCOUNT, BITPOS ----

fn setbit(e: &mut Engine, c: &mut Call) {
    let Some(offset) = bit_offset(e, c, 2, None) else { return };
    let on = match parse_i64(c.arg(3)) {
        Some(0) => false,
        Some(1) => true,
        _ => return c.out.error(BAD_BIT),
    };
    let Some((buf, grown)) = bits_for_write(e, c, offset) else { return };
    let old = get_bit(buf, offset);
    // Counted as a change (and logged) only if the string is different.
    if grown || old != on {
        set_bit(buf, offset, on);
        e.notify(STRING, "setbit", c.db(), c.arg(1));
        e.dirty += 1;
    }
    c.out.int(i64::from(old));
}

fn getbit(e: &mut Engine, c: &mut Call) {
    let Some(offset) = bit_offset(e, c, 2, None) else { return };
    if let Ok(found) = read_str(e, c, c.arg(1)) {
        let bit = found.is_some_and(|s| s.with_bytes(|b| get_bit(b, offset)));
        c.out.int(i64::from(bit));
    }
}

fn bitcount(e: &mut Engine, c: &mut Call) {
    // A missing key answers 0 before its arguments are looked at.
    let s = match read_str(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => return c.out.int(0),
        Ok(Some(s)) => s,
    };
    s.with_bytes(|b| {
        let range = match c.argc() {
            2 => bit_range(0, -1, false, b.len()),
            4 | 5 => match bitcount_range(c, b.len()) {
                Some(range) => range,
                None => return,
            },
            _ => return c.out.error(SYNTAX),
        };
        c.out.int(range.map_or(0, |(first, last)| count_bits(b, first, last)) as i64);
    });
}

/// BITCOUNT's `start end [BYTE|BIT]`: Some(None) for an empty range, None
/// after an error reply.
fn bitcount_range(c: &mut Call, len: usize) -> Option<Option<(u64, u64)>> {
    let start = c.int_arg(2)?;
    let end = c.int_arg(3)?;
    // Judged before the unit word, as Redis does.
    if start < 0 && end < 0 && start > end {
        return Some(None);
    }
    let in_bits = if c.argc() == 5 { unit_in_bits(c, 4)? } else { false };
    Some(bit_range(start, end, in_bits, len))
}

fn bitpos(e: &mut Engine, c: &mut Call) {
    let Some(bit) = c.int_arg(2) else { return };
    if bit != 0 && bit != 1 {
        return c.out.error("ERR The bit argument must be 1 or 0.");
    }
    let bit = bit == 1;
    // A missing key is an endless run of zeros, whatever the range.
    let s = match read_str(e, c, c.arg(1)) {
        Err(()) => return,
        Ok(None) => return c.out.int(if bit { -1 } else { 0 }),
        Ok(Some(s)) => s,
    };
    s.with_bytes(|b| {
        if let Some(pos) = bitpos_in(c, b, bit) {
            c.out.int(pos);
        }
    });
}

/// BITPOS over an existing string's bytes; None after an error reply.
fn bitpos_in(c: &mut Call, b: &[u8], bit: bool) -> Option<i64> {
    if c.argc() > 6 {
        c.out.error(SYNTAX);
        return None;
    }
    let start = if c.argc() > 3 { c.int_arg(3)? } else { 0 };
    // Redis reads the unit word before the end.
    let in_bits = if c.argc() == 6 { unit_in_bits(c, 5)? } else { false };
    let end_given = c.argc() > 4;
    let end = if end_given { c.int_arg(4)? } else { -1 };
    let Some((first, last)) = bit_range(start, end, in_bits, b.len()) else { return Some(-1) };
    Some(match find_bit(b, first, last, bit) {
        Some(pos) => pos as i64,
        // With no end the string counts as followed by zeros.
        None if !bit && !end_given => last as i64 + 1,
        None => -1,
    })
}

// ---- BITOP ----

#[derive(Clone, Copy, PartialEq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop_kind(c: &Call) -> Option<BitOp> {
    [("and", BitOp::And), ("or", BitOp::Or), ("xor", BitOp::Xor), ("not", BitOp::Not)]
        .into_iter()
        .find_map(|(name, op)| c.is(1, name).then_some(op))
}

/// `out[i] = f(out[i], src[i])` over the bytes both have.
fn combine(out: &mut [u8], src: &[u8], f: impl Fn(u8, u8) -> u8) {
    out.iter_mut().zip(src).for_each(|(o, &s)| *o = f(*o, s));
}

/// The operation over the sources, each zero-padded to the longest.
fn bitop_result(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; len];
    let (first, rest) = sources.split_first().expect("BITOP has a source");
    out[..first.len()].copy_from_slice(first);
    // A closure per operation (not a function pointer), so each loop is
    // compiled on its own and vectorized.
    match op {
        BitOp::Not => out.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for src in rest {
                combine(&mut out, src, |a, b| a & b);
                out[src.len()..].fill(0);
            }
        }
        BitOp::Or => rest.iter().for_each(|src| combine(&mut out, src, |a, b| a | b)),
        BitOp::Xor => rest.iter().for_each(|src| combine(&mut out, src, |a, b| a ^ b)),
    }
    out
}

fn bitop(e: &mut Engine, c: &mut Call) {
    let Some(op) = bitop_kind(c) else { return c.out.error(SYNTAX) };
    if op == BitOp::Not && c.argc() != 4 {
        return c.out.error("ERR BITOP NOT must be called with a single source key.");
    }
    let (db, dest) = (c.db(), c.arg(2));
    // Each source looked up (expired, type checked) in order, then all
    // borrowed at once; a missing one is empty.
    for &key in &c.args[3..] {
        if e.value(db, key).is_some_and(|v| !matches!(v, Value::Str(_))) {
            return c.out.error(WRONGTYPE);
        }
    }
    let result = {
        let sources: Vec<Cow<[u8]>> = c.args[3..]
            .iter()
            .map(|key| match e.dbs[db].find(key).map(|slot| e.dbs[db].value(slot)) {
                Some(Value::Str(s)) => s.bytes(),
                _ => Cow::Borrowed(&[][..]),
            })
            .collect();
        let borrowed: Vec<&[u8]> = sources.iter().map(|s| &**s).collect();
        bitop_result(op, &borrowed)
    };
    let len = result.len();
    if len > 0 {
        // Redis stores a raw string (OBJECT ENCODING "raw") whatever its length.
        e.set_value(db, dest, Value::Str(Str::Edited(Box::new(result))), false);
        e.notify(STRING, "set", db, dest);
    } else if e.delete_key(db, dest) {
        e.notify(GENERIC, "del", db, dest);
    } else {
        return c.out.int(0);
    }
    e.dirty += 1;
    e.signal_modified(db, dest);
    c.out.int(len as i64);
}

// ---- BITFIELD, BITFIELD_RO ----

#[derive(Clone, Copy, PartialEq)]
enum Sub {
    Get,
    Set,
    IncrBy,
}

/// One GET, SET or INCRBY, with the OVERFLOW mode in force where it stands.
struct Field {
    sub: Sub,
    signed: bool,
    bits: u32,
    offset: u64,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
}

/// A field type `i1`..`i64` or `u1`..`u63` (a u64 could not be replied as
/// an integer). Redis reads the width as C text, up to a NUL byte.
fn field_type(arg: &[u8]) -> Option<(bool, u32)> {
    let (&sign, rest) = arg.split_first()?;
    let digits = rest.split(|&b| b == 0).next().unwrap_or_default();
    let bits = parse_i64(digits)?;
    match sign {
        b'i' if (1..=64).contains(&bits) => Some((true, bits as u32)),
        b'u' if (1..=63).contains(&bits) => Some((false, bits as u32)),
        _ => None,
    }
}

fn overflow_mode(c: &mut Call, i: usize) -> Option<Overflow> {
    let modes = [("wrap", Overflow::Wrap), ("sat", Overflow::Sat), ("fail", Overflow::Fail)];
    let mode = modes.into_iter().find_map(|(name, mode)| c.is(i, name).then_some(mode));
    if mode.is_none() {
        c.out.error("ERR Invalid OVERFLOW type specified");
    }
    mode
}

/// Every subcommand, all checked before any runs (Redis's order of
/// errors); None after an error reply.
fn parse_fields(e: &Engine, c: &mut Call) -> Option<Vec<Field>> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < c.argc() {
        let left = c.argc() - j - 1;
        let sub = if c.is(j, "get") && left >= 2 {
            Sub::Get
        } else if c.is(j, "set") && left >= 3 {
            Sub::Set
        } else if c.is(j, "incrby") && left >= 3 {
            Sub::IncrBy
        } else if c.is(j, "overflow") && left >= 1 {
            overflow = overflow_mode(c, j + 1)?;
            j += 2;
            continue;
        } else {
            c.out.error(SYNTAX);
            return None;
        };
        let Some((signed, bits)) = field_type(c.arg(j + 1)) else {
            c.out.error(BAD_FIELD_TYPE);
            return None;
        };
        let offset = bit_offset(e, c, j + 2, Some(bits))?;
        let value = if sub == Sub::Get { 0 } else { c.int_arg(j + 3)? };
        fields.push(Field { sub, signed, bits, offset, value, overflow });
        j += if sub == Sub::Get { 3 } else { 4 };
    }
    Some(fields)
}

fn read_field(buf: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(buf, f.offset, f.bits)
    } else {
        get_unsigned(buf, f.offset, f.bits) as i64
    }
}

/// Runs a SET or INCRBY on a string long enough for it: the reply (the old
/// value for SET, the new one for INCRBY) and whether the value changed;
/// None when OVERFLOW FAIL refused it.
fn write_field(buf: &mut [u8], f: &Field) -> Option<(i64, bool)> {
    let (old, new) = if f.signed {
        let old = get_signed(buf, f.offset, f.bits);
        let new = match f.sub {
            Sub::IncrBy => signed_result(old, f.value, f.bits, f.overflow)?,
            _ => signed_result(f.value, 0, f.bits, f.overflow)?,
        };
        (old, new)
    } else {
        let old = get_unsigned(buf, f.offset, f.bits);
        let new = match f.sub {
            Sub::IncrBy => unsigned_result(old, f.value, f.bits, f.overflow)?,
            _ => unsigned_result(f.value as u64, 0, f.bits, f.overflow)?,
        };
        (old as i64, new as i64)
    };
    set_field(buf, f.offset, f.bits, new as u64);
    Some((if f.sub == Sub::IncrBy { new } else { old }, old != new))
}

fn bitfield(e: &mut Engine, c: &mut Call) {
    bitfield_generic(e, c, false);
}

fn bitfield_ro(e: &mut Engine, c: &mut Call) {
    bitfield_generic(e, c, true);
}

fn bitfield_generic(e: &mut Engine, c: &mut Call, read_only: bool) {
    let Some(fields) = parse_fields(e, c) else { return };
    let writes = fields.iter().filter(|f| f.sub != Sub::Get);
    let Some(last_bit) = writes.map(|f| f.offset + u64::from(f.bits) - 1).max() else {
        return read_fields(e, c, &fields);
    };
    if read_only {
        return c.out.error("ERR BITFIELD_RO only supports the GET subcommand");
    }
    let Some((buf, grown)) = bits_for_write(e, c, last_bit) else { return };
    c.out.array(fields.len());
    let mut changes = 0;
    for f in &fields {
        if f.sub == Sub::Get {
            c.out.int(read_field(buf, f));
            continue;
        }
        match write_field(buf, f) {
            Some((reply, changed)) => {
                c.out.int(reply);
                changes += u64::from(grown || changed);
            }
            None => c.out.null(),
        }
    }
    if changes > 0 {
        e.notify(STRING, "setbit", c.db(), c.arg(1));
    }
    e.dirty += changes;
    // Redis counts no change when every write failed, yet it has created
    // or padded the string: logged anyway, so a replay has it too.
    if changes == 0 && grown {
        let args = c.args;
        c.propagate_as(args);
    }
}

/// BITFIELD with GETs only: the string read in place, a missing key as zeros.
fn read_fields(e: &mut Engine, c: &mut Call, fields: &[Field]) {
    let Ok(found) = read_str(e, c, c.arg(1)) else { return };
    c.out.array(fields.len());
    let reply = |buf: &[u8], c: &mut Call| fields.iter().for_each(|f| c.out.int(read_field(buf, f)));
    match found {
        Some(s) => s.with_bytes(|buf| reply(buf, c)),
        None => reply(b"", c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_bits_from_the_most_significant_end() {
        let mut buf = vec![0u8; 2];
        set_bit(&mut buf, 0, true);
        set_bit(&mut buf, 15, true);
        assert_eq!(buf, [0x80, 0x01]);
        assert!(get_bit(&buf, 0) && get_bit(&buf, 15) && !get_bit(&buf, 1));
        assert!(!get_bit(&buf, 16) && !get_bit(&buf, 1 << 40), "past the end reads 0");
        set_bit(&mut buf, 0, false);
        assert_eq!(buf, [0x00, 0x01]);
    }

    #[test]
    fn fields_at_any_alignment() {
        // Redis's own example: u5 = 23 at offset 7.
        let mut buf = vec![0u8; 2];
        set_field(&mut buf, 7, 5, 23);
        assert_eq!(buf, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_unsigned(&buf, 7, 5), 23);
        // Only the field's bits change.
        let mut ones = vec![0xFFu8; 10];
        set_field(&mut ones, 3, 64, 0);
        assert_eq!(ones, [0xE0, 0, 0, 0, 0, 0, 0, 0, 0x1F, 0xFF]);
        set_field(&mut ones, 3, 64, u64::MAX);
        assert!(ones.iter().all(|&b| b == 0xFF));
        assert_eq!(get_signed(&ones, 3, 64), -1);
        assert_eq!(get_unsigned(&ones, 1, 63), i64::MAX as u64);
    }

    #[test]
    fn signed_fields_sign_extend_and_short_strings_read_zeros() {
        let mut buf = vec![0u8; 1];
        set_field(&mut buf, 0, 4, (-3i64) as u64);
        assert_eq!(buf, [0xD0]);
        assert_eq!(get_signed(&buf, 0, 4), -3);
        assert_eq!(get_unsigned(&buf, 0, 4), 13);
        assert_eq!(get_signed(&buf, 0, 1), -1);
        assert_eq!(get_unsigned(&buf, 4, 16), 0, "bits past the end are 0");
        assert_eq!(get_unsigned(&buf, 0, 16), 0xD000);
        assert_eq!(get_signed(&[], 100, 64), 0);
    }

    #[test]
    fn unsigned_overflow_at_the_edges() {
        use Overflow::*;
        assert_eq!(unsigned_result(254, 1, 8, Fail), Some(255));
        assert_eq!(unsigned_result(255, 1, 8, Wrap), Some(0));
        assert_eq!(unsigned_result(255, 1, 8, Sat), Some(255));
        assert_eq!(unsigned_result(255, 1, 8, Fail), None);
        assert_eq!(unsigned_result(0, -1, 8, Wrap), Some(255));
        assert_eq!(unsigned_result(0, -1, 8, Sat), Some(0));
        assert_eq!(unsigned_result(0, -1, 8, Fail), None);
        assert_eq!(unsigned_result(10, i64::MIN, 8, Wrap), Some(10));
        // SET: the value alone, negatives as their two's complement.
        assert_eq!(unsigned_result(256, 0, 8, Wrap), Some(0));
        assert_eq!(unsigned_result(-1i64 as u64, 0, 8, Sat), Some(255));
        assert_eq!(unsigned_result(-1i64 as u64, 0, 8, Wrap), Some(255));
        assert_eq!(unsigned_result(i64::MAX as u64, 0, 63, Fail), Some(i64::MAX as u64));
        assert_eq!(unsigned_result(i64::MAX as u64, 1, 63, Wrap), Some(0));
        assert_eq!(unsigned_result(1, 0, 1, Fail), Some(1));
        assert_eq!(unsigned_result(2, 0, 1, Fail), None);
    }

    #[test]
    fn signed_overflow_at_the_edges() {
        use Overflow::*;
        assert_eq!(signed_result(127, 0, 8, Fail), Some(127));
        assert_eq!(signed_result(127, 1, 8, Wrap), Some(-128));
        assert_eq!(signed_result(127, 1, 8, Sat), Some(127));
        assert_eq!(signed_result(127, 1, 8, Fail), None);
        assert_eq!(signed_result(-128, -1, 8, Wrap), Some(127));
        assert_eq!(signed_result(-128, -1, 8, Sat), Some(-128));
        assert_eq!(signed_result(-128, -1, 8, Fail), None);
        assert_eq!(signed_result(200, 0, 8, Wrap), Some(-56));
        assert_eq!(signed_result(-1, 0, 1, Fail), Some(-1));
        assert_eq!(signed_result(1, 0, 1, Sat), Some(0));
        assert_eq!(signed_result(i64::MAX, 1, 64, Wrap), Some(i64::MIN));
        assert_eq!(signed_result(i64::MAX, 1, 64, Sat), Some(i64::MAX));
        assert_eq!(signed_result(i64::MIN, -1, 64, Sat), Some(i64::MIN));
        assert_eq!(signed_result(i64::MIN, i64::MAX, 64, Fail), Some(-1));
        assert_eq!(signed_result(0, i64::MIN, 8, Sat), Some(-128));
        // Redis's C arithmetic: the limit for i64::MIN wraps, so it
        // saturates to the maximum.
        assert_eq!(signed_result(i64::MIN, 0, 8, Sat), Some(127));
    }

    #[test]
    fn ranges_follow_redis_clamping() {
        assert_eq!(bit_range(0, -1, false, 3), Some((0, 23)));
        assert_eq!(bit_range(1, 1, false, 3), Some((8, 15)));
        assert_eq!(bit_range(-100, 100, false, 3), Some((0, 23)));
        assert_eq!(bit_range(5, 10, true, 3), Some((5, 10)));
        assert_eq!(bit_range(-1, -1, true, 3), Some((23, 23)));
        assert_eq!(bit_range(2, 1, false, 3), None);
        assert_eq!(bit_range(3, 5, false, 3), None);
        assert_eq!(bit_range(0, -1, false, 0), None);
    }

    #[test]
    fn popcount_over_ranges() {
        let buf: Vec<u8> = (0..=255u8).collect();
        assert_eq!(count_bits(&buf, 0, 255 * 8 + 7), 1024);
        assert_eq!(popcount(&buf[3..200]), buf[3..200].iter().map(|b| u64::from(b.count_ones())).sum::<u64>());
        let ff = [0xFFu8; 3];
        assert_eq!(count_bits(&ff, 3, 3), 1);
        assert_eq!(count_bits(&ff, 1, 6), 6);
        assert_eq!(count_bits(&ff, 5, 18), 14);
        assert_eq!(count_bits(&[0b1010_0101], 1, 6), 2);
    }

    #[test]
    fn bitpos_over_ranges() {
        let mut buf = vec![0u8; 40];
        assert_eq!(find_bit(&buf, 0, 319, true), None);
        assert_eq!(find_bit(&buf, 5, 300, false), Some(5));
        buf[33] = 0x10;
        assert_eq!(find_bit(&buf, 0, 319, true), Some(33 * 8 + 3));
        assert_eq!(find_bit(&buf, 267, 267, true), Some(267));
        assert_eq!(find_bit(&buf, 268, 319, true), None, "the hit is before the range");
        assert_eq!(find_bit(&buf, 0, 266, true), None, "and after this one");
        let ones = vec![0xFFu8; 40];
        assert_eq!(find_bit(&ones, 0, 319, false), None);
        let mut holes = ones.clone();
        holes[20] = 0xFE;
        assert_eq!(find_bit(&holes, 9, 318, false), Some(167));
        assert_eq!(find_bit(&holes, 168, 318, false), None);
        assert_eq!(find_bit(&[0x0F, 0xF0], 2, 13, true), Some(4));
        assert_eq!(find_bit(&[0x0F, 0xF0], 2, 13, false), Some(2));
        assert_eq!(find_bit(&[0xFF, 0x0F], 8, 11, false), Some(8));
    }

    #[test]
    fn bitop_pads_shorter_sources_with_zeros() {
        let (a, b): (&[u8], &[u8]) = (&[0xF0, 0xFF], &[0x3C]);
        assert_eq!(bitop_result(BitOp::And, &[a, b]), [0x30, 0x00]);
        assert_eq!(bitop_result(BitOp::Or, &[a, b]), [0xFC, 0xFF]);
        assert_eq!(bitop_result(BitOp::Xor, &[b, a]), [0xCC, 0xFF]);
        assert_eq!(bitop_result(BitOp::Not, &[a]), [0x0F, 0x00]);
        assert_eq!(bitop_result(BitOp::And, &[a, b"", b]), [0, 0]);
        assert!(bitop_result(BitOp::Or, &[b"", b""]).is_empty());
    }

    #[test]
    fn field_types_and_their_limits() {
        assert_eq!(field_type(b"i64"), Some((true, 64)));
        assert_eq!(field_type(b"u63"), Some((false, 63)));
        assert_eq!(field_type(b"i1"), Some((true, 1)));
        assert_eq!(field_type(b"i8\0junk"), Some((true, 8)), "read as C text");
        for bad in [&b"u64"[..], b"i65", b"i0", b"I8", b"u", b"", b"u08", b"8"] {
            assert_eq!(field_type(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
