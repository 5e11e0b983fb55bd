//! Forking a persistence child. The child shares the parent's memory copy-on-
//! write, so it sees the keyspace exactly as it was between two commands. It
//! runs only plain std I/O (the runtime's other threads do not exist in it),
//! reports how much memory it made private, and leaves with `_exit`.

use nix::sys::signal::{signal, SigHandler, Signal};
use nix::unistd::{fork, ForkResult, Pid};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

pub struct Child {
    pub pid: Pid,
    /// Read end of the pipe on which the child reports its COW bytes.
    pub report: OwnedFd,
    /// How long fork() itself took.
    pub fork_usec: u64,
}

/// Private_Dirty of this process, from /proc/self/smaps_rollup: the pages the
/// child had to copy (or wrote itself), as Redis measures COW.
pub fn private_dirty_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps_rollup") else { return 0 };
    text.lines()
        .filter(|l| l.starts_with("Private_Dirty:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// Forks; the child runs `work` and exits 0 if it returns true, 1 otherwise.
pub fn fork_child(work: impl FnOnce() -> bool) -> nix::Result<Child> {
    let (read_end, write_end) = nix::unistd::pipe()?;
    let start = std::time::Instant::now();
    // SAFETY: the child only runs `work` (plain file I/O on data it owns a
    // copy-on-write view of) and leaves with _exit, never returning into the
    // parent's runtime.
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop(read_end);
            // Operators' signals must end the child, not reach the parent's hooks.
            for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGUSR1, Signal::SIGHUP] {
                // SAFETY: restoring default dispositions.
                let _ = unsafe { signal(sig, SigHandler::SigDfl) };
            }
            let ok = work();
            let cow = private_dirty_bytes();
            // SAFETY: write_end is the pipe's write side, owned here.
            let mut pipe = unsafe { File::from_raw_fd(write_end.into_raw_fd()) };
            let _ = pipe.write_all(&cow.to_le_bytes());
            // SAFETY: _exit skips destructors and atexit handlers that belong to the parent.
            unsafe { nix::libc::_exit(if ok { 0 } else { 1 }) }
        }
        ForkResult::Parent { child } => {
            let fork_usec = start.elapsed().as_micros() as u64;
            drop(write_end);
            Ok(Child { pid: child, report: read_end, fork_usec })
        }
    }
}

/// Reads the child's COW report after it exited (0 if it wrote none).
pub fn read_report(report: OwnedFd) -> u64 {
    let mut f = File::from(report);
    let mut buf = [0u8; 8];
    match f.read_exact(&mut buf) {
        Ok(()) => u64::from_le_bytes(buf),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::{waitpid, WaitStatus};

    #[test]
    fn child_runs_work_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let p = path.clone();
        let child = fork_child(move || std::fs::write(&p, b"done").is_ok()).unwrap();
        let status = waitpid(child.pid, None).unwrap();
        assert_eq!(status, WaitStatus::Exited(child.pid, 0));
        assert_eq!(std::fs::read(&path).unwrap(), b"done");
        let cow = read_report(child.report);
        assert!(cow > 0, "a child that wrote memory reports private dirty bytes");
    }

    #[test]
    fn failing_work_exits_one() {
        let child = fork_child(|| false).unwrap();
        assert_eq!(waitpid(child.pid, None).unwrap(), WaitStatus::Exited(child.pid, 1));
    }
}
