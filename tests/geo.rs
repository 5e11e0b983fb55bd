//! GEO commands against the real binary, side by side with Debian's
//! redis-server 7.0: the same commands must get byte-identical replies
//! (scores, coordinates and distances as Redis formats them, errors, RESP3
//! shapes) and leave the same sorted sets, random searches must agree with
//! Redis and with a brute-force check, and what the AOF holds must replay
//! (in forkv and in redis-server) to the same sets. The side-by-side tests
//! skip with a note when redis-server is not installed.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use aof_support::{RedisServer, Rng};
use common::Server;
use helpers::{Raw, Resp};
use side_by_side::{start_pair, Pair};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

impl Pair {
    /// A key's members and scores: the same on both, returned.
    fn zset(&mut self, key: &str) -> Resp {
        self.both(&["ZRANGE", key, "0", "-1", "WITHSCORES"])
    }
}

/// The places of Redis's geo.tcl (New York and Sicily).
fn add_places(p: &mut Pair) {
    p.both(&[
        "GEOADD",
        "nyc",
        "-73.9733487",
        "40.7648057",
        "central park n/q/r",
        "-73.9903085",
        "40.7362513",
        "union square",
        "-74.0131604",
        "40.7126674",
        "wtc one",
        "-73.7858139",
        "40.6428986",
        "jfk",
        "-73.9375699",
        "40.7498929",
        "q4",
        "-73.9564142",
        "40.7480973",
        "4545",
    ]);
    p.both(&["GEOADD", "nyc", "-73.9454966", "40.747533", "lic market"]);
    p.line("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania");
    p.line("GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 eage2");
}

#[test]
fn geoadd_scores_and_options_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    add_places(&mut p);
    // The very scores redis-server stores (geo.tcl's "Check geoset values").
    let nyc = p.zset("nyc");
    assert_eq!(nyc.items()[1], Resp::bulk("1791873972053020"));
    p.zset("Sicily");
    assert_eq!(p.line("GEOADD k 10 20 a"), Resp::Int(1));
    assert_eq!(p.line("GEOADD k 10 20 a"), Resp::Int(0));
    assert_eq!(p.line("GEOADD k CH 11 20 a 12 20 b"), Resp::Int(2));
    assert_eq!(p.line("GEOADD k NX 13 20 a 13 20 c"), Resp::Int(1));
    assert_eq!(p.line("GEOADD k XX 14 20 a 14 20 d"), Resp::Int(0));
    assert_eq!(p.line("GEOADD k XX CH 15 20 a 15 20 e"), Resp::Int(1));
    assert_eq!(p.line("GEOADD k ch nx 15 20 a 16 20 f"), Resp::Int(1));
    p.line("GEOADD k -180 -85.05112878 sw 180 85.05112878 ne 0 0 zero");
    p.zset("k");
    // XX on a missing key creates nothing.
    assert_eq!(p.line("GEOADD none XX 1 1 a"), Resp::Int(0));
    assert_eq!(p.line("EXISTS none"), Resp::Int(0));
    // Past 128 members the set changes encoding; scores stay the same.
    let mut args: Vec<String> = vec!["GEOADD".into(), "big".into()];
    for i in 0..300 {
        args.extend([format!("{}", -170.0 + i as f64 * 1.13), format!("{}", -80.0 + i as f64 * 0.53), format!("m{i}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(p.both(&args), Resp::Int(300));
    p.line("OBJECT ENCODING big");
    p.zset("big");
}

#[test]
fn positions_hashes_and_distances_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    add_places(&mut p);
    p.line("GEOPOS Sicily Palermo Catania nosuch edge1");
    p.line("GEOPOS nokey a b");
    p.line("GEOHASH Sicily Palermo Catania nosuch eage2");
    p.line("GEOHASH nokey a");
    assert_eq!(p.line("GEOHASH Sicily Palermo"), Resp::bulks(&["sqc8b49rny0"]));
    for unit in ["", " m", " km", " KM", " ft", " mi"] {
        p.line(&format!("GEODIST Sicily Palermo Catania{unit}"));
        p.line(&format!("GEODIST nyc jfk q4{unit}"));
    }
    assert_eq!(p.line("GEODIST Sicily Palermo Catania km"), Resp::bulk("166.2742"));
    p.line("GEODIST Sicily Palermo Palermo");
    p.line("GEODIST Sicily Palermo nosuch");
    p.line("GEODIST nokey a b");
    // Sets ZADD made: any score is read as a geohash, stray ones included.
    p.line("ZADD z -1 neg 1e30 huge 5e15 high 4503599627370496 top 0 origin 3.7 frac inf inf -inf ninf");
    p.line("GEOPOS z neg huge high top origin frac inf ninf");
    p.line("GEOHASH z neg huge high top origin frac inf ninf");
    p.line("GEODIST z neg origin");
    p.line("GEOSEARCH z FROMMEMBER origin BYRADIUS 100 km WITHCOORD WITHHASH WITHDIST");
    p.line("GEOSEARCH z FROMLONLAT 0 0 BYBOX 40000 40000 km ASC WITHHASH");
}

#[test]
fn searches_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    add_places(&mut p);
    let lines = [
        "GEORADIUS nyc -73.9798091 40.7598464 3 km asc",
        "GEORADIUS nyc -73.9798091 40.7598464 3 km",
        "GEORADIUS nyc -73.9798091 40.7598464 3 km WITHDIST ASC",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY ASC",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 2 DESC",
        "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 200 DESC WITHCOORD WITHDIST WITHHASH",
        "GEORADIUS nyc -73.9798091 40.7598464 10000 ft WITHDIST DESC",
        "GEORADIUS nyc -73.9798091 40.7598464 5 mi WITHCOORD ASC",
        "GEORADIUS nyc -73.9798091 40.7598464 0 km",
        "GEORADIUS nyc 0 0 1 m",
        "GEORADIUS_RO nyc -73.9798091 40.7598464 3 km asc withdist",
        "GEORADIUSBYMEMBER nyc 4545 7 km WITHDIST WITHHASH ASC",
        "GEORADIUSBYMEMBER_RO nyc jfk 20 km COUNT 2 DESC",
        "GEOSEARCH nyc FROMLONLAT -73.9798091 40.7598464 BYBOX 6 6 km ASC",
        "GEOSEARCH nyc FROMLONLAT -73.9798091 40.7598464 BYBOX 6 6 km WITHDIST ASC",
        "GEOSEARCH nyc FROMMEMBER jfk BYBOX 14 140 km DESC WITHCOORD",
        "GEOSEARCH nyc FROMMEMBER 4545 BYRADIUS 3 km ASC COUNT 2",
        "GEOSEARCH nyc FROMMEMBER 4545 BYRADIUS 3 km COUNT 1 ANY",
        "GEOSEARCH nyc FROMMEMBER 4545 BYRADIUS 3 km WITHHASH",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC",
        "GEOSEARCH Sicily frommember Palermo frommember Catania byradius 100 km byradius 300 km",
        "geosearch Sicily fromlonlat 15 37 bybox 400 400 km asc desc withdist",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS inf km WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1e308 km ASC",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX inf 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1e-300 1e-300 m",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 0 m WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 180 85.05112878 BYRADIUS 20000 km DESC",
        "GEOSEARCH Sicily FROMLONLAT -180 -85.05112878 BYBOX 40000 20000 km ASC",
        "GEOSEARCH nokey FROMLONLAT 15 37 BYBOX 400 400 km",
        "GEOSEARCH nokey FROMMEMBER nosuch BYBOX 400 400 km",
        "GEORADIUS nokey 15 37 200 km",
        "GEORADIUSBYMEMBER nokey m 1 km",
        // A missing source skips the member's radius entirely.
        "GEORADIUSBYMEMBER nokey m notanumber parsec",
    ];
    for line in lines {
        p.line(line);
    }
    // Members with spaces need their own argument vectors.
    p.both(&["GEORADIUSBYMEMBER", "nyc", "wtc one", "7", "km", "WITHDIST"]);
    p.both(&["GEOSEARCH", "nyc", "FROMMEMBER", "wtc one", "BYBOX", "14", "14", "km"]);
    // geo.tcl's geometry cases: oblique boxes near the pole, crossing it,
    // narrow boxes, corners, the antimeridian, small distances, a huge radius.
    for line in [
        "GEOADD k1 -0.15307903289794921875 85 n1 0.3515625 85.00019260486917005437 n2",
        "GEORADIUSBYMEMBER k1 n1 4891.94 m",
        "GEOADD k2 -4.95211958885192871094 85 n3 11.25 85.0511 n4",
        "GEORADIUSBYMEMBER k2 n3 156544 m",
        "GEOADD k3 -45 65.50900022111811438208 n5 90 85.0511 n6",
        "GEORADIUSBYMEMBER k3 n5 5009431 m",
        "GEOADD k4 45 65 n1 -135 85.05 n2",
        "GEORADIUSBYMEMBER k4 n1 5009431 m",
        "GEOADD narrow 12.75 36.995 test1 12.75 36.50 test2 13.00 36.50 test3",
        "GEOSEARCH narrow FROMLONLAT 15 37 BYBOX 400 2 km",
        "GEOADD narrow -1 37.00 test3",
        "GEOSEARCH narrow FROMLONLAT 15 37 BYBOX 3000 2 km ASC",
        "GEOADD corners 12.758489 38.788135 edge1 17.241510 38.788135 edge2 17.250000 35.202000 edge3 12.750000 35.202000 edge4 12.748489955781654 37 edge5 15 38.798135872540925 edge6 17.251510044218346 37 edge7 15 35.201864127459075 edge8 12.692799634687903 38.798135872540925 corner1 12.692799634687903 38.798135872540925 corner2 17.200560937451133 35.201864127459075 corner3 12.799439062548865 35.201864127459075 corner4",
        "GEOSEARCH corners FROMLONLAT 15 37 BYBOX 400 400 km ASC",
        "GEOADD points 179.5 36 point1 -179.5 36 point2",
        "GEOSEARCH points FROMLONLAT 179 37 BYBOX 400 400 km ASC",
        "GEOSEARCH points FROMLONLAT -179 37 BYBOX 400 400 km ASC",
        "GEOADD small -122.407107 37.794300 1 -122.227336 37.794300 2",
        "GEORADIUS small -122.407107 37.794300 30 mi ASC WITHDIST",
        "GEOADD users -47.271613776683807 -54.534504198047678 user_000000",
        "GEORADIUS users 0 0 50000 km WITHCOORD",
        "GEOSEARCH users FROMLONLAT 0 0 BYBOX 40000 40000 km",
    ] {
        p.line(line);
    }
    assert_eq!(p.line("GEOSEARCH points FROMLONLAT 179 37 BYBOX 400 400 km ASC"), Resp::bulks(&["point1", "point2"]));
    assert_eq!(
        p.line("GEORADIUS small -122.407107 37.794300 30 mi ASC WITHDIST"),
        Resp::Array(vec![Resp::bulks(&["1", "0.0001"]), Resp::bulks(&["2", "9.8182"])])
    );
}

#[test]
fn errors_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    add_places(&mut p);
    p.line("SET str x");
    let syntax = "ERR syntax error";
    let cases: &[(&str, &str)] = &[
        ("GEOADD k 200 100 x", "ERR invalid longitude,latitude pair 200.000000,100.000000"),
        ("GEOADD k 10 85.06 x", "ERR invalid longitude,latitude pair 10.000000,85.060000"),
        ("GEOADD k -180.5 0 x", "ERR invalid longitude,latitude pair -180.500000,0.000000"),
        ("GEOADD k inf 0 x", "ERR invalid longitude,latitude pair inf,0.000000"),
        ("GEOADD k abc 0 x", "ERR value is not a valid float"),
        ("GEOADD k 0 nan x", "ERR value is not a valid float"),
        ("GEOADD k 1 1 a 1", syntax),
        ("GEOADD k XX NX 1 1 a", syntax),
        ("GEOADD k GT 1 1 a", syntax),
        ("GEOADD k NX XX CH", syntax),
        ("GEOADD k CH CH CH", syntax),
        ("GEOADD k 1 1", "ERR wrong number of arguments for 'geoadd' command"),
        ("GEOADD str 1 1 a", WRONGTYPE),
        ("GEOPOS str a", WRONGTYPE),
        ("GEOHASH str a", WRONGTYPE),
        ("GEODIST str a b", WRONGTYPE),
        ("GEODIST str a b parsec", "ERR unsupported unit provided. please use M, KM, FT, MI"),
        ("GEODIST Sicily Palermo Catania km extra", syntax),
        ("GEORADIUS str 15 37 200 km", WRONGTYPE),
        ("GEORADIUS str 1000 37 200 km", WRONGTYPE),
        ("GEOSEARCH str FROMLONLAT 15 37 BYRADIUS 1 km", WRONGTYPE),
        ("GEOSEARCHSTORE d str FROMLONLAT 15 37 BYRADIUS 1 km", WRONGTYPE),
        ("GEORADIUS Sicily 15 37 -1 km", "ERR radius cannot be negative"),
        ("GEORADIUS Sicily 15 37 abc km", "ERR need numeric radius"),
        ("GEORADIUS Sicily 15 37 10 parsec", "ERR unsupported unit provided. please use M, KM, FT, MI"),
        ("GEORADIUS Sicily 15 100 10 km", "ERR invalid longitude,latitude pair 15.000000,100.000000"),
        ("GEORADIUS Sicily 15 37 200 km COUNT", syntax),
        ("GEORADIUS Sicily 15 37 200 km COUNT 0", "ERR COUNT must be > 0"),
        ("GEORADIUS Sicily 15 37 200 km COUNT -3", "ERR COUNT must be > 0"),
        ("GEORADIUS Sicily 15 37 200 km COUNT x", "ERR value is not an integer or out of range"),
        ("GEORADIUS Sicily 15 37 200 km ANY", "ERR the ANY argument requires COUNT argument"),
        ("GEORADIUS Sicily 15 37 200 km ANY ASC", "ERR the ANY argument requires COUNT argument"),
        ("GEORADIUS Sicily 15 37 200 km STORE", syntax),
        ("GEORADIUS Sicily 15 37 200 km BYBOX 1 1 km", syntax),
        (
            "GEORADIUS Sicily 15 37 200 km WITHDIST STORE d",
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            "GEORADIUS nokey 15 37 200 km STOREDIST d WITHCOORD",
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        ("GEORADIUS_RO Sicily 15 37 200 km STORE d", syntax),
        ("GEORADIUSBYMEMBER_RO Sicily Palermo 200 km STOREDIST d", syntax),
        ("GEORADIUSBYMEMBER Sicily nosuch 200 km", "ERR could not decode requested zset member"),
        ("GEORADIUSBYMEMBER Sicily nosuch -1 km", "ERR could not decode requested zset member"),
        ("GEORADIUSBYMEMBER Sicily Palermo -1 km", "ERR radius cannot be negative"),
        ("GEOSEARCH Sicily FROMMEMBER nosuch BYRADIUS 10 km", "ERR could not decode requested zset member"),
        ("GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km", syntax),
        ("GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 1 km", syntax),
        ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km", syntax),
        ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km BYRADIUS 1 km", syntax),
        ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km STOREDIST", syntax),
        ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km STORE d", syntax),
        ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 x km", "ERR need numeric height"),
        ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX x x km", "ERR need numeric width"),
        ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km", "ERR height or width cannot be negative"),
        (
            "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 lightyear",
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ),
        (
            "GEOSEARCH Sicily BYBOX 3 3 km ASC DESC WITHHASH WITHDIST WITHCOORD",
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH",
        ),
        (
            "geosearch Sicily FROMLONLAT 15 37 ASC DESC WITHHASH",
            "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch",
        ),
        ("GEOSEARCH Sicily FROMLONLAT 15", "ERR wrong number of arguments for 'geosearch' command"),
        (
            "GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 1 km WITHDIST",
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        ("GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 1 km STORE x", syntax),
        ("GEOSEARCHSTORE d Sicily FROMLONLAT 15 37 BYRADIUS 1 km COUNT 0", "ERR COUNT must be > 0"),
        (
            "GEOSEARCHSTORE d nokey BYRADIUS 1 km ASC ANY",
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCHSTORE",
        ),
        ("GEOSEARCHSTORE d nokey FROMMEMBER x BYRADIUS 1 km ANY", "ERR the ANY argument requires COUNT argument"),
    ];
    for (line, want) in cases {
        p.error(line, want);
    }
    // Nothing above created a key.
    assert_eq!(p.line("EXISTS k d"), Resp::Int(0));
}

#[test]
fn resp3_replies_matchredis_server() {
    let Some(mut pair) = start_pair() else { return };
    pair.forkv.cmd(&["HELLO", "3"]);
    pair.redis.cmd(&["HELLO", "3"]);
    add_places(&mut pair);
    for line in [
        "GEOPOS Sicily Palermo nosuch",
        "GEOHASH Sicily Palermo nosuch",
        "GEODIST Sicily Palermo Catania",
        "GEODIST Sicily Palermo nosuch",
        "GEODIST nokey a b",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD WITHDIST WITHHASH ASC",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD",
        "GEORADIUS Sicily 15 37 200 km WITHDIST",
        "GEORADIUS nokey 15 37 200 km",
        "GEORADIUS Sicily 15 37 200 km STORE d",
        "ZRANGE d 0 -1 WITHSCORES",
    ] {
        pair.line(line);
    }
    let coords = pair.line("GEOPOS Sicily Palermo");
    assert_eq!(
        coords,
        Resp::Array(vec![Resp::Array(vec![
            Resp::Double("13.36138933897018433".into()),
            Resp::Double("38.11555639549629859".into())
        ])])
    );
    assert_eq!(pair.line("GEOPOS Sicily nosuch"), Resp::Array(vec![Resp::Null]));
}

#[test]
fn store_variants_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    add_places(&mut p);
    let stores = [
        ("GEORADIUS nyc -73.9798091 40.7598464 10 km STORE dst", "dst"),
        ("GEORADIUS nyc -73.9798091 40.7598464 10 km STOREDIST dst2 ASC COUNT 3", "dst2"),
        ("GEORADIUS nyc -73.9798091 40.7598464 10 mi STOREDIST dst3 DESC COUNT 2", "dst3"),
        ("GEORADIUS nyc -73.9798091 40.7598464 10 km STORE a STOREDIST b", "b"),
        ("GEORADIUSBYMEMBER nyc jfk 20 km STORE dst4", "dst4"),
        ("GEORADIUSBYMEMBER nyc jfk 20 km STOREDIST dst5 COUNT 1 ANY", "dst5"),
        ("GEOSEARCHSTORE dst6 nyc FROMLONLAT -73.9798091 40.7598464 BYBOX 6 6 km", "dst6"),
        ("GEOSEARCHSTORE dst7 nyc FROMMEMBER jfk BYRADIUS 20 km STOREDIST COUNT 2 DESC", "dst7"),
        ("GEOSEARCHSTORE dst8 Sicily FROMLONLAT 15 37 BYBOX 400 400 ft", "dst8"),
        ("GEOSEARCHSTORE nyc nyc FROMMEMBER jfk BYRADIUS 20 km STOREDIST", "nyc"),
    ];
    for (line, key) in stores {
        let before = [&mut p.forkv, &mut p.redis].map(helpers::changes_since_save);
        p.line(line);
        let after = [&mut p.forkv, &mut p.redis].map(helpers::changes_since_save);
        assert_eq!(after[0] - before[0], after[1] - before[1], "changes counted for {line}");
        p.zset(key);
        p.both(&["OBJECT", "ENCODING", key]);
    }
    // STOREDIST scores are distances in the unit asked for.
    p.line("GEORADIUS Sicily 15 37 200 km STOREDIST points2");
    let stored = p.both(&["ZRANGE", "points2", "0", "-1", "WITHSCORES"]);
    let dists: Vec<f64> = stored.items().iter().skip(1).step_by(2).map(|s| s.text().parse().unwrap()).collect();
    assert!((dists[0] - 56.4413).abs() < 1e-4 && (dists[1] - 190.4424).abs() < 1e-4, "{dists:?}");
    // A stored set is a geo set again.
    p.line("GEOPOS dst Palermo jfk q4");
    // An empty result, or a missing source, deletes the destination.
    p.line("SET victim x");
    assert_eq!(p.line("GEORADIUS Sicily 0 0 1 m STORE victim"), Resp::Int(0));
    assert_eq!(p.line("EXISTS victim"), Resp::Int(0));
    p.line("SET victim x");
    assert_eq!(p.line("GEOSEARCHSTORE victim nokey FROMMEMBER x BYRADIUS 1 km"), Resp::Int(0));
    assert_eq!(p.line("EXISTS victim"), Resp::Int(0));
    p.line("SET victim x");
    assert_eq!(p.line("GEORADIUSBYMEMBER nokey m 1 km STORE victim"), Resp::Int(0));
    assert_eq!(p.line("TYPE victim"), Resp::Simple("none".into()));
    // A destination of another type is replaced.
    p.line("SET victim x");
    assert_eq!(p.line("GEORADIUS Sicily 15 37 200 km STORE victim"), Resp::Int(2));
    assert_eq!(p.line("TYPE victim"), Resp::Simple("zset".into()));
    // COMMAND GETKEYS finds the destinations as Redis's key specs do.
    for line in [
        "COMMAND GETKEYS GEORADIUS src 0 0 10 km STORE dst",
        "COMMAND GETKEYS GEORADIUS src 0 0 10 km STOREDIST d1 STORE d2",
        "COMMAND GETKEYS GEORADIUS src 0 0 10 km",
        "COMMAND GETKEYS GEORADIUS src 0 0 10 km STORE",
        "COMMAND GETKEYS GEORADIUSBYMEMBER src STORE 10 km",
        "COMMAND GETKEYS GEORADIUSBYMEMBER src m 10 km storedist d",
        "COMMAND GETKEYS GEORADIUS_RO src 0 0 10 km STORE dst",
        "COMMAND GETKEYS GEOSEARCHSTORE dst src FROMMEMBER m BYRADIUS 1 km",
        "COMMAND GETKEYS GEOSEARCH src FROMMEMBER m BYRADIUS 1 km",
        "COMMAND GETKEYS GEOADD k 1 1 m",
        "COMMAND GETKEYS GEODIST k a b",
    ] {
        p.line(line);
    }
}

/// The command table rows (arity, flags, key positions) are Redis's; its
/// `movablekeys` flag is left out, as forkv reports it for no command.
#[test]
fn command_info_matchesredis_server() {
    let Some(mut p) = start_pair() else { return };
    let names = [
        "geoadd",
        "geopos",
        "geohash",
        "geodist",
        "georadius",
        "georadius_ro",
        "georadiusbymember",
        "georadiusbymember_ro",
        "geosearch",
        "geosearchstore",
    ];
    for name in names {
        let rows = [&mut p.forkv, &mut p.redis].map(|r| {
            let info = r.cmd(&["COMMAND", "INFO", name]);
            let row = info.items()[0].items().to_vec();
            let flags: Vec<Resp> =
                row[2].items().iter().filter(|f| **f != Resp::Simple("movablekeys".into())).cloned().collect();
            (row[0].clone(), row[1].clone(), flags, row[3].clone(), row[4].clone(), row[5].clone())
        });
        assert_eq!(rows[0], rows[1], "COMMAND INFO {name}");
    }
}

/// A WATCH on a GEORADIUS STORE's destination sees the store; one on its
/// source does not.
#[test]
fn watch_sees_the_destination_only() {
    let (_server, mut r) = helpers::start_raw();
    r.cmd(&["GEOADD", "src", "13.361389", "38.115556", "Palermo"]);
    let mut other = Raw::connect(_server.port);
    for (watched, changed) in [("src", false), ("dst", true)] {
        assert_eq!(r.cmd(&["WATCH", watched]), Resp::ok());
        other.cmd(&["GEORADIUS", "src", "15", "37", "200", "km", "STORE", "dst"]);
        r.cmd(&["MULTI"]);
        r.cmd(&["PING"]);
        let exec = r.cmd(&["EXEC"]);
        assert_eq!(exec == Resp::NullArray, changed, "WATCH {watched}: {exec:?}");
    }
}

/// A uniform point as geo.tcl draws them: latitudes within ±70.
fn random_point(rng: &mut Rng) -> (f64, f64) {
    let unit = |rng: &mut Rng| (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
    (-180.0 + unit(rng) * 360.0, -70.0 + unit(rng) * 140.0)
}

/// geo.tcl's haversine, for the brute-force check.
fn haversine(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let r = |d: f64| d.to_radians();
    let v = ((r(lon2) - r(lon1)) / 2.0).sin();
    let u = ((r(lat2) - r(lat1)) / 2.0).sin();
    2.0 * 6372797.560856 * (u * u + r(lat1).cos() * r(lat2).cos() * v * v).sqrt().asin()
}

/// geo.tcl's fuzz test, bounded: random points and searches of random
/// size (now and then thousands of km), by radius and by box. forkv must
/// answer exactly as redis-server, and both as a brute-force scan, apart
/// from points within 0.1% of the edge where rounding decides.
#[test]
fn random_searches_matchredis_server_and_brute_force() {
    let Some(mut p) = start_pair() else { return };
    let mut rng = Rng::from_time();
    for round in 0..24 {
        let by_box = round % 2 == 1;
        let big = rng.below(10) == 0;
        let size = |rng: &mut Rng| (rng.below(if big { 5000 } else { 200 }) + 10) as f64;
        let (width, height, radius) = (size(&mut rng), size(&mut rng), size(&mut rng));
        let (search_lon, search_lat) = random_point(&mut rng);
        p.both(&["DEL", "points"]);
        let mut args = vec!["GEOADD".to_string(), "points".to_string()];
        let mut inside = Vec::new();
        let mut doubtful = Vec::new();
        for j in 0..2000 {
            let (lon, lat) = random_point(&mut rng);
            let name = format!("place:{j}");
            let (certain, possible) = if by_box {
                let within = |tolerance: f64| {
                    haversine(lon, lat, search_lon, lat) <= width * 500.0 * tolerance
                        && haversine(lon, lat, lon, search_lat) <= height * 500.0 * tolerance
                };
                (within(0.999), within(1.001))
            } else {
                let d = haversine(lon, lat, search_lon, search_lat);
                (d < radius * 999.0, d <= radius * 1001.0)
            };
            if certain {
                inside.push(name.clone());
            } else if possible {
                doubtful.push(name.clone());
            }
            args.extend([lon.to_string(), lat.to_string(), name]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        p.both(&args);
        let (lon, lat) = (search_lon.to_string(), search_lat.to_string());
        let (w, h, r) = (width.to_string(), height.to_string(), radius.to_string());
        let mut search = vec!["GEOSEARCH", "points", "FROMLONLAT", lon.as_str(), lat.as_str()];
        if by_box {
            search.extend(["BYBOX", w.as_str(), h.as_str(), "km"]);
        } else {
            search.extend(["BYRADIUS", r.as_str(), "km"]);
        }
        let found = p.both(&search);
        let mut found: Vec<String> = found.items().iter().map(Resp::text).collect();
        found.retain(|name| !doubtful.contains(name));
        found.sort();
        inside.sort();
        assert_eq!(found, inside, "round {round}: {}", search.join(" "));
        // Sorted, counted and stored forms of the same search agree too.
        search.extend(["WITHDIST", "WITHCOORD", "WITHHASH", "ASC"]);
        p.both(&search);
        search.truncate(search.len() - 4);
        search.extend(["COUNT", "7", "DESC", "WITHDIST"]);
        p.both(&search);
        search.truncate(search.len() - 4);
        // ANY takes the first found, in the order the boxes are scanned.
        search.extend(["COUNT", "5", "ANY"]);
        p.both(&search);
        search.truncate(search.len() - 3);
        search[0] = "GEOSEARCHSTORE";
        search.insert(1, "stored");
        search.push("STOREDIST");
        p.both(&search);
        p.zset("stored");
        p.both(&["OBJECT", "ENCODING", "stored"]);
    }
}

/// A random GEO command, well formed or not: options in any order and
/// number, coordinates in and out of range, keys of other types.
fn random_geo_command(rng: &mut Rng) -> Vec<String> {
    const KEYS: &[&str] = &["g1", "g1", "g1", "g1", "g2", "g2", "str", "none"];
    const MEMBERS: &[&str] = &["a", "b", "c", "d", "e", "1", "x y", "nosuch"];
    const UNITS: &[&str] = &["m", "km", "km", "KM", "ft", "mi", "parsec"];
    let pick = |rng: &mut Rng, from: &[&str]| from[rng.below(from.len() as u64) as usize].to_string();
    let number = |rng: &mut Rng| match rng.below(10) {
        0 => pick(rng, &["0", "-1", "x", "inf", "1e9"]),
        _ => pick(rng, &["1", "50", "250", "700", "3000", "17.5", "100000"]),
    };
    let coordinate = |rng: &mut Rng, limit: f64| match rng.below(20) {
        0 => pick(rng, &["x", "inf", "-180", "180", "85.05112878", "-85.06", "200"]),
        // Mostly near Sicily, so searches find something.
        1..=15 => format!("{}", 15.0 + (rng.below(2_000_000) as f64 / 1e6 - 1.0) * 4.0),
        _ => format!("{}", (rng.below(2_000_000) as f64 / 1e6 - 1.0) * limit),
    };
    let point = |rng: &mut Rng| vec![coordinate(rng, 180.0), coordinate(rng, 85.0)];
    let mut args: Vec<String> = match rng.below(16) {
        0..=2 => {
            let mut a = vec!["GEOADD".into(), pick(rng, KEYS)];
            for _ in 0..rng.below(3) {
                a.push(pick(rng, &["NX", "XX", "CH", "CH", "GT"]));
            }
            for _ in 0..1 + rng.below(4) {
                a.extend(point(rng));
                a.push(pick(rng, MEMBERS));
            }
            return a;
        }
        3 => vec![pick(rng, &["GEOPOS", "GEOHASH"]), pick(rng, KEYS), pick(rng, MEMBERS), pick(rng, MEMBERS)],
        4 => {
            let mut a = vec!["GEODIST".into(), pick(rng, KEYS), pick(rng, MEMBERS), pick(rng, MEMBERS)];
            a.extend((0..rng.below(3)).map(|_| pick(rng, UNITS)));
            return a;
        }
        5 => return vec!["ZRANGE".into(), pick(rng, &["dst", "g1"]), "0".into(), "-1".into(), "WITHSCORES".into()],
        6 | 7 => {
            let mut a = vec![pick(rng, &["GEORADIUS", "GEORADIUS_RO"]), pick(rng, KEYS)];
            a.extend(point(rng));
            a.extend([number(rng), pick(rng, UNITS)]);
            a
        }
        8 | 9 => {
            let command = pick(rng, &["GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"]);
            vec![command, pick(rng, KEYS), pick(rng, MEMBERS), number(rng), pick(rng, UNITS)]
        }
        10..=12 => vec!["GEOSEARCH".into(), pick(rng, KEYS)],
        _ => vec!["GEOSEARCHSTORE".into(), "dst".into(), pick(rng, KEYS)],
    };
    // Searches mostly get a centre and a shape first.
    if args[0].starts_with("GEOSEARCH") && rng.below(5) > 0 {
        match rng.below(3) {
            0 => args.extend(["FROMMEMBER".into(), pick(rng, MEMBERS)]),
            _ => {
                args.push("FROMLONLAT".into());
                args.extend(point(rng));
            }
        }
        match rng.below(2) {
            0 => args.extend(["BYRADIUS".into(), number(rng), pick(rng, UNITS)]),
            _ => args.extend(["BYBOX".into(), number(rng), number(rng), pick(rng, UNITS)]),
        }
    }
    for _ in 0..rng.below(4) {
        match rng.below(24) {
            0 => args.extend(["FROMMEMBER".into(), pick(rng, MEMBERS)]),
            1 => {
                args.push("FROMLONLAT".into());
                args.extend(point(rng));
            }
            2 => args.extend(["BYRADIUS".into(), number(rng), pick(rng, UNITS)]),
            3 => args.extend(["BYBOX".into(), number(rng), number(rng), pick(rng, UNITS)]),
            4..=7 => args.extend(["COUNT".into(), pick(rng, &["1", "2", "3", "5", "0", "x"])]),
            8 | 9 => args.extend([pick(rng, &["STORE", "STOREDIST"]), "dst".into()]),
            _ => args.push(pick(rng, &["WITHDIST", "WITHHASH", "WITHCOORD", "ASC", "DESC", "ANY", "STOREDIST"])),
        }
    }
    args
}

/// Random GEO commands, many malformed, get the same replies from both
/// servers in RESP2 and RESP3, and leave the same data.
#[test]
fn random_commands_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    let mut rng = Rng::from_time();
    for protocol in ["2", "3"] {
        p.forkv.cmd(&["HELLO", protocol]);
        p.redis.cmd(&["HELLO", protocol]);
        p.line("FLUSHALL");
        p.line("SET str x");
        p.line("GEOADD g1 13.361389 38.115556 a 15.087269 37.502669 b 12.758489 38.788135 c");
        for _ in 0..5000 {
            let args = random_geo_command(&mut rng);
            p.both(&args.iter().map(String::as_str).collect::<Vec<_>>());
        }
        for key in ["g1", "g2", "dst"] {
            p.zset(key);
        }
    }
}

/// geo.tcl's box edge test: points on a box's edges are found by a box two
/// metres larger, and only those of the long sides by one narrower.
#[test]
fn box_edges_matchredis_server() {
    let Some(mut p) = start_pair() else { return };
    let mut rng = Rng::from_time();
    let radius = 6372797.560856;
    for _ in 0..20 {
        let (lon, lat) = random_point(&mut rng);
        let (width, height) = ((rng.below(10000) + 10) as f64, (rng.below(10000) + 10) as f64);
        let lat_delta = (height / 2.0 / radius).to_degrees();
        let long_delta = |at: f64| (width / 2.0 / radius / at.to_radians().cos()).to_degrees();
        let wrap = |x: f64| {
            if x > 180.0 {
                x - 360.0
            } else if x < -180.0 {
                x + 360.0
            } else {
                x
            }
        };
        let points = [
            ("north", lon, lat + lat_delta),
            ("south", lon, lat - lat_delta),
            ("east", lon + long_delta(lat), lat),
            ("west", lon - long_delta(lat), lat),
            ("north_east", lon + long_delta(lat + lat_delta), lat + lat_delta),
            ("north_west", lon - long_delta(lat + lat_delta), lat + lat_delta),
            ("south_east", lon + long_delta(lat - lat_delta), lat - lat_delta),
            ("south_west", lon - long_delta(lat - lat_delta), lat - lat_delta),
        ];
        p.both(&["DEL", "edges"]);
        for (name, x, y) in points {
            p.both(&["GEOADD", "edges", &wrap(x).to_string(), &y.to_string(), &format!("place:{name}")]);
        }
        let (slon, slat) = (lon.to_string(), lat.to_string());
        let mut search = |w: f64, h: f64| -> Vec<String> {
            let (w, h) = (w.to_string(), h.to_string());
            let reply = p.both(&["GEOSEARCH", "edges", "FROMLONLAT", &slon, &slat, "BYBOX", &w, &h, "m", "ASC"]);
            let mut names: Vec<String> = reply.items().iter().map(Resp::text).collect();
            names.sort();
            names
        };
        assert_eq!(search(width + 4.0, height + 4.0).len(), 8);
        assert_eq!(search(width - 4.0, height + 4.0), ["place:north", "place:south"]);
        assert_eq!(search(width + 4.0, height - 4.0), ["place:east", "place:west"]);
        assert!(search(width - 4.0, height - 4.0).is_empty());
    }
}

/// What GEOADD and the STORE forms write to the AOF replays in forkv, and
/// in redis-server, to the same sets.
#[test]
fn geo_sets_come_back_after_an_aof_restart() {
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
    let mut r = Raw::connect(server.port);
    let lines = [
        "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1",
        "GEOADD Sicily XX CH 13.5 38.2 Palermo 1 1 nope",
        "GEORADIUS Sicily 15 37 200 km STORE radius",
        "GEORADIUS Sicily 15 37 200 km STOREDIST radiusdist COUNT 1",
        "GEORADIUSBYMEMBER Sicily Catania 300 km STOREDIST bymember DESC",
        "GEOSEARCHSTORE search Sicily FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST",
        "GEOSEARCHSTORE anyone Sicily FROMMEMBER Palermo BYRADIUS 500 km COUNT 2 ANY",
        "SET gone x",
        "GEORADIUS Sicily 0 0 1 m STORE gone",
        // Read-only searches write nothing.
        "GEORADIUS Sicily 15 37 200 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
    ];
    for line in lines {
        let reply = r.cmd(&line.split(' ').collect::<Vec<_>>());
        assert!(!matches!(reply, Resp::Error(_)), "{line}: {reply:?}");
    }
    let keys = ["Sicily", "radius", "radiusdist", "bymember", "search", "anyone", "gone"];
    let before: Vec<Resp> = keys.iter().map(|k| r.cmd(&["ZRANGE", k, "0", "-1", "WITHSCORES"])).collect();
    assert_eq!(before[0].items().len(), 6);
    assert!(before[1..6].iter().all(|v| !v.items().is_empty()), "{before:?}");
    assert!(before[6].items().is_empty());
    let aof = std::fs::read(server.path("appendonly.aof")).unwrap();
    let searches = aof.windows(b"GEOSEARCH\r\n".len()).filter(|w| w == b"GEOSEARCH\r\n").count();
    assert_eq!(searches, 0, "a read-only search is not logged");
    let radius = aof.windows(b"GEORADIUS\r\n".len()).filter(|w| w == b"GEORADIUS\r\n").count();
    assert_eq!(radius, 3, "the stores and the delete are logged, the plain search is not");
    drop(r);
    server.restart();
    let mut r = Raw::connect(server.port);
    let after: Vec<Resp> = keys.iter().map(|k| r.cmd(&["ZRANGE", k, "0", "-1", "WITHSCORES"])).collect();
    assert_eq!(after, before);
    assert_eq!(r.cmd(&["EXISTS", "gone"]), Resp::Int(0));
    if !RedisServer::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(server.path("appendonly.aof"), dir.path().join("appendonly.aof")).unwrap();
    let (redis, _con) = RedisServer::start(dir.path(), &["--appendonly", "yes", "--appendfilename", "appendonly.aof"]);
    let mut rr = Raw::connect(redis.port);
    let in_redis: Vec<Resp> = keys.iter().map(|k| rr.cmd(&["ZRANGE", k, "0", "-1", "WITHSCORES"])).collect();
    assert_eq!(in_redis, before, "forkv's AOF loaded by redis-server");
}
