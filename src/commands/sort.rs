//! SORT and SORT_RO, as Redis 7.0's sort.c: the elements of a list, set or
//! sorted set ordered by their own value or by weights named by a BY
//! pattern (numbers by default, bytes with ALPHA), cut by LIMIT, replaced by
//! GET patterns, and replied or (SORT … STORE) written as a list.
//!
//! SORT … STORE is logged as itself, as Redis logs it: every input it reads
//! replays to the same state, so the sort comes out the same. Only a set's
//! own order could differ elsewhere, and it is never stored as such (BY
//! without `*` sorts a set for STORE); where it breaks ALPHA ties, forkv's
//! sets replay to the same order.

mod pattern;
mod pqsort;

use crate::engine::key_finders::{sort_keys, sort_ro_keys};
use crate::engine::notify::{GENERIC, LIST};
use crate::engine::table::{cmd, CommandSpec, DENYOOM, MARKS_OWN_WRITES, READONLY, WRITE};
use crate::engine::{Call, Engine, SYNTAX};
use crate::strtod::parse_strtod_checked;
use crate::types::{Elem, Limits, List, Value, WRONGTYPE};
use pattern::{c_string, has_star, Pattern};
use pqsort::pqsort;
use std::cmp::Ordering;
use std::ops::Range;

pub static COMMANDS: &[CommandSpec] = &[
    cmd("sort", -2, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, 1, 1), sort).keys_by(sort_keys),
    cmd("sort_ro", -2, READONLY, (1, 1, 1), sort_ro).keys_by(sort_ro_keys),
];

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

struct Options<'a> {
    desc: bool,
    alpha: bool,
    offset: i64,
    count: i64,
    store: Option<&'a [u8]>,
    /// The last BY pattern.
    by: Option<Pattern<'a>>,
    /// Some BY had no `*`: keep the source's order. It sticks, as in
    /// Redis, even when a later BY has one.
    dont_sort: bool,
    gets: Vec<Pattern<'a>>,
}

/// Redis's option loop, errors in its order; SORT_RO knows no STORE.
fn parse_options<'a>(c: &mut Call<'a>, read_only: bool) -> Option<Options<'a>> {
    let mut o = Options {
        desc: false,
        alpha: false,
        offset: 0,
        count: -1,
        store: None,
        by: None,
        dont_sort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < c.argc() {
        let left = c.argc() - j - 1;
        if c.is(j, "asc") {
            o.desc = false;
        } else if c.is(j, "desc") {
            o.desc = true;
        } else if c.is(j, "alpha") {
            o.alpha = true;
        } else if c.is(j, "limit") && left >= 2 {
            o.offset = c.int_arg(j + 1)?;
            o.count = c.int_arg(j + 2)?;
            j += 2;
        } else if !read_only && c.is(j, "store") && left >= 1 {
            o.store = Some(c.arg(j + 1));
            j += 1;
        } else if c.is(j, "by") && left >= 1 {
            let by = c.arg(j + 1);
            o.dont_sort |= !has_star(by);
            o.by = Some(Pattern::parse(by));
            j += 1;
        } else if c.is(j, "get") && left >= 1 {
            o.gets.push(Pattern::parse(c.arg(j + 1)));
            j += 1;
        } else {
            c.out.error(SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// Where an element's bytes lie in `Vector::bytes`.
type Span = (usize, usize);

struct Item {
    elem: Span,
    score: f64,
    /// What ALPHA compares: the weight (None when it is missing) or the
    /// element, cut at a NUL where Redis compares with strcoll.
    key: Option<Span>,
}

/// The elements to sort, copied out of the source into one buffer, so the
/// keys that patterns name can be looked up while they are held.
#[derive(Default)]
struct Vector {
    bytes: Vec<u8>,
    items: Vec<Item>,
}

impl Vector {
    fn push(&mut self, element: Elem<'_>) {
        let start = self.bytes.len();
        element.with_bytes(|b| self.bytes.extend_from_slice(b));
        self.items.push(Item { elem: (start, self.bytes.len()), score: 0.0, key: None });
    }
}

fn span(bytes: &[u8], (start, end): Span) -> &[u8] {
    &bytes[start..end]
}

/// Redis's LIMIT clamping for `len` elements: the inclusive window
/// `start..=end`, empty when `end < start`.
fn limit_window(offset: i64, count: i64, len: i64) -> (i64, i64) {
    let start = offset.max(0).min(len);
    let count = count.max(-1).min(len);
    let end = if count < 0 { len - 1 } else { start + count - 1 };
    if start >= len {
        return (len - 1, len - 2);
    }
    (start, end.min(len - 1))
}

/// Loads the elements to sort. A list or sorted set kept in its own order
/// gives only the LIMIT window, in ASC or DESC order (true then), as Redis
/// does; a set kept in its own order ignores DESC.
fn load(source: Option<&Value>, o: &Options, (start, end): (i64, i64)) -> (Vector, bool) {
    let mut v = Vector::default();
    let windowed = match source {
        Some(Value::List(l)) if o.dont_sort => {
            if end >= start && o.desc {
                let last = l.len() as i64 - 1;
                l.range(last - end, last - start).for_each(|x| v.push(x));
                v.items.reverse();
            } else if end >= start {
                l.range(start, end).for_each(|x| v.push(x));
            }
            true
        }
        Some(Value::ZSet(z)) if o.dont_sort => {
            if end >= start {
                z.range_by_rank(start, end, o.desc).into_iter().for_each(|(m, _)| v.push(m));
            }
            true
        }
        Some(Value::List(l)) => {
            v.items.reserve_exact(l.len());
            l.iter().for_each(|x| v.push(x));
            false
        }
        Some(Value::Set(s)) => {
            v.items.reserve_exact(s.len());
            s.iter().for_each(|x| v.push(x));
            false
        }
        Some(Value::ZSet(z)) => {
            v.items.reserve_exact(z.len());
            z.iter().for_each(|(m, _)| v.push(m));
            false
        }
        _ => false,
    };
    (v, windowed)
}

/// Calls `f` with the string at `key`, or the hash `field` there; None when
/// there is no such value (a missing key, field, or another type).
fn lookup_value<R>(
    e: &mut Engine,
    db: usize,
    key: &[u8],
    field: Option<&[u8]>,
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    let slot = e.lookup_read(db, key)?;
    match (e.dbs[db].value(slot), field) {
        (Value::Str(s), None) => Some(s.with_bytes(f)),
        (Value::Hash(h), Some(field)) => h.get(field).map(|v| v.with_bytes(f)),
        _ => None,
    }
}

/// Calls `f` with what `pattern` names for `element` (`buf` holds the key).
fn pattern_value<R>(
    e: &mut Engine,
    db: usize,
    pattern: &Pattern,
    element: &[u8],
    buf: &mut Vec<u8>,
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    match pattern {
        Pattern::Element => Some(f(element)),
        _ => {
            let field = pattern.key_into(element, buf)?;
            lookup_value(e, db, buf, field, f)
        }
    }
}

/// Fills in what the comparison reads; false when a numeric weight is not
/// a double (Redis still looks them all up, then fails).
fn weigh(e: &mut Engine, db: usize, o: &Options, v: &mut Vector) -> bool {
    let Vector { bytes, items } = v;
    // Redis compares with strcoll, which stops at a NUL, unless it stores.
    let cut = |b: &[u8]| if o.store.is_some() { b.len() } else { c_string(b).len() };
    let mut all_numbers = true;
    let mut buf = Vec::new();
    for item in items.iter_mut() {
        let Some(by) = &o.by else {
            let elem = span(bytes, item.elem);
            if o.alpha {
                item.key = Some((item.elem.0, item.elem.0 + cut(elem)));
            } else {
                match parse_strtod_checked(elem) {
                    Some(score) => item.score = score,
                    None => all_numbers = false,
                }
            }
            continue;
        };
        let Some(field) = by.key_into(span(bytes, item.elem), &mut buf) else { continue };
        if o.alpha {
            item.key = lookup_value(e, db, &buf, field, |w| {
                let start = bytes.len();
                bytes.extend_from_slice(&w[..cut(w)]);
                (start, bytes.len())
            });
        } else if let Some(parsed) = lookup_value(e, db, &buf, field, parse_strtod_checked) {
            match parsed {
                Some(score) => item.score = score,
                None => all_numbers = false,
            }
        }
    }
    all_numbers
}

/// Redis's sortCompare: by number then bytes, or (ALPHA) by bytes with a
/// missing weight first.
fn compare(bytes: &[u8], a: &Item, b: &Item, o: &Options) -> Ordering {
    let order = if o.alpha {
        a.key.map(|k| span(bytes, k)).cmp(&b.key.map(|k| span(bytes, k)))
    } else if a.score > b.score {
        Ordering::Greater
    } else if a.score < b.score {
        Ordering::Less
    } else {
        span(bytes, a.elem).cmp(span(bytes, b.elem))
    };
    if o.desc {
        order.reverse()
    } else {
        order
    }
}

fn sort(e: &mut Engine, c: &mut Call) {
    sort_generic(e, c, false);
}

fn sort_ro(e: &mut Engine, c: &mut Call) {
    sort_generic(e, c, true);
}

fn sort_generic(e: &mut Engine, c: &mut Call, read_only: bool) {
    let Some(mut o) = parse_options(c, read_only) else { return };
    let db = c.db();
    let slot = e.lookup_read(db, c.arg(1));
    let source = slot.map(|s| e.dbs[db].value_mut(s));
    let len = match source {
        None => 0,
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => {
            // A set's own order is not reproducible: sorted when it is
            // stored or a script sees it.
            if o.dont_sort && (o.store.is_some() || c.client.script) {
                o.dont_sort = false;
                o.alpha = true;
                o.by = None;
            }
            s.len()
        }
        Some(Value::ZSet(z)) => {
            z.convert_to_skiplist();
            z.len()
        }
        Some(_) => return c.out.error(WRONGTYPE),
    };
    let (start, end) = limit_window(o.offset, o.count, len as i64);
    let (mut v, windowed) = load(slot.map(|s| e.dbs[db].value(s)), &o, (start, end));
    let numbers_ok = o.dont_sort || weigh(e, db, &o, &mut v);
    if !o.dont_sort && numbers_ok {
        let Vector { bytes, items } = &mut v;
        let mut cmp = |a: &Item, b: &Item| compare(bytes, a, b, &o);
        if o.by.is_some() && (start != 0 || end != len as i64 - 1) {
            pqsort(items, &mut cmp, start, end);
        } else {
            items.sort_by(cmp);
        }
    }
    if !numbers_ok {
        return c.out.error(NOT_DOUBLE);
    }
    let window = if windowed {
        0..v.items.len()
    } else if end >= start {
        start as usize..end as usize + 1
    } else {
        0..0
    };
    match o.store {
        None => reply(e, c, &o, &v, window),
        Some(dst) => store(e, c, &o, &v, window, dst),
    }
}

fn reply(e: &mut Engine, c: &mut Call, o: &Options, v: &Vector, window: Range<usize>) {
    let db = c.db();
    c.out.array(window.len() * o.gets.len().max(1));
    let mut buf = Vec::new();
    for item in &v.items[window] {
        let elem = span(&v.bytes, item.elem);
        if o.gets.is_empty() {
            c.out.bulk(elem);
        }
        for get in &o.gets {
            if pattern_value(e, db, get, elem, &mut buf, |b| c.out.bulk(b)).is_none() {
                c.out.null();
            }
        }
    }
}

/// Replaces `dst` with the result as a list, or deletes it when the result
/// is empty (a missing GET value is stored as an empty string).
fn store(e: &mut Engine, c: &mut Call, o: &Options, v: &Vector, window: Range<usize>, dst: &[u8]) {
    let db = c.db();
    let mut list = List::new(Limits::from_config(&e.config).list_max_listpack_size);
    let mut buf = Vec::new();
    for item in &v.items[window] {
        let elem = span(&v.bytes, item.elem);
        if o.gets.is_empty() {
            list.push_back(elem);
        }
        for get in &o.gets {
            if pattern_value(e, db, get, elem, &mut buf, |b| list.push_back(b)).is_none() {
                list.push_back(b"");
            }
        }
    }
    let stored = list.len();
    if stored > 0 {
        // Redis's setKey looks the key up first: an expired one goes as expired.
        e.lookup(db, dst);
        e.set_value(db, dst, Value::List(Box::new(list)), false);
        e.notify(LIST, "sortstore", db, dst);
        e.dirty += stored as u64;
    } else if e.dbs[db].remove(dst).is_some() {
        // Redis's dbDelete: even a key whose TTL just passed counts as deleted.
        e.notify(GENERIC, "del", db, dst);
        e.dirty += 1;
    } else {
        return c.out.int(0);
    }
    e.signal_modified(db, dst);
    c.out.int(stored as i64);
}

#[cfg(test)]
mod tests {
    use super::limit_window;

    #[test]
    fn limit_is_clamped_as_redis_clamps_it() {
        assert_eq!(limit_window(0, -1, 5), (0, 4));
        assert_eq!(limit_window(1, 2, 5), (1, 2));
        assert_eq!(limit_window(-10, 2, 5), (0, 1));
        assert_eq!(limit_window(3, 100, 5), (3, 4));
        assert_eq!(limit_window(2, -7, 5), (2, 4));
        assert_eq!(limit_window(2, 0, 5), (2, 1));
        assert_eq!(limit_window(5, 1, 5), (4, 3));
        assert_eq!(limit_window(i64::MAX, i64::MAX, 5), (4, 3));
        assert_eq!(limit_window(i64::MIN, i64::MIN, 5), (0, 4));
        assert_eq!(limit_window(0, -1, 0), (-1, -2));
    }
}
