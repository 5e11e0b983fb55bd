//! The binary starts, serves SET/GET over a real connection, and stops on SIGTERM.

mod common;

#[test]
fn serves_set_and_get_then_stops_cleanly() {
    let mut server = common::Server::start();
    let mut con = server.client();
    let _: () = redis::cmd("SET").arg("greeting").arg("hello").query(&mut con).unwrap();
    let got: String = redis::cmd("GET").arg("greeting").query(&mut con).unwrap();
    assert_eq!(got, "hello");
    let status = server.stop();
    assert!(status.success(), "exit status {status}");
    assert!(server.log().contains("ready to exit"), "log:\n{}", server.log());
}

/// With `io-threads 2` connections live on arbiters of their own and talk to
/// the keyspace across threads; replies must still come back in order.
#[test]
fn separate_io_arbiters_serve_pipelines_in_order() {
    let server = common::Server::start_with(&["--save", "", "--appendonly", "no", "--io-threads", "2"]);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let mut con = server.client();
            std::thread::spawn(move || {
                let mut pipe = redis::pipe();
                for i in 0..500 {
                    pipe.cmd("SET").arg(format!("k{t}:{i}")).arg(i).ignore();
                    pipe.cmd("INCR").arg(format!("n{t}"));
                }
                let counts: Vec<i64> = pipe.query(&mut con).unwrap();
                assert_eq!(counts, (1..=500).collect::<Vec<i64>>());
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut con = server.client();
    let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, 4 * 500 + 4);
}
