//! Listening sockets from `bind` entries, as Redis 7 makes them: `*` is every
//! IPv4 address and `::*` every IPv6 one, an IPv6 socket is IPv6-only (so
//! `bind * -::*` gives two sockets on one port), and a leading `-` marks an
//! address that may be missing on this host. The backlog is `tcp-backlog`.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// One `bind` entry, parsed.
#[derive(Debug, PartialEq)]
pub struct BindAddr<'a> {
    /// The host to resolve, with `*` / `::*` turned into the any-address.
    pub host: &'a str,
    /// `-addr`: skipped when the host has no such address.
    pub optional: bool,
}

impl<'a> BindAddr<'a> {
    pub fn parse(entry: &'a str) -> BindAddr<'a> {
        let (optional, addr) = match entry.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        let host = match addr {
            "*" => "0.0.0.0",
            "::*" => "::",
            other => other,
        };
        BindAddr { host, optional }
    }
}

/// Listens on one `bind` entry. `Ok(None)`: skipped, as Redis skips an
/// optional address the host lacks and any address of a protocol the host
/// does not support.
pub fn listen(entry: &str, port: u16, backlog: i32) -> io::Result<Option<std::net::TcpListener>> {
    let bind = BindAddr::parse(entry);
    match listen_on(bind.host, port, backlog) {
        Ok(listener) => Ok(Some(listener)),
        Err(e) if skippable(&e, bind.optional) => Ok(None),
        Err(e) => Err(e),
    }
}

fn skippable(e: &io::Error, optional: bool) -> bool {
    use nix::errno::Errno;
    let unsupported =
        [Errno::ENOPROTOOPT, Errno::EPROTONOSUPPORT, Errno::ESOCKTNOSUPPORT, Errno::EPFNOSUPPORT, Errno::EAFNOSUPPORT];
    match e.raw_os_error().map(Errno::from_raw) {
        Some(Errno::EADDRNOTAVAIL) => optional,
        Some(errno) => unsupported.contains(&errno),
        None => false,
    }
}

fn listen_on(host: &str, port: u16, backlog: i32) -> io::Result<std::net::TcpListener> {
    let addr: SocketAddr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::AddrNotAvailable, "no address"))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_like_redis() {
        assert_eq!(BindAddr::parse("*"), BindAddr { host: "0.0.0.0", optional: false });
        assert_eq!(BindAddr::parse("-::*"), BindAddr { host: "::", optional: true });
        assert_eq!(BindAddr::parse("-::1"), BindAddr { host: "::1", optional: true });
        assert_eq!(BindAddr::parse("10.0.0.1"), BindAddr { host: "10.0.0.1", optional: false });
    }

    #[test]
    fn a_missing_address_fails_unless_optional() {
        // 192.0.2.1 (TEST-NET-1) is on no interface of a test machine.
        assert!(listen("192.0.2.1", 0, 16).is_err());
        assert!(listen("-192.0.2.1", 0, 16).unwrap().is_none());
    }

    #[test]
    fn ipv4_and_ipv6_any_share_a_port() {
        let v4 = listen("127.0.0.1", 0, 16).unwrap().expect("loopback exists");
        let port = v4.local_addr().unwrap().port();
        // Skipped, not failed, where the host has no IPv6.
        if let Some(v6) = listen("-::1", port, 16).unwrap() {
            assert_eq!(v6.local_addr().unwrap().port(), port);
        }
    }
}
