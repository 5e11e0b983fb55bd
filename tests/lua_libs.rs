//! The Lua libraries Redis 7.0 gives scripts, against the real binary and,
//! when it is installed, side by side with Debian's redis-server: cmsgpack
//! (exact bytes for every encoding, round trips, unpack_one/unpack_limit
//! offsets, bad input), struct (pack, unpack, size and their errors),
//! cjson's settings functions, redis.acl_check_cmd under an ACL user, and
//! the read-only tables — in EVAL scripts and in FUNCTION libraries.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use helpers::{start_raw, Raw, Resp};
use side_by_side::{start_pair, Pair};

fn eval(r: &mut Raw, script: &str) -> Resp {
    r.cmd(&["EVAL", script, "0"])
}

/// The script's reply, the same on both servers.
fn same(p: &mut Pair, script: &str) -> Resp {
    p.both(&["EVAL", script, "0"])
}

/// A script returning `cmsgpack.pack(<args>)` as hex.
fn packed_hex(args: &str) -> String {
    format!(
        "local s = cmsgpack.pack({args}) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end))"
    )
}

#[test]
fn cmsgpack_packs_redis_test_vectors() {
    let (_s, mut r) = start_raw();
    assert_eq!(eval(&mut r, &packed_hex("0.1")), Resp::bulk("cb3fb999999999999a"));
    assert_eq!(eval(&mut r, &packed_hex("-1099511627776")), Resp::bulk("d3ffffff0000000000"));
    assert_eq!(eval(&mut r, &packed_hex("{1, 2, {a = 1}}, 1.5, 'x'")), Resp::bulk("93010281a16101ca3fc00000a178"));
    // A circular table is packed 16 levels deep, then nil (Redis's vector).
    let circular = "(function() local a = {x = nil, y = 5} local b = {x = a} a['x'] = b return a end)()";
    assert_eq!(eval(&mut r, &packed_hex(circular)), Resp::bulk("82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0"));
}

#[test]
fn cmsgpack_encodings_match_redis_byte_for_byte() {
    let Some(mut p) = start_pair() else { return };
    let values = [
        // Integers in every size, both signs, and their boundaries.
        "0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2^53",
        "-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -2^53",
        // Floats: exact in float32 or not; infinities, NaN, 2^63 and -0.
        "0.5, 0.1, -1.25, 1e300, 1/0, -1/0, 0/0, 2^63, -2^63, 2^64, -0.0",
        // Strings in each length class.
        "'', 'a', string.rep('x', 31), string.rep('x', 32), string.rep('x', 255), string.rep('x', 256)",
        "string.rep('x', 65535), string.rep('x', 65536)",
        // Tables: arrays, maps, sparse, mixed keys, nested; booleans, nil.
        "{}, {1, 2, 3}, {a = 1, b = {c = {true, false}}}, {[1] = 1, [3] = 3}, {[1.5] = 1}, {1, x = 2}",
        "{[-1] = 1}, {[0] = 1}, {[2^31] = 1}, true, false, nil, cjson.null",
        "(function() local t = {} for i = 1, 20 do t[i] = i * 1000 end return t end)()",
        "(function() local t = {} for i = 1, 20 do t['k' .. i] = i end return t end)()",
        // A table nested deeper than 16, and a circular one.
        "{{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}}}",
        "(function() local t = {1} t[2] = t return t end)()",
    ];
    for args in values {
        let hex = same(&mut p, &packed_hex(args));
        assert!(matches!(hex, Resp::Bulk(ref b) if !b.is_empty()), "{args}: {hex:?}");
    }
}

#[test]
fn cmsgpack_unpacks_as_redis() {
    let Some(mut p) = start_pair() else { return };
    let scripts = [
        // Round trips, converted to a reply-friendly form.
        "return cjson.encode({cmsgpack.unpack(cmsgpack.pack(1, -1, 300, -300, 70000, -70000, 2^40, -2^40, 'abc', true, false))})",
        "return cjson.encode(cmsgpack.unpack(cmsgpack.pack({a = {1, 2, {b = 'c'}}, d = 0.5})))",
        "return tostring(cmsgpack.unpack(cmsgpack.pack(0.1)))",
        "return #cmsgpack.unpack(cmsgpack.pack(string.rep('x', 100000)))",
        // unpack_one and unpack_limit give the next offset first, -1 at the end.
        "return {cmsgpack.unpack_one(cmsgpack.pack(1, 'two', 3))}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1, 'two', 3), 1)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 'two', 3), 2)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 'two', 3), 5, 1)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2), 0, 0)}",
        "return {cmsgpack.unpack_one('\\1\\2', '1')}",
        // Bytes lua-cmsgpack reads its own way.
        "return {cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')}",
        "return #{cmsgpack.unpack(string.rep('\\1', 7999))}",
        "return #cmsgpack.unpack(string.rep('\\145', 3999) .. '\\1')",
        // Tables with more entries than Rust can hold Lua values at once.
        "local t = {} for i = 1, 20000 do t['k' .. i] = {i} end local u = cmsgpack.unpack(cmsgpack.pack(t)) return u.k77",
        "local t = {} for i = 1, 3000 do t[i] = 'x' .. i end return #{cmsgpack.unpack(cmsgpack.pack(unpack(t)))}",
        "return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}",
        // Bad input: every error text.
        "return cmsgpack.unpack('\\193')",
        "return cmsgpack.unpack('\\196\\1a')",
        "return cmsgpack.unpack('\\146\\1')",
        "return cmsgpack.unpack('\\219\\0\\0\\0\\9abc')",
        "return cmsgpack.unpack('\\129\\192\\1')",
        "return cmsgpack.unpack()",
        "return cmsgpack.pack()",
        "return cmsgpack.pack(unpack({}, 1, 4001))",
        "return cmsgpack.unpack_one('\\1', -1)",
        "return cmsgpack.unpack_one('\\1', 5)",
        "return cmsgpack.unpack_one('\\1', 'x')",
        "return cmsgpack.unpack_limit('\\1')",
        "return #{cmsgpack.unpack(string.rep('\\1', 8000))}",
        "return cmsgpack.unpack(string.rep('\\145', 4000) .. '\\1')",
        "local ok, e = pcall(cmsgpack.unpack, '\\193') return e",
    ];
    for script in scripts {
        same(&mut p, script);
    }
}

#[test]
fn struct_matches_redis() {
    let Some(mut p) = start_pair() else { return };
    let scripts = [
        "return struct.pack('>i2 <I3 !4 b d s c0 x', 1, 2, 3, 4.5, 'ab', 'cd')",
        "return struct.pack('<bBhHlLT', -1, 255, -2, 65535, -3, 2^40, 7)",
        "return struct.pack('>i1 i8 I16 <i32', -5, -6, 7, -8)",
        "return struct.pack('f d >f >d', 0.1, 0.1, -2.5, -2.5)",
        "return struct.pack('c3 c', 'abcdef', 'z')",
        "return struct.pack('<I8 <i8', 2^64, -2^70)",
        "return {struct.unpack('>i2 B c0 s', '\\255\\254\\3xyzabc\\0!')}",
        "return {struct.unpack('<i9', string.rep('\\255', 9))}",
        "return {struct.unpack('<i16', struct.pack('<i16', -5))}",
        "return {struct.unpack('!4 b i4 h', struct.pack('!4 b i4 h', 1, -70000, 3))}",
        "return {struct.unpack('b', 'abc', 2)}",
        "return #{struct.unpack(string.rep('c1', 7000), string.rep('a', 7000))}",
        "return tostring(struct.unpack('<f', struct.pack('<f', 0.1)))",
        "return {struct.size('!8 b d i3 x c7'), struct.size('b d'), struct.size('i3 z'), struct.size('')}",
        // Errors.
        "return struct.pack('c5', 'ab')",
        "return struct.pack('y')",
        "return struct.pack('i40')",
        "return struct.pack('!3')",
        "return struct.pack('i99999999999')",
        "return struct.pack('i')",
        "return struct.pack('i i i', 1)",
        "return struct.pack('i i', 1, 2, 3)",
        "return struct.pack('i s', 1)",
        "return struct.pack()",
        "return struct.unpack('i4', 'ab')",
        "return struct.unpack('s', 'ab')",
        "return struct.unpack('c0', 'ab')",
        "return struct.unpack('b', 'a', 0)",
        "return struct.size('s')",
        "return struct.size('c0')",
        "return struct.size('?')",
    ];
    for script in scripts {
        same(&mut p, script);
    }
}

#[test]
fn cjson_settings_match_redis() {
    let Some(mut p) = start_pair() else { return };
    let scripts = [
        "return {cjson.encode_keep_buffer(), cjson.encode_keep_buffer(false), cjson.encode_keep_buffer('on')}",
        "return {cjson.encode_sparse_array()}",
        "local r = {cjson.encode_sparse_array(true, 0, 3), cjson.encode({[1] = 1, [20] = 2})} cjson.encode_sparse_array(false, 2, 10) return r",
        "local r = {cjson.encode_number_precision(3), cjson.encode(3.14159)} cjson.encode_number_precision(14) return r",
        "local r = {cjson.encode_invalid_numbers('null'), cjson.encode({0/0, 1/0})} cjson.encode_invalid_numbers(false) return r",
        "local r = {cjson.encode_invalid_numbers(true), cjson.encode({0/0, 1/0, -1/0})} cjson.encode_invalid_numbers(false) return r",
        "cjson.encode_max_depth(1) local ok, e = pcall(cjson.encode, {{1}}) cjson.encode_max_depth(1000) return e",
        "cjson.decode_max_depth(1) local ok, e = pcall(cjson.decode, '{\"obj\": {\"array\": [1,2,3,4]}}') cjson.decode_max_depth(1000) return e",
        "local c = cjson.new() c.encode_number_precision(2) return {c.encode(1.234), cjson.encode(1.234)}",
        "return cjson.decode_invalid_numbers()",
        "return cjson.encode_keep_buffer(1, 2)",
        "return cjson.encode_keep_buffer('x')",
        "return cjson.encode_max_depth(0)",
        "return cjson.encode_number_precision(15)",
        "return cjson.decode({})",
    ];
    for script in scripts {
        same(&mut p, script);
    }
}

#[test]
fn acl_check_cmd_answers_for_the_scripts_user() {
    let Some(mut p) = start_pair() else { return };
    p.line("ACL SETUSER bob on >123 +@scripting +set ~x*");
    p.line("AUTH bob 123");
    assert_eq!(same(&mut p, "return redis.acl_check_cmd('set', 'xx', 1)"), Resp::Int(1));
    assert_eq!(same(&mut p, "return redis.acl_check_cmd('hset', 'xx', 'f', 1)"), Resp::NullBulk);
    assert_eq!(same(&mut p, "return redis.acl_check_cmd('set', 'yy', 1)"), Resp::NullBulk);
    for script in [
        "return redis.acl_check_cmd('invalid-cmd', 'arg')",
        "return redis.acl_check_cmd('config', 'nosuch')",
        "return redis.acl_check_cmd()",
        "return redis.acl_check_cmd({})",
        "return {pcall(redis.acl_check_cmd, 'nope')}",
    ] {
        assert!(matches!(same(&mut p, script), Resp::Error(_) | Resp::Array(_)), "{script}");
    }
    // Checking is not running: nothing reaches the ACL LOG.
    p.line("AUTH default x");
    assert_eq!(p.line("ACL LOG"), Resp::Array(vec![]));
}

#[test]
fn libraries_and_globals_are_read_only_tables() {
    let Some(mut p) = start_pair() else { return };
    for script in [
        "setmetatable(_G, {})",
        "local g = getmetatable(_G) g.__index = {}",
        "redis = function() return 1 end",
        "_G = {}",
        "redis.call = function() return 1 end",
        "cjson.encode = function() return 1 end",
        "cmsgpack.pack = function() return 1 end",
        "bit.lshift = function() return 1 end",
        "struct.pack = 1",
        "rawset(_G, 'x', 1)",
        "rawset(redis, 'x', 1)",
        "setmetatable(cmsgpack, {})",
        "table.insert(redis, 1)",
        "return {pcall(table.insert, bit, 1)}",
        "return {type(getmetatable(_G)), type(getmetatable(_G).__index), type(getmetatable(redis))}",
    ] {
        let reply = same(&mut p, script);
        if !script.starts_with("return") {
            assert!(
                matches!(&reply, Resp::Error(e) if e.contains("Attempt to modify a readonly table")),
                "{script}: {reply:?}"
            );
        }
    }
}

#[test]
fn functions_see_the_same_libraries() {
    let Some(mut p) = start_pair() else { return };
    let library = "#!lua name=libs\n\
        redis.register_function('libs', function(keys, args)\n\
          return {cmsgpack.pack({1, 'a', {b = 2.5}}), struct.pack('>i2 s', 258, 'z'),\n\
                  cjson.encode_keep_buffer(), redis.acl_check_cmd('get', 'k')}\n\
        end)\n\
        redis.register_function('tamper', function() cmsgpack.pack = 1 end)\n\
        redis.register_function('unpack_bad', function() return cmsgpack.unpack('\\193') end)";
    assert_eq!(p.both(&["FUNCTION", "LOAD", library]), Resp::bulk("libs"));
    let reply = p.both(&["FCALL", "libs", "0"]);
    assert_eq!(
        reply,
        Resp::Array(vec![
            Resp::Bulk(b"\x93\x01\xa1a\x81\xa1b\xca\x40\x20\x00\x00".to_vec()),
            Resp::Bulk(b"\x01\x02z\x00".to_vec()),
            Resp::Int(1),
            Resp::Int(1),
        ])
    );
    p.both(&["FCALL", "tamper", "0"]);
    p.both(&["FCALL", "unpack_bad", "0"]);
    // At load, a library sees only redis: the libraries are unknown names.
    p.both(&["FUNCTION", "LOAD", "#!lua name=early\nlocal x = cmsgpack\nredis.register_function('f', function() end)"]);
}
