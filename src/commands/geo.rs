//! GEO commands (Redis 7.0's geo.c): a geo set is a sorted set whose scores
//! are 52-bit geohashes (`crate::geo`), so GEOADD is a ZADD of computed
//! scores and every other sorted set command works on geo sets. The STORE
//! forms are written to the AOF as given, as Redis writes them: their result
//! depends only on the data, so a replay builds the same set.

mod search;

use std::io::Write;

use search::{search, Form};

use crate::commands::zsets::{add_pairs, read_zset};
use crate::engine::key_finders::{georadius_keys, georadiusbymember_keys};
use crate::engine::table::{cmd, CommandSpec, DENYOOM, MARKS_OWN_WRITES, READONLY, WRITE};
use crate::engine::{Call, Engine, SYNTAX};
use crate::geo::hash::{decode_score, encode_score, geohash_string, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};
use crate::geo::search::{distance, Extent};
use crate::strtod::parse_f64;
use crate::types::AddFlags;

pub static COMMANDS: &[CommandSpec] = &[
    cmd("geoadd", -5, WRITE | DENYOOM, (1, 1, 1), geoadd),
    cmd("geopos", -2, READONLY, (1, 1, 1), geopos),
    cmd("geohash", -2, READONLY, (1, 1, 1), geohash),
    cmd("geodist", -4, READONLY, (1, 1, 1), geodist),
    // Write commands even without STORE, as in Redis 7.0.
    cmd("georadius", -6, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, 1, 1), georadius).keys_by(georadius_keys),
    cmd("georadius_ro", -6, READONLY, (1, 1, 1), georadius_ro),
    cmd("georadiusbymember", -5, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, 1, 1), georadiusbymember)
        .keys_by(georadiusbymember_keys),
    cmd("georadiusbymember_ro", -5, READONLY, (1, 1, 1), georadiusbymember_ro),
    cmd("geosearch", -7, READONLY, (1, 1, 1), geosearch),
    cmd("geosearchstore", -8, WRITE | DENYOOM | MARKS_OWN_WRITES, (1, 2, 1), geosearchstore),
];

// ---------------------------------------------------------------- arguments

/// Longitude and latitude at `i`, `i + 1`, within Redis's limits; None
/// after the error reply.
fn lon_lat_arg(c: &mut Call, i: usize) -> Option<(f64, f64)> {
    let longitude = c.float_arg(i)?;
    let latitude = c.float_arg(i + 1)?;
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        c.out.error(&format!("ERR invalid longitude,latitude pair {longitude:.6},{latitude:.6}"));
        return None;
    }
    Some((longitude, latitude))
}

/// The size in metres of the unit named at `i`.
fn unit_arg(c: &mut Call, i: usize) -> Option<f64> {
    let unit = c.arg(i).to_ascii_lowercase();
    match unit.as_slice() {
        b"m" => Some(1.0),
        b"km" => Some(1000.0),
        b"ft" => Some(0.3048),
        b"mi" => Some(1609.34),
        _ => {
            c.out.error("ERR unsupported unit provided. please use M, KM, FT, MI");
            None
        }
    }
}

/// A number, or None after the error reply `not_numeric`.
fn length_arg(c: &mut Call, i: usize, not_numeric: &str) -> Option<f64> {
    let v = parse_f64(c.arg(i));
    if v.is_none() {
        c.out.error(not_numeric);
    }
    v
}

/// `radius unit` at `i`: the radius and the unit's size in metres.
fn radius_arg(c: &mut Call, i: usize) -> Option<(Extent, f64)> {
    let radius = length_arg(c, i, "ERR need numeric radius")?;
    if radius < 0.0 {
        c.out.error("ERR radius cannot be negative");
        return None;
    }
    Some((Extent::Radius(radius), unit_arg(c, i + 1)?))
}

/// `width height unit` at `i`.
fn box_arg(c: &mut Call, i: usize) -> Option<(Extent, f64)> {
    let width = length_arg(c, i, "ERR need numeric width")?;
    let height = length_arg(c, i + 1, "ERR need numeric height")?;
    if width < 0.0 || height < 0.0 {
        c.out.error("ERR height or width cannot be negative");
        return None;
    }
    Some((Extent::Box { width, height }, unit_arg(c, i + 2)?))
}

// ---------------------------------------------------------------- replies

/// `args` formatted into `buf`: reply texts are short, no allocation.
fn text<'b>(buf: &'b mut [u8; 48], args: std::fmt::Arguments) -> &'b [u8] {
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    // 48 bytes hold any distance or coordinate text.
    let _ = cursor.write_fmt(args);
    let len = cursor.position() as usize;
    &buf[..len]
}

/// A distance as Redis prints it (fixedpoint_d2string): rounded half to
/// even at four decimals, always a bulk string. Distances are never negative.
fn reply_distance(c: &mut Call, d: f64) {
    let units = (d * 10_000.0).round_ties_even() as u64;
    let mut buf = [0u8; 48];
    c.out.bulk(text(&mut buf, format_args!("{}.{:04}", units / 10_000, units % 10_000)));
}

/// A coordinate in Redis's human long double form (`%.17Lf`, trailing
/// zeros cut, `-0` as `0`): a bulk in RESP2, a double in RESP3.
fn reply_coordinate(c: &mut Call, v: f64) {
    let mut buf = [0u8; 48];
    let full = text(&mut buf, format_args!("{v:.17}"));
    let kept = full.iter().rposition(|&b| b != b'0').map_or(0, |i| i + usize::from(full[i] != b'.'));
    let trimmed = &full[..kept];
    c.out.double_text(if trimmed == b"-0" { b"0" } else { trimmed });
}

fn reply_point(c: &mut Call, (longitude, latitude): (f64, f64)) {
    c.out.array(2);
    reply_coordinate(c, longitude);
    reply_coordinate(c, latitude);
}

// ---------------------------------------------------------------- GEOADD, GEOPOS, GEOHASH, GEODIST

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD of the
/// members' geohash scores.
fn geoadd(e: &mut Engine, c: &mut Call) {
    let (mut flags, mut ch) = (AddFlags::default(), false);
    let mut i = 2;
    while i < c.argc() {
        match c.arg(i).to_ascii_lowercase().as_slice() {
            b"nx" => flags.nx = true,
            b"xx" => flags.xx = true,
            b"ch" => ch = true,
            _ => break,
        }
        i += 1;
    }
    let elements = c.argc() - i;
    if elements == 0 || !elements.is_multiple_of(3) || (flags.nx && flags.xx) {
        return c.out.error(SYNTAX);
    }
    let mut pairs = Vec::with_capacity(elements / 3);
    for j in (i..c.argc()).step_by(3) {
        let Some((longitude, latitude)) = lon_lat_arg(c, j) else { return };
        // In range by the check above, so always encodable.
        let score = encode_score(longitude, latitude).unwrap_or_default();
        pairs.push((score as f64, c.arg(j + 2)));
    }
    add_pairs(e, c, flags, ch, &pairs);
}

fn geopos(e: &mut Engine, c: &mut Call) {
    let Ok(z) = read_zset(e, c, c.arg(1)) else { return };
    c.out.array(c.argc() - 2);
    for i in 2..c.argc() {
        match z.and_then(|z| z.score(c.arg(i))) {
            Some(score) => reply_point(c, decode_score(score)),
            None => c.out.null_array(),
        }
    }
}

fn geohash(e: &mut Engine, c: &mut Call) {
    let Ok(z) = read_zset(e, c, c.arg(1)) else { return };
    c.out.array(c.argc() - 2);
    for i in 2..c.argc() {
        match z.and_then(|z| z.score(c.arg(i))) {
            Some(score) => c.out.bulk(&geohash_string(score)),
            None => c.out.null(),
        }
    }
}

/// GEODIST key member1 member2 [unit]: the unit is checked before the key.
fn geodist(e: &mut Engine, c: &mut Call) {
    let to_meters = match c.argc() {
        4 => 1.0,
        5 => {
            let Some(u) = unit_arg(c, 4) else { return };
            u
        }
        _ => return c.out.error(SYNTAX),
    };
    let Ok(z) = read_zset(e, c, c.arg(1)) else { return };
    let points = z.and_then(|z| Some((z.score(c.arg(2))?, z.score(c.arg(3))?)));
    match points {
        Some((a, b)) => {
            let ((lon1, lat1), (lon2, lat2)) = (decode_score(a), decode_score(b));
            reply_distance(c, distance(lon1, lat1, lon2, lat2) / to_meters);
        }
        None => c.out.null(),
    }
}

fn georadius(e: &mut Engine, c: &mut Call) {
    search(e, c, Form::Radius { store: true });
}

fn georadius_ro(e: &mut Engine, c: &mut Call) {
    search(e, c, Form::Radius { store: false });
}

fn georadiusbymember(e: &mut Engine, c: &mut Call) {
    search(e, c, Form::ByMember { store: true });
}

fn georadiusbymember_ro(e: &mut Engine, c: &mut Call) {
    search(e, c, Form::ByMember { store: false });
}

fn geosearch(e: &mut Engine, c: &mut Call) {
    search(e, c, Form::Search { store: false });
}

fn geosearchstore(e: &mut Engine, c: &mut Call) {
    search(e, c, Form::Search { store: true });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::Client;
    use crate::reply::Reply;

    fn run(e: &mut Engine, client: &mut Client, cmd: &str) -> String {
        let args: Vec<&[u8]> = cmd.split(' ').map(str::as_bytes).collect();
        let spec = e.commands.get(args[0]).expect("a known command");
        let mut out = Reply::new(false);
        assert!(e.call(spec, client, &args, &mut out, false).is_none());
        String::from_utf8(out.take().to_vec()).unwrap()
    }

    fn logged(e: &mut Engine) -> Vec<String> {
        let text = String::from_utf8(e.aof.take().to_vec()).unwrap();
        text.split("\r\n").filter(|w| !w.starts_with(['*', '$']) && !w.is_empty()).map(String::from).collect()
    }

    #[test]
    fn store_forms_are_logged_only_when_they_write() {
        let mut e = Engine::new(Config::default());
        e.aof.enabled = true;
        let mut cl = Client::new(1, "test".into(), "test".into(), e.now, false);
        run(&mut e, &mut cl, "GEOADD g 13.361389 38.115556 Palermo");
        assert_eq!(logged(&mut e), ["SELECT", "0", "GEOADD", "g", "13.361389", "38.115556", "Palermo"]);
        assert_eq!(run(&mut e, &mut cl, "GEORADIUS g 15 37 200 km"), "*1\r\n$7\r\nPalermo\r\n");
        assert_eq!(run(&mut e, &mut cl, "GEORADIUS nokey 15 37 200 km STORE d"), ":0\r\n");
        assert!(logged(&mut e).is_empty());
        assert_eq!(run(&mut e, &mut cl, "GEORADIUS g 15 37 200 km STORE d"), ":1\r\n");
        assert_eq!(logged(&mut e), ["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d"]);
        assert_eq!(run(&mut e, &mut cl, "GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 m"), ":0\r\n");
        assert_eq!(logged(&mut e), ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"]);
        assert_eq!(run(&mut e, &mut cl, "EXISTS d"), ":0\r\n");
    }

    #[test]
    fn numbers_print_as_redis_prints_them() {
        let mut cl = Client::new(1, "test".into(), "test".into(), 0, false);
        let mut out = Reply::new(false);
        let mut c = Call::new(&[], &mut out, &mut cl);
        for d in [0.0, 0.00004, 1.5, 166274.15156] {
            reply_distance(&mut c, d);
        }
        for v in [13.361389338970184, 180.0, -0.5, -1e-30, 0.0] {
            reply_coordinate(&mut c, v);
        }
        let text = String::from_utf8(out.take().to_vec()).unwrap();
        let values: Vec<&str> = text.split("\r\n").skip(1).step_by(2).collect();
        let want = ["0.0000", "0.0000", "1.5000", "166274.1516", "13.36138933897018433", "180", "-0.5", "0", "0"];
        assert_eq!(values, want);
    }
}
