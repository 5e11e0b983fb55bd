//! A script that runs past `busy-reply-threshold`. The keyspace thread is
//! inside it, so the threads that can still answer clients reply -BUSY
//! and pass SCRIPT KILL, FUNCTION KILL and SHUTDOWN NOSAVE on to it. The
//! running script checks in every 100k Lua instructions, as Redis's count
//! hook does, with a `ScriptWatch` that the server provides.

use mlua::{HookTriggers, Lua, VmState};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The error a killed script raises, and its caller gets.
pub const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

/// The reply to SCRIPT KILL or FUNCTION KILL with no busy script.
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";

/// How often a running script checks in, in Lua instructions (Redis's figure).
const CHECK_EVERY: u32 = 100_000;

/// The server's side of a busy script.
pub trait ScriptWatch: Send {
    /// The running script (a function when `function`) has run for
    /// `busy-reply-threshold`: other clients get -BUSY from now on, or
    /// -NOAUTH first when `auth_required`.
    fn busy(&mut self, function: bool, auth_required: bool);
    /// Answers the kill requests that came since the last look; true when
    /// the script must stop. `wrote`: it has changed the dataset, so only
    /// SHUTDOWN NOSAVE may stop it.
    fn must_stop(&mut self, wrote: bool) -> bool;
    /// The busy script has ended, killed or not.
    fn idle(&mut self);
}

/// One run's check-ins.
pub(crate) struct Run {
    watch: Option<Box<dyn ScriptWatch>>,
    started: Instant,
    threshold: Duration,
    function: bool,
    auth_required: bool,
    busy: bool,
    killed: bool,
}

/// Has `lua` check in with `watch` while the run that starts now lasts.
/// `wrote` is the run's flag for a write command having run.
pub(crate) fn watch_run(
    lua: &Lua,
    watch: Box<dyn ScriptWatch>,
    threshold_ms: u64,
    (function, auth_required): (bool, bool),
    wrote: Rc<Cell<bool>>,
) -> Rc<RefCell<Run>> {
    let run = Rc::new(RefCell::new(Run {
        watch: Some(watch),
        started: Instant::now(),
        threshold: Duration::from_millis(threshold_ms),
        function,
        auth_required,
        busy: false,
        killed: false,
    }));
    let hooked = run.clone();
    // A global hook: coroutines the script makes inherit it. Should it
    // fail to install, the script runs unwatched, as with no threshold.
    let _ = lua.set_global_hook(HookTriggers::new().every_nth_instruction(CHECK_EVERY), move |lua, _| {
        let mut run = hooked.borrow_mut();
        let (function, auth_required) = (run.function, run.auth_required);
        if !run.busy {
            if run.started.elapsed() < run.threshold {
                return Ok(VmState::Continue);
            }
            run.busy = true;
            if let Some(watch) = run.watch.as_mut() {
                watch.busy(function, auth_required);
            }
        }
        if run.watch.as_mut().is_some_and(|w| w.must_stop(wrote.get())) {
            run.killed = true;
            // Every line fails from now on, so no pcall can hold the script.
            lua.set_global_hook(HookTriggers::EVERY_LINE, |_, _| Err(killed()))?;
            return Err(killed());
        }
        Ok(VmState::Continue)
    });
    run
}

/// Ends the check-ins of `run`: its watch back, and whether it was killed.
pub(crate) fn end_run(lua: &Lua, run: Rc<RefCell<Run>>) -> (Option<Box<dyn ScriptWatch>>, bool) {
    lua.remove_global_hook();
    let mut run = run.borrow_mut();
    let mut watch = run.watch.take();
    if let (Some(watch), true) = (watch.as_mut(), run.busy) {
        watch.idle();
    }
    (watch, run.killed)
}

fn killed() -> mlua::Error {
    mlua::Error::RuntimeError(KILLED.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::Engine;
    use crate::resp::Batch;
    use std::sync::mpsc::{channel, Sender};

    /// What the watch saw, in order.
    #[derive(Debug, PartialEq)]
    enum Seen {
        Busy { function: bool },
        CheckIn { wrote: bool },
        Idle,
    }

    /// Stops the script at its `stop_at`-th check-in once busy.
    struct Scripted {
        seen: Sender<Seen>,
        stop_at: usize,
        check_ins: usize,
    }

    impl ScriptWatch for Scripted {
        fn busy(&mut self, function: bool, _auth_required: bool) {
            let _ = self.seen.send(Seen::Busy { function });
        }
        fn must_stop(&mut self, wrote: bool) -> bool {
            self.check_ins += 1;
            let _ = self.seen.send(Seen::CheckIn { wrote });
            self.check_ins >= self.stop_at
        }
        fn idle(&mut self) {
            let _ = self.seen.send(Seen::Idle);
        }
    }

    fn engine(stop_at: usize) -> (Engine, std::sync::mpsc::Receiver<Seen>) {
        let mut e = Engine::new(Config::default());
        e.connect(1, "a".into(), "l".into());
        e.config.apply("busy-reply-threshold", &["0".to_string()]).unwrap();
        let (seen, log) = channel();
        e.script_watch = Some(Box::new(Scripted { seen, stop_at, check_ins: 0 }));
        (e, log)
    }

    fn run(e: &mut Engine, cmd: &[&str]) -> String {
        String::from_utf8_lossy(&e.execute(1, Batch::from_commands(&[cmd.to_vec()])).data).into_owned()
    }

    #[test]
    fn a_stopped_script_fails_with_redis_error_even_inside_pcall() {
        let (mut e, seen) = engine(2);
        let spin = "local f = function() while true do end end while true do pcall(f) end";
        assert_eq!(run(&mut e, &["EVAL", spin, "0"]), format!("-{KILLED}\r\n"));
        let seen: Vec<Seen> = seen.try_iter().collect();
        assert_eq!(
            seen,
            vec![
                Seen::Busy { function: false },
                Seen::CheckIn { wrote: false },
                Seen::CheckIn { wrote: false },
                Seen::Idle
            ]
        );
        // The watch is back for the next script, which runs to its end.
        assert!(e.script_watch.is_some());
        assert_eq!(run(&mut e, &["EVAL", "return 7", "0"]), ":7\r\n");
    }

    #[test]
    fn the_watch_hears_of_writes_and_of_functions() {
        let (mut e, seen) = engine(1);
        let library = "#!lua name=lib\nredis.register_function('spin', function() redis.call('set', 'k', 'v') while true do end end)";
        assert_eq!(run(&mut e, &["FUNCTION", "LOAD", library]), "$3\r\nlib\r\n");
        assert_eq!(run(&mut e, &["FCALL", "spin", "0"]), format!("-{KILLED}\r\n"));
        let seen: Vec<Seen> = seen.try_iter().collect();
        assert_eq!(seen, vec![Seen::Busy { function: true }, Seen::CheckIn { wrote: true }, Seen::Idle]);
    }

    #[test]
    fn a_script_under_the_threshold_never_checks_in() {
        let (mut e, seen) = engine(1);
        e.config.apply("busy-reply-threshold", &["60000".to_string()]).unwrap();
        assert_eq!(run(&mut e, &["EVAL", "for i = 1, 300000 do end return 1", "0"]), ":1\r\n");
        assert_eq!(seen.try_iter().count(), 0);
    }
}
