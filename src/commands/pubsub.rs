//! Publish/subscribe: channels, patterns and (Redis 7.0) shard channels.
//! The three kinds share one implementation, as Redis's pubsubtype does;
//! shard channels are a namespace of their own, and a standalone server
//! has a single shard, so they behave as channels without patterns.

use crate::engine::table::{
    cmd, CommandSpec, CONTAINER, FAST, LOADING, MAY_REPLICATE, NOT_KEY, PUBSUB, PUBSUB_CONTEXT,
};
use crate::engine::{Call, Engine, Sub};
use crate::glob::glob_match;

pub static COMMANDS: &[CommandSpec] = &[
    cmd("subscribe", -2, PUBSUB | LOADING | PUBSUB_CONTEXT, (0, 0, 0), subscribe),
    cmd("unsubscribe", -1, PUBSUB | LOADING | PUBSUB_CONTEXT, (0, 0, 0), unsubscribe),
    cmd("psubscribe", -2, PUBSUB | LOADING | PUBSUB_CONTEXT, (0, 0, 0), psubscribe),
    cmd("punsubscribe", -1, PUBSUB | LOADING | PUBSUB_CONTEXT, (0, 0, 0), punsubscribe),
    cmd("publish", 3, PUBSUB | LOADING | FAST | MAY_REPLICATE, (0, 0, 0), publish),
    cmd("pubsub", -2, PUBSUB | LOADING | CONTAINER, (0, 0, 0), pubsub),
    // Redis gives the shard channels key positions (for cluster slot
    // checks), flagged NOT_KEY.
    cmd("ssubscribe", -2, PUBSUB | LOADING | PUBSUB_CONTEXT | NOT_KEY, (1, -1, 1), ssubscribe),
    cmd("sunsubscribe", -1, PUBSUB | LOADING | PUBSUB_CONTEXT | NOT_KEY, (1, -1, 1), sunsubscribe),
    cmd("spublish", 3, PUBSUB | LOADING | FAST | MAY_REPLICATE | NOT_KEY, (1, 1, 1), spublish),
];

/// `[subscribe|unsubscribe…, name or nil, count]`: a push in RESP3.
fn confirm(c: &mut Call, kind: Sub, word: &[u8], name: Option<&[u8]>) {
    let start = c.out.buf.len();
    c.out.push(3);
    c.out.bulk(word);
    match name {
        Some(n) => c.out.bulk(n),
        None => c.out.null(),
    }
    c.out.int(c.client.subscription_count(kind) as i64);
    c.out.keep_push(start);
}

fn subscribe_generic(e: &mut Engine, c: &mut Call, kind: Sub) {
    // Redis refuses the three to a client that may not block (one running
    // EXEC); SUBSCRIBE and PSUBSCRIBE are let through inside MULTI for
    // backward compatibility, SSUBSCRIBE is not. (Scripts may call none.)
    if kind == Sub::Shard && c.no_block {
        return c.out.error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    }
    let before = c.client.output_class();
    for &name in &c.args[1..] {
        if !c.client.subscribed_to(kind).iter().any(|x| x == name) {
            c.client.subscribed_to_mut(kind).push(name.to_vec());
            e.pubsub.subscribe(kind, c.client.id, name);
        }
        confirm(c, kind, kind.subscribed(), Some(name));
    }
    e.note_output_class(c.client, before);
}

/// Without names: from every subscription of `kind`, or one confirmation
/// with a nil name when there is none.
fn unsubscribe_generic(e: &mut Engine, c: &mut Call, kind: Sub) {
    let names: Vec<Vec<u8>> = if c.argc() == 1 {
        c.client.subscribed_to(kind).clone()
    } else {
        c.args[1..].iter().map(|a| a.to_vec()).collect()
    };
    if names.is_empty() {
        return confirm(c, kind, kind.unsubscribed(), None);
    }
    let before = c.client.output_class();
    for name in names {
        c.client.subscribed_to_mut(kind).retain(|x| *x != name);
        e.pubsub.unsubscribe(kind, c.client.id, &name);
        confirm(c, kind, kind.unsubscribed(), Some(&name));
    }
    e.note_output_class(c.client, before);
}

fn subscribe(e: &mut Engine, c: &mut Call) {
    subscribe_generic(e, c, Sub::Channel);
}

fn psubscribe(e: &mut Engine, c: &mut Call) {
    subscribe_generic(e, c, Sub::Pattern);
}

fn ssubscribe(e: &mut Engine, c: &mut Call) {
    subscribe_generic(e, c, Sub::Shard);
}

fn unsubscribe(e: &mut Engine, c: &mut Call) {
    unsubscribe_generic(e, c, Sub::Channel);
}

fn punsubscribe(e: &mut Engine, c: &mut Call) {
    unsubscribe_generic(e, c, Sub::Pattern);
}

fn sunsubscribe(e: &mut Engine, c: &mut Call) {
    unsubscribe_generic(e, c, Sub::Shard);
}

fn publish(e: &mut Engine, c: &mut Call) {
    let count = e.publish_to(Sub::Channel, c.arg(1), c.arg(2));
    c.out.int(count as i64);
}

fn spublish(e: &mut Engine, c: &mut Call) {
    let count = e.publish_to(Sub::Shard, c.arg(1), c.arg(2));
    c.out.int(count as i64);
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the active channels of `kind`.
fn channel_list(e: &Engine, c: &mut Call, kind: Sub) {
    let pattern = c.args.get(2).copied();
    let names: Vec<&[u8]> =
        e.pubsub.names(kind).filter(|ch| pattern.is_none_or(|p| glob_match(p, ch, false))).collect();
    c.out.bulks(names.into_iter());
}

/// PUBSUB NUMSUB / SHARDNUMSUB [channel ...]: a flat array of names and
/// counts, in RESP3 too (Redis 7.0 does not answer a map).
fn numsub(e: &Engine, c: &mut Call, kind: Sub) {
    c.out.array(2 * (c.argc() - 2));
    for i in 2..c.argc() {
        c.out.bulk(c.arg(i));
        c.out.int(e.pubsub.subscriber_count(kind, c.arg(i)) as i64);
    }
}

fn pubsub(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    match (sub.as_slice(), c.argc()) {
        (b"help", 2) => c.out.help(PUBSUB_HELP),
        (b"channels", 2 | 3) => channel_list(e, c, Sub::Channel),
        (b"shardchannels", 2 | 3) => channel_list(e, c, Sub::Shard),
        (b"numsub", _) => numsub(e, c, Sub::Channel),
        (b"shardnumsub", _) => numsub(e, c, Sub::Shard),
        (b"numpat", 2) => c.out.int(e.pubsub.count(Sub::Pattern) as i64),
        // Their arity (-2) lets a pattern too many through to the command,
        // which answers Redis's addReplySubcommandSyntaxError.
        (b"channels" | b"shardchannels", _) => c.subcommand_syntax_error(),
        _ => c.subcommand_error(&["help", "numpat"]),
    }
}
