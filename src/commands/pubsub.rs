//! Publish/subscribe.

use crate::engine::table::{cmd, CommandSpec, CONTAINER, FAST, LOADING, MAY_REPLICATE, PUBSUB, PUBSUB_CONTEXT};
use crate::engine::{Call, Engine};
use crate::glob::glob_match;

pub static COMMANDS: &[CommandSpec] = &[
    cmd("subscribe", -2, PUBSUB | LOADING | PUBSUB_CONTEXT, (0, 0, 0), subscribe),
    cmd("unsubscribe", -1, PUBSUB | LOADING | PUBSUB_CONTEXT, (0, 0, 0), unsubscribe),
    cmd("psubscribe", -2, PUBSUB | LOADING | PUBSUB_CONTEXT, (0, 0, 0), psubscribe),
    cmd("punsubscribe", -1, PUBSUB | LOADING | PUBSUB_CONTEXT, (0, 0, 0), punsubscribe),
    cmd("publish", 3, PUBSUB | LOADING | FAST | MAY_REPLICATE, (0, 0, 0), publish),
    cmd("pubsub", -2, PUBSUB | LOADING | CONTAINER, (0, 0, 0), pubsub),
];

fn confirm(c: &mut Call, kind: &[u8], name: Option<&[u8]>) {
    c.out.push(3);
    c.out.bulk(kind);
    match name {
        Some(n) => c.out.bulk(n),
        None => c.out.null(),
    }
    c.out.int(c.client.subscriptions() as i64);
}

fn subscribe(e: &mut Engine, c: &mut Call) {
    if c.client.multi.is_some() {
        return c.out.error("ERR SUBSCRIBE isn't allowed for a DENY BLOCKING client");
    }
    for &ch in &c.args[1..] {
        if !c.client.channels.iter().any(|x| x == ch) {
            c.client.channels.push(ch.to_vec());
            e.pubsub.subscribe(c.client.id, ch);
        }
        confirm(c, b"subscribe", Some(ch));
    }
}

fn psubscribe(e: &mut Engine, c: &mut Call) {
    if c.client.multi.is_some() {
        return c.out.error("ERR PSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    }
    for &p in &c.args[1..] {
        if !c.client.patterns.iter().any(|x| x == p) {
            c.client.patterns.push(p.to_vec());
            e.pubsub.psubscribe(c.client.id, p);
        }
        confirm(c, b"psubscribe", Some(p));
    }
}

fn unsubscribe(e: &mut Engine, c: &mut Call) {
    let names: Vec<Vec<u8>> =
        if c.argc() == 1 { c.client.channels.clone() } else { c.args[1..].iter().map(|a| a.to_vec()).collect() };
    if names.is_empty() {
        return confirm(c, b"unsubscribe", None);
    }
    for ch in names {
        c.client.channels.retain(|x| *x != ch);
        e.pubsub.unsubscribe(c.client.id, &ch);
        confirm(c, b"unsubscribe", Some(&ch));
    }
}

fn punsubscribe(e: &mut Engine, c: &mut Call) {
    let names: Vec<Vec<u8>> =
        if c.argc() == 1 { c.client.patterns.clone() } else { c.args[1..].iter().map(|a| a.to_vec()).collect() };
    if names.is_empty() {
        return confirm(c, b"punsubscribe", None);
    }
    for p in names {
        c.client.patterns.retain(|x| *x != p);
        e.pubsub.punsubscribe(c.client.id, &p);
        confirm(c, b"punsubscribe", Some(&p));
    }
}

fn publish(e: &mut Engine, c: &mut Call) {
    let count = e.publish(c.arg(1), c.arg(2));
    c.out.int(count as i64);
}

fn pubsub(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"channels" if c.argc() <= 3 => {
            let pattern = c.args.get(2).copied();
            let names: Vec<Vec<u8>> = e
                .pubsub
                .channel_names()
                .filter(|ch| pattern.is_none_or(|p| glob_match(p, ch, false)))
                .map(|ch| ch.to_vec())
                .collect();
            c.out.bulks(names.iter().map(|n| n.as_slice()));
        }
        b"numsub" => {
            c.out.map(c.argc() - 2);
            for i in 2..c.argc() {
                c.out.bulk(c.arg(i));
                c.out.int(e.pubsub.subscriber_count(c.arg(i)) as i64);
            }
        }
        b"numpat" if c.argc() == 2 => c.out.int(e.pubsub.pattern_count() as i64),
        b"shardchannels" => c.out.array(0),
        b"shardnumsub" => c.out.map(0),
        _ => c.subcommand_error(&["channels", "numsub", "numpat", "shardchannels", "shardnumsub"]),
    }
}
