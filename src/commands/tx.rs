//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. EXEC runs the queued
//! commands inside one keyspace message, so nothing interleaves.

use crate::acl::log::Context;
use crate::engine::maxmemory::OOM_ERROR;
use crate::engine::table::{cmd, CommandSpec, DENYOOM, FAST, LOADING, NO_MULTI};
use crate::engine::{Call, Engine};

pub static COMMANDS: &[CommandSpec] = &[
    cmd("multi", 1, FAST | LOADING | NO_MULTI, (0, 0, 0), multi),
    cmd("exec", 1, LOADING | NO_MULTI, (0, 0, 0), exec),
    cmd("discard", 1, FAST | LOADING | NO_MULTI, (0, 0, 0), discard),
    cmd("watch", -2, FAST | LOADING | NO_MULTI, (1, -1, 1), watch),
    cmd("unwatch", 1, FAST | LOADING, (0, 0, 0), unwatch),
];

fn multi(_: &mut Engine, c: &mut Call) {
    if c.client.multi.is_some() {
        return c.out.error("ERR MULTI calls can not be nested");
    }
    c.client.multi = Some(Vec::new());
    c.client.multi_error = false;
    c.out.ok();
}

fn unwatch_client(e: &mut Engine, c: &mut Call) {
    e.watches.unwatch_all(c.client.id, &c.client.watched);
    c.client.watched.clear();
}

fn discard(e: &mut Engine, c: &mut Call) {
    if c.client.multi.take().is_none() {
        return c.out.error("ERR DISCARD without MULTI");
    }
    unwatch_client(e, c);
    c.out.ok();
}

fn exec(e: &mut Engine, c: &mut Call) {
    let Some(queued) = c.client.multi.take() else {
        return c.out.error("ERR EXEC without MULTI");
    };
    let aborted = c.client.multi_error;
    // A watched key that expired since WATCH counts as modified, even if
    // nothing has deleted it yet (Redis's isWatchedKeyExpired).
    let watch_failed = e.watches.is_dirty(c.client.id)
        || c.client
            .watched
            .iter()
            .any(|(db, key)| e.dbs[*db].find(key).is_some_and(|slot| e.dbs[*db].is_expired(slot, e.now)));
    unwatch_client(e, c);
    c.propagate_nothing();
    let grows = |cmd: &Vec<Vec<u8>>| e.commands.get(&cmd[0]).is_some_and(|spec| spec.has(DENYOOM));
    if e.out_of_memory() && queued.iter().any(grows) {
        return c.out.error(&format!("EXECABORT Transaction discarded because of: {OOM_ERROR}"));
    }
    if aborted {
        return c.out.error("EXECABORT Transaction discarded because of previous errors.");
    }
    if watch_failed {
        return c.out.null_array();
    }
    c.out.array(queued.len());
    e.aof.begin_multi();
    for command in &queued {
        let args: Vec<&[u8]> = command.iter().map(|a| a.as_slice()).collect();
        let spec = e.commands.get(args[0]).expect("queued commands were looked up");
        // The rules may have changed since the command was queued.
        if !e.acl.unrestricted(c.client.user) {
            if let Some((refusal, _)) = e.acl_refusal(c.client, spec, &args, Context::Multi) {
                c.out.error(&format!("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {}", refusal.exec_reason()));
                continue;
            }
        }
        if spec.is_write() {
            if let Some(err) = e.writes_refused() {
                c.out.error(&err);
                continue;
            }
        }
        let reply_start = c.out.buf.len();
        e.call(spec, c.client, &args, c.out, true);
        e.deliver_held(c.client, c.out, reply_start);
        e.feed_monitors(spec, c.client, &args);
    }
    e.aof.end_multi();
}

fn watch(e: &mut Engine, c: &mut Call) {
    if c.client.multi.is_some() {
        return c.out.error("ERR WATCH inside MULTI is not allowed");
    }
    let db = c.db();
    for &key in &c.args[1..] {
        // Drop a key that is already expired, so that it is not taken for
        // one that expired after WATCH.
        e.lookup(db, key);
        if e.watches.watch(c.client.id, db, key) {
            c.client.watched.push((db, key.to_vec()));
        }
    }
    c.out.ok();
}

fn unwatch(e: &mut Engine, c: &mut Call) {
    unwatch_client(e, c);
    c.out.ok();
}
