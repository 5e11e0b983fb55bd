//! MIGRATE's connections to target instances: blocking sockets with the
//! command's timeout, kept per `host:port` for reuse as Redis keeps its
//! `migrate_cached_sockets`, and closed after 10 idle seconds.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Redis's MIGRATE_SOCKET_CACHE_ITEMS: beyond this, one link is dropped.
const MAX_LINKS: usize = 64;
/// Redis's MIGRATE_SOCKET_CACHE_TTL, in seconds.
const IDLE_SECONDS: i64 = 10;

/// One connection to a target instance.
pub struct Link {
    stream: BufReader<TcpStream>,
    /// The db the target has selected, when known (Redis's `last_dbid`):
    /// SELECT is sent only when it differs.
    pub selected_db: Option<i64>,
    last_use: i64,
}

impl Link {
    fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Result<Link, ConnectError> {
        // C's atoi and a 16-bit port, as Redis's connect truncates it.
        let port = crate::engine::key_finders::atoi(port) as u16;
        let host = String::from_utf8_lossy(host);
        let addrs = (&*host, port).to_socket_addrs().map_err(|_| ConnectError::Unresolved)?;
        let mut last_error = ConnectError::Unresolved;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout).and_then(|s| s.set_nodelay(true).map(|_| s)) {
                Ok(stream) => return Ok(Link { stream: BufReader::new(stream), selected_db: None, last_use: 0 }),
                Err(err) => last_error = ConnectError::Failed(err),
            }
        }
        Err(last_error)
    }

    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        let stream = self.stream.get_ref();
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))
    }

    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.get_mut().write_all(bytes)
    }

    /// One reply line, without its line end (the target answers AUTH,
    /// SELECT and RESTORE with status or error lines).
    pub fn read_line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        if self.stream.read_until(b'\n', &mut line)? == 0 || line.last() != Some(&b'\n') {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(line)
    }
}

/// Why no link could be had.
#[derive(Debug)]
pub enum ConnectError {
    /// The host and port name no address.
    Unresolved,
    /// The TCP connection failed (refused, timed out).
    Failed(io::Error),
}

/// Whether an I/O error is the timeout running out (Redis does not retry
/// those).
pub fn is_timeout(err: &io::Error) -> bool {
    matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// The cached links by `host:port`, as given to MIGRATE.
#[derive(Default)]
pub struct Links {
    by_target: HashMap<Vec<u8>, Link>,
}

impl Links {
    /// The cached link to `host:port`, or a new one; the error when it
    /// cannot connect within `timeout`.
    pub fn get(&mut self, host: &[u8], port: &[u8], timeout: Duration, now_s: i64) -> Result<&mut Link, ConnectError> {
        let name = target_name(host, port);
        if !self.by_target.contains_key(&name) {
            let link = Link::connect(host, port, timeout)?;
            if self.by_target.len() >= MAX_LINKS {
                // Redis drops one at random; the map's order is arbitrary.
                let victim = self.by_target.keys().next().cloned();
                victim.map(|v| self.by_target.remove(&v));
            }
            self.by_target.insert(name.clone(), link);
        }
        let link = self.by_target.get_mut(&name).expect("inserted above");
        link.last_use = now_s;
        link.set_timeout(timeout).map_err(ConnectError::Failed)?;
        Ok(link)
    }

    /// Closes the link to `host:port` after an error: the next MIGRATE
    /// connects afresh.
    pub fn close(&mut self, host: &[u8], port: &[u8]) {
        self.by_target.remove(&target_name(host, port));
    }

    /// Closes the links unused for more than 10 seconds (the cron's job).
    pub fn close_idle(&mut self, now_s: i64) {
        self.by_target.retain(|_, link| now_s - link.last_use <= IDLE_SECONDS);
    }

    /// INFO's `migrate_cached_sockets`.
    pub fn len(&self) -> usize {
        self.by_target.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_target.is_empty()
    }
}

fn target_name(host: &[u8], port: &[u8]) -> Vec<u8> {
    [host, b":", port].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn links_are_reused_and_closed_when_idle() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let mut links = Links::default();
        let timeout = Duration::from_millis(500);
        links.get(b"127.0.0.1", port.as_bytes(), timeout, 100).unwrap().selected_db = Some(3);
        let again = links.get(b"127.0.0.1", port.as_bytes(), timeout, 105).unwrap();
        assert_eq!(again.selected_db, Some(3), "the cached link is reused");
        assert_eq!(links.len(), 1);
        links.close_idle(115);
        assert_eq!(links.len(), 1, "10 idle seconds are allowed");
        links.close_idle(116);
        assert!(links.is_empty());
    }

    #[test]
    fn a_reply_line_loses_its_line_end_and_a_cut_one_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let mut links = Links::default();
        let link = links.get(b"127.0.0.1", port.as_bytes(), Duration::from_millis(500), 0).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        peer.write_all(b"+OK\r\n-ERR x\r\n+cut").unwrap();
        drop(peer);
        assert_eq!(link.read_line().unwrap(), b"+OK");
        assert_eq!(link.read_line().unwrap(), b"-ERR x");
        assert!(!is_timeout(&link.read_line().unwrap_err()));
    }

    #[test]
    fn a_silent_target_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let mut links = Links::default();
        let link = links.get(b"127.0.0.1", port.as_bytes(), Duration::from_millis(50), 0).unwrap();
        assert!(is_timeout(&link.read_line().unwrap_err()));
    }
}
