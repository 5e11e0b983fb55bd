//! GEOSEARCH, GEOSEARCHSTORE, GEORADIUS and GEORADIUSBYMEMBER (and the _RO
//! forms): Redis 7.0's georadiusGeneric, parsed in its order (the source's
//! type first, then each argument as it comes, then the combinations).

use super::{box_arg, lon_lat_arg, radius_arg, reply_distance, reply_point};
use crate::commands::zsets::{read_zset, store_result};
use crate::engine::{Call, Engine, SYNTAX};
use crate::geo::hash::decode_score;
use crate::geo::search::{Extent, Shape};
use crate::types::{ScoreRange, ZSet};

/// Which command runs: where its arguments are and which options it takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// GEORADIUS: centre and radius at fixed places; `store` unless _RO.
    Radius { store: bool },
    /// GEORADIUSBYMEMBER: a member and a radius at fixed places.
    ByMember { store: bool },
    /// GEOSEARCH, and GEOSEARCHSTORE with `store`: everything in options.
    Search { store: bool },
}

impl Form {
    fn is_search(self) -> bool {
        matches!(self, Form::Search { .. })
    }

    /// GEORADIUS and GEORADIUSBYMEMBER take STORE and STOREDIST keys.
    fn takes_store_keys(self) -> bool {
        matches!(self, Form::Radius { store: true } | Form::ByMember { store: true })
    }
}

/// Where the result goes when it is not replied: a key, scored by
/// geohash or (STOREDIST) by distance.
struct Store<'a> {
    key: &'a [u8],
    dist: bool,
}

/// A parsed search.
#[derive(Default)]
struct Query<'a> {
    /// None only when the source is missing (then nothing is searched).
    centre: Option<(f64, f64)>,
    /// The extent and its unit's size in metres.
    extent: Option<(Extent, f64)>,
    store: Option<Store<'a>>,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    any: bool,
    /// 0: no limit.
    count: usize,
    /// None: unsorted; Some(true): descending.
    desc: Option<bool>,
    from_member: bool,
    from_lonlat: bool,
    by_radius: bool,
    by_box: bool,
}

/// A point found by a search.
struct Found {
    member: Vec<u8>,
    point: (f64, f64),
    /// In metres, then in the query's unit.
    dist: f64,
    score: f64,
}

pub fn search(e: &mut Engine, c: &mut Call, form: Form) {
    let source = c.arg(if form == (Form::Search { store: true }) { 2 } else { 1 });
    let Ok(z) = read_zset(e, c, source) else { return };
    let Some(mut q) = parse(c, z, form) else { return };
    let found = match (z, q.centre, q.extent) {
        (Some(z), Some((longitude, latitude)), Some((extent, to_meters))) => {
            // COUNT means the nearest ones, unless ANY takes the first found.
            if q.count > 0 && q.desc.is_none() && !q.any {
                q.desc = Some(false);
            }
            let shape = Shape { longitude, latitude, extent, to_meters };
            let mut found = scan(z, &shape, if q.any { q.count } else { 0 });
            keep_sorted(&mut found, q.desc, q.count);
            found.iter_mut().for_each(|f| f.dist /= to_meters);
            found
        }
        // A missing source: nothing found (with a source, both are set).
        _ => Vec::new(),
    };
    match q.store {
        Some(Store { key, dist }) => {
            let stored = found.len() as u64;
            let items = found.into_iter().map(|f| (f.member, if dist { f.dist } else { f.score })).collect();
            let event = if form.is_search() { "geosearchstore" } else { "georadiusstore" };
            store_result(e, c, key, items, event);
            // Redis counts every stored member as a change (store_result one).
            e.dirty += stored.saturating_sub(1);
        }
        None => reply_found(c, &found, &q),
    }
}

/// The member's point in `z`, or the error reply.
fn member_point(c: &mut Call, z: &ZSet, member: &[u8]) -> Option<(f64, f64)> {
    let point = z.score(member).map(decode_score);
    if point.is_none() {
        c.out.error("ERR could not decode requested zset member");
    }
    point
}

/// The query, or None after the error reply. Without a source the
/// arguments are still read, to pick the reply, but no member is looked
/// up (nor GEORADIUSBYMEMBER's radius read).
fn parse<'a>(c: &mut Call<'a>, z: Option<&ZSet>, form: Form) -> Option<Query<'a>> {
    let mut q = Query::default();
    let base = match form {
        Form::Radius { .. } => {
            q.centre = Some(lon_lat_arg(c, 2)?);
            q.extent = Some(radius_arg(c, 4)?);
            6
        }
        Form::ByMember { .. } => {
            if let Some(z) = z {
                let member = c.arg(2);
                q.centre = Some(member_point(c, z, member)?);
                q.extent = Some(radius_arg(c, 3)?);
            }
            5
        }
        Form::Search { store: false } => 2,
        Form::Search { store: true } => {
            q.store = Some(Store { key: c.arg(1), dist: false });
            3
        }
    };
    let mut i = base;
    while i < c.argc() {
        i += parse_option(c, z, form, &mut q, i)? + 1;
    }
    check(c, form, &q)?;
    Some(q)
}

/// Reads the option at `i` into `q`: how many arguments it took after its
/// name, or None after the error reply.
fn parse_option<'a>(c: &mut Call<'a>, z: Option<&ZSet>, form: Form, q: &mut Query<'a>, i: usize) -> Option<usize> {
    let left = c.argc() - i - 1;
    let search = form.is_search();
    let word = c.arg(i).to_ascii_lowercase();
    let taken = match word.as_slice() {
        b"withdist" => set(&mut q.with_dist),
        b"withhash" => set(&mut q.with_hash),
        b"withcoord" => set(&mut q.with_coord),
        b"any" => set(&mut q.any),
        b"asc" | b"desc" => {
            q.desc = Some(word == b"desc");
            0
        }
        b"count" if left >= 1 => {
            let n = c.int_arg(i + 1)?;
            if n <= 0 {
                c.out.error("ERR COUNT must be > 0");
                return None;
            }
            q.count = usize::try_from(n).unwrap_or(usize::MAX);
            1
        }
        b"store" | b"storedist" if form.takes_store_keys() && left >= 1 => {
            q.store = Some(Store { key: c.arg(i + 1), dist: word == b"storedist" });
            1
        }
        b"storedist" if form == (Form::Search { store: true }) => {
            q.store = Some(Store { key: c.arg(1), dist: true });
            0
        }
        b"frommember" if search && left >= 1 && !q.from_lonlat => {
            if let Some(z) = z {
                let member = c.arg(i + 1);
                q.centre = Some(member_point(c, z, member)?);
            }
            q.from_member = true;
            1
        }
        b"fromlonlat" if search && left >= 2 && !q.from_member => {
            q.centre = Some(lon_lat_arg(c, i + 1)?);
            q.from_lonlat = true;
            2
        }
        b"byradius" if search && left >= 2 && !q.by_box => {
            q.extent = Some(radius_arg(c, i + 1)?);
            q.by_radius = true;
            2
        }
        b"bybox" if search && left >= 3 && !q.by_radius => {
            q.extent = Some(box_arg(c, i + 1)?);
            q.by_box = true;
            3
        }
        _ => {
            c.out.error(SYNTAX);
            return None;
        }
    };
    Some(taken)
}

/// Sets a flag option: it takes no argument.
fn set(flag: &mut bool) -> usize {
    *flag = true;
    0
}

/// The checks Redis makes once all options are read, in its order.
fn check(c: &mut Call, form: Form, q: &Query) -> Option<()> {
    let search = form.is_search();
    let name = String::from_utf8_lossy(c.arg(0));
    let error = if q.store.is_some() && (q.with_dist || q.with_hash || q.with_coord) {
        let what = if search { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        format!("ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    } else if search && !(q.from_member || q.from_lonlat) {
        format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")
    } else if search && !(q.by_radius || q.by_box) {
        format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")
    } else if q.any && q.count == 0 {
        "ERR the ANY argument requires COUNT argument".to_string()
    } else {
        return Some(());
    };
    c.out.error(&error);
    None
}

/// The points of `z` inside `shape`, box by box in Redis's order; with a
/// `limit` (ANY) it stops once that many are found.
fn scan(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Found> {
    let mut found = Vec::new();
    let full = |found: &Vec<Found>| limit > 0 && found.len() >= limit;
    for (min, max) in shape.score_ranges() {
        if full(&found) {
            break;
        }
        let range = ScoreRange { min, max, min_ex: false, max_ex: true };
        for (member, score) in z.range_by_score(&range, false, 0, None) {
            let point = decode_score(score);
            if let Some(dist) = shape.distance_if_within(point.0, point.1) {
                found.push(Found { member: member.to_vec(), point, dist, score });
            }
            if full(&found) {
                break;
            }
        }
    }
    found
}

/// Sorts by distance when asked, keeping the first `count` (0: all).
fn keep_sorted(found: &mut Vec<Found>, desc: Option<bool>, count: usize) {
    if let Some(desc) = desc {
        let order = |a: &Found, b: &Found| {
            let o = a.dist.total_cmp(&b.dist);
            if desc {
                o.reverse()
            } else {
                o
            }
        };
        // Only the first `count` need sorting.
        if count > 0 && count < found.len() {
            found.select_nth_unstable_by(count - 1, order);
            found.truncate(count);
        }
        found.sort_by(order);
    }
    if count > 0 {
        found.truncate(count);
    }
}

/// Members alone, or each in an array with the extras asked for.
fn reply_found(c: &mut Call, found: &[Found], q: &Query) {
    let extras = usize::from(q.with_dist) + usize::from(q.with_hash) + usize::from(q.with_coord);
    c.out.array(found.len());
    for f in found {
        if extras > 0 {
            c.out.array(extras + 1);
        }
        c.out.bulk(&f.member);
        if q.with_dist {
            reply_distance(c, f.dist);
        }
        if q.with_hash {
            c.out.int(f.score as i64);
        }
        if q.with_coord {
            reply_point(c, f.point);
        }
    }
}
