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
