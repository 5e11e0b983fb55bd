//! Forking a persistence child. The child shares the parent's memory copy-on-
//! write, so it sees the keyspace exactly as it was between two commands. It
//! runs only plain std I/O (the runtime's other threads do not exist in it),
//! reports how much memory it made private, and leaves with `_exit`.

use nix::sys::signal::{pthread_sigmask, signal, SigHandler, SigSet, SigmaskHow, Signal};
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
    crate::memory::smaps_rollup_bytes("Private_Dirty:")
}

/// Signals an operator may send the child: they must end it (default
/// action), not reach the parent's hooks through the inherited handlers.
const OPERATOR_SIGNALS: [Signal; 4] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGUSR1, Signal::SIGHUP];

/// Forks; the child runs `work` and exits 0 if it returns true, 1 otherwise.
pub fn fork_child(work: impl FnOnce() -> bool) -> nix::Result<Child> {
    let (read_end, write_end) = nix::unistd::pipe()?;
    // Blocked across the fork: a signal sent to the new child before it has
    // reset its handlers stays pending and then takes the default action.
    let operator: SigSet = OPERATOR_SIGNALS.into_iter().collect();
    let mut previous = SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&operator), Some(&mut previous))?;
    let start = std::time::Instant::now();
    // SAFETY: the child only runs `work` (plain file I/O on data it owns a
    // copy-on-write view of) and leaves with _exit, never returning into the
    // parent's runtime.
    let forked = unsafe { fork() };
    match forked {
        Ok(ForkResult::Child) => {
            drop(read_end);
            for sig in OPERATOR_SIGNALS {
                // SAFETY: restoring default dispositions.
                let _ = unsafe { signal(sig, SigHandler::SigDfl) };
            }
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&previous), None);
            let ok = work();
            let cow = private_dirty_bytes();
            // SAFETY: write_end is the pipe's write side, owned here.
            let mut pipe = unsafe { File::from_raw_fd(write_end.into_raw_fd()) };
            let _ = pipe.write_all(&cow.to_le_bytes());
            // SAFETY: _exit skips destructors and atexit handlers that belong to the parent.
            unsafe { nix::libc::_exit(if ok { 0 } else { 1 }) }
        }
        Ok(ForkResult::Parent { child }) => {
            let fork_usec = start.elapsed().as_micros() as u64;
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&previous), None);
            drop(write_end);
            Ok(Child { pid: child, report: read_end, fork_usec })
        }
        Err(e) => {
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&previous), None);
            Err(e)
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

    extern "C" fn ignore(_: nix::libc::c_int) {}

    #[test]
    fn operator_signal_ends_the_child_even_right_after_fork() {
        // The parent catches SIGUSR1 (as forkv's signal hooks do): a child
        // signalled before it resets its handlers must still die by it.
        let catch = nix::sys::signal::SigAction::new(
            SigHandler::Handler(ignore),
            nix::sys::signal::SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: installing a handler that does nothing.
        unsafe { nix::sys::signal::sigaction(Signal::SIGUSR1, &catch) }.unwrap();
        for _ in 0..20 {
            let child = fork_child(|| {
                std::thread::sleep(std::time::Duration::from_secs(2));
                true
            })
            .unwrap();
            nix::sys::signal::kill(child.pid, Signal::SIGUSR1).unwrap();
            assert_eq!(waitpid(child.pid, None).unwrap(), WaitStatus::Signaled(child.pid, Signal::SIGUSR1, false));
        }
    }

    #[test]
    fn failing_work_exits_one() {
        let child = fork_child(|| false).unwrap();
        assert_eq!(waitpid(child.pid, None).unwrap(), WaitStatus::Exited(child.pid, 1));
    }
}
