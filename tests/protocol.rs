//! The wire protocol: pipelining, concurrency, inline commands and abuse.
//! After every abusive client, a new well-formed client and a client that
//! was already connected must both get normal answers.

mod common;
mod helpers;

use helpers::{closed_within, Raw, Resp};
use std::io::{Read, Write};
use std::time::Duration;

/// A fresh client and an already-open one both still work.
fn assert_healthy(s: &common::Server, bystander: &mut Raw) {
    let mut fresh = Raw::connect(s.port);
    assert_eq!(fresh.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(fresh.cmd(&["SET", "health", "ok"]), Resp::ok());
    assert_eq!(bystander.cmd(&["GET", "health"]), Resp::bulk("ok"));
    assert_eq!(bystander.cmd(&["ECHO", "still here"]), Resp::bulk("still here"));
}

/// Sends `data`, then reads until the server closes; None if it does not
/// close within the limit.
fn send_expect_close(s: &common::Server, data: &[u8]) -> Option<Vec<u8>> {
    let mut sock = s.raw();
    sock.write_all(data).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = Vec::new();
    match sock.read_to_end(&mut out) {
        Ok(_) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(out),
        Err(_) => None,
    }
}

#[test]
fn pipeline_of_10000_commands_in_one_write() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let mut data = Vec::new();
    for i in 0..10_000 {
        if i % 2 == 0 {
            data.extend(helpers::encode(&[b"INCR", b"counter"]));
        } else {
            data.extend(helpers::encode(&[b"ECHO", format!("msg-{i}").as_bytes()]));
        }
    }
    r.write(&data);
    let mut n = 0;
    for i in 0..10_000 {
        let reply = r.read();
        if i % 2 == 0 {
            n += 1;
            assert_eq!(reply, Resp::Int(n), "reply {i}");
        } else {
            assert_eq!(reply, Resp::bulk(&format!("msg-{i}")), "reply {i}");
        }
    }
    assert_eq!(r.cmd(&["GET", "counter"]), Resp::bulk("5000"));
    // Nothing extra was sent.
    r.reader.get_mut().set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut extra = [0u8; 16];
    assert!(r.reader.get_mut().read(&mut extra).is_err(), "unexpected extra bytes");
}

#[test]
fn fifty_clients_incr_the_same_key() {
    let s = common::Server::start();
    let url = s.url();
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let client = redis::Client::open(url).unwrap();
                let mut con = client.get_connection().unwrap();
                for _ in 0..2000 {
                    let _: i64 = redis::cmd("INCR").arg("shared").query(&mut con).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut con = s.client();
    let v: i64 = redis::cmd("GET").arg("shared").query(&mut con).unwrap();
    assert_eq!(v, 100_000);
}

#[test]
fn inline_commands() {
    let s = common::Server::start();
    let mut sock = s.raw();
    assert_eq!(common::roundtrip(&mut sock, b"PING\r\n"), b"+PONG\r\n");
    assert_eq!(common::roundtrip(&mut sock, b"SET a b\r\n"), b"+OK\r\n");
    assert_eq!(common::roundtrip(&mut sock, b"GET a\r\n"), b"$1\r\nb\r\n");
    assert_eq!(common::roundtrip(&mut sock, b"SET  b   \"two words\"\r\nGET b\r\n"), b"+OK\r\n$9\r\ntwo words\r\n");
    // A bare LF ends a line too; empty lines are ignored.
    assert_eq!(common::roundtrip(&mut sock, b"\r\n\r\nPING\n"), b"+PONG\r\n");
    assert_eq!(common::roundtrip(&mut sock, b"ECHO 'single quoted'\r\n"), b"$13\r\nsingle quoted\r\n");
    // Inline and multibulk mixed in one write.
    assert_eq!(
        common::roundtrip(&mut sock, b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n"),
        b"+PONG\r\n$2\r\nhi\r\n+PONG\r\n"
    );
    assert_eq!(
        common::roundtrip(&mut sock, b"NOSUCH x\r\n"),
        b"-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"
    );
    let out = send_expect_close(&s, b"ECHO \"unbalanced\r\n").expect("closed");
    assert_eq!(out, b"-ERR Protocol error: unbalanced quotes in request\r\n");
}

#[test]
fn protocol_errors_close_only_the_offender() {
    let s = common::Server::start();
    let mut bystander = Raw::connect(s.port);
    assert_eq!(bystander.cmd(&["PING"]), Resp::Simple("PONG".into()));

    let cases: &[(&[u8], &[u8])] = &[
        (b"*1\r\n:5\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
        (b"*1\r\n$2147483648\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        // Commands before the bad frame still run.
        (b"PING\r\n*1\r\n:5\r\n", b"+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n"),
        (b"*1\r\n$4\r\nPING\r\n*1\r\nX\r\n", b"+PONG\r\n-ERR Protocol error: expected '$', got 'X'\r\n"),
    ];
    for (input, want) in cases {
        let out = send_expect_close(&s, input)
            .unwrap_or_else(|| panic!("{:?}: connection not closed", String::from_utf8_lossy(input)));
        assert_eq!(out, *want, "input {:?}", String::from_utf8_lossy(input));
        assert_healthy(&s, &mut bystander);
    }
}

#[test]
fn empty_and_negative_multibulk_counts_are_ignored() {
    let s = common::Server::start();
    let mut sock = s.raw();
    assert_eq!(common::roundtrip(&mut sock, b"*-5\r\nPING\r\n"), b"+PONG\r\n");
    assert_eq!(common::roundtrip(&mut sock, b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"), b"+PONG\r\n");
}

#[test]
fn garbage_bytes_do_not_hurt_the_server() {
    let s = common::Server::start();
    let mut bystander = Raw::connect(s.port);
    let inputs: &[&[u8]] = &[
        b"\x00\xff\xfe\xfd garbage\r\n",
        b"\xff\xff\xff\xff\xff\xff\xff\xff",
        b"$3\r\nfoo\r\n",
        b"*1\r\n$4\r\nPINGxx\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv",
        &[0u8; 10_000],
    ];
    for input in inputs {
        let mut sock = s.raw();
        sock.write_all(input).unwrap();
        // Whatever the answer, the server must not stall or crash.
        sock.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let _ = common::read_some(&mut sock);
        drop(sock);
        assert_healthy(&s, &mut bystander);
    }
    // Random bytes from a fixed seed.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20 {
        let data: Vec<u8> = (0..512)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut sock = s.raw();
        let _ = sock.write_all(&data);
        sock.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let _ = common::read_some(&mut sock);
    }
    assert_healthy(&s, &mut bystander);
}

#[test]
fn unterminated_frames_and_mid_frame_disconnects() {
    let s = common::Server::start();
    let mut bystander = Raw::connect(s.port);
    let partials: &[&[u8]] = &[
        b"*1\r\n$4\r\nPING",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc",
        b"*2\r\n$3\r\nGET",
        b"*5\r\n",
        b"PING",
        b"*1\r\n$1000000\r\n",
    ];
    for partial in partials {
        let mut sock = s.raw();
        sock.write_all(partial).unwrap();
        // The server waits for the rest: no reply, no close.
        sock.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut buf = [0u8; 64];
        match sock.read(&mut buf) {
            Ok(0) => panic!("{:?}: closed early", String::from_utf8_lossy(partial)),
            Ok(n) => panic!("{:?}: unexpected reply {:?}", String::from_utf8_lossy(partial), &buf[..n]),
            Err(_) => {}
        }
        drop(sock);
        assert_healthy(&s, &mut bystander);
    }
    // Completing a frame across writes works.
    let mut sock = s.raw();
    sock.write_all(b"*2\r\n$4\r\nECHO\r\n$5\r\nhe").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(common::roundtrip(&mut sock, b"llo\r\n"), b"$5\r\nhello\r\n");
    // The half-written SET above never ran.
    assert_eq!(bystander.cmd(&["EXISTS", "k"]), Resp::Int(0));
}

#[test]
fn huge_declared_multibulk_count_is_harmless() {
    let s = common::Server::start();
    let mut bystander = Raw::connect(s.port);
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut sock = s.raw();
        // Declares ~10^9 arguments and sends a few: nothing must be reserved up front.
        sock.write_all(b"*1048577000\r\n$3\r\nSET\r\n$1\r\nk\r\n").unwrap();
        clients.push(sock);
    }
    assert_healthy(&s, &mut bystander);
    let info = bystander.cmd(&["INFO", "memory"]).text();
    let used: u64 = helpers::info_field(&info, "used_memory").unwrap().parse().unwrap();
    assert!(used < 512 * 1024 * 1024, "used_memory {used}");
    for mut sock in clients.drain(..) {
        sock.shutdown(std::net::Shutdown::Write).unwrap();
        assert!(closed_within(&mut sock, Duration::from_secs(5)));
    }
    // A declared 500 MB bulk with only a few bytes behind it.
    let mut sock = s.raw();
    sock.write_all(b"*2\r\n$4\r\nECHO\r\n$500000000\r\nabc").unwrap();
    assert_healthy(&s, &mut bystander);
    drop(sock);
    assert_healthy(&s, &mut bystander);
    assert_eq!(bystander.cmd(&["EXISTS", "k"]), Resp::Int(0));
}

#[test]
fn large_values_round_trip() {
    let s = common::Server::start();
    let mut r = Raw::connect(s.port);
    let big: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    assert_eq!(r.cmd_bytes(&[b"SET", b"big", &big]), Resp::ok());
    assert_eq!(r.cmd(&["STRLEN", "big"]), Resp::Int(big.len() as i64));
    assert_eq!(r.cmd(&["GET", "big"]), Resp::Bulk(big));
}
