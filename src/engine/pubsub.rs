//! Channel, pattern and shard-channel subscriptions, and delivering
//! published messages.

use super::{Client, ClientId, Engine, Outbound};
use crate::glob::glob_match;
use crate::reply::Reply;
use std::collections::HashMap;

/// The three kinds of subscription. Each is a namespace of its own (SPUBLISH
/// reaches only SSUBSCRIBE clients, PUBLISH only SUBSCRIBE and PSUBSCRIBE
/// ones) with its own confirmation words — Redis's pubSubType, its pattern
/// list and pubSubShardType.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sub {
    Channel,
    Pattern,
    Shard,
}

impl Sub {
    pub const ALL: [Sub; 3] = [Sub::Channel, Sub::Pattern, Sub::Shard];

    fn index(self) -> usize {
        self as usize
    }

    /// The first element of a subscription confirmation.
    pub fn subscribed(self) -> &'static [u8] {
        match self {
            Sub::Channel => b"subscribe",
            Sub::Pattern => b"psubscribe",
            Sub::Shard => b"ssubscribe",
        }
    }

    pub fn unsubscribed(self) -> &'static [u8] {
        match self {
            Sub::Channel => b"unsubscribe",
            Sub::Pattern => b"punsubscribe",
            Sub::Shard => b"sunsubscribe",
        }
    }
}

#[derive(Default)]
pub struct PubSub {
    /// Subscribers by name, one map per kind (indexed by `Sub::index`).
    subscribers: [HashMap<Vec<u8>, Vec<ClientId>>; 3],
    /// Messages for clients whose commands are running (taken out of the
    /// client map): they join that client's reply when its command ends.
    held: Vec<HeldMessage>,
}

struct HeldMessage {
    id: ClientId,
    kind: Message,
    channel: Vec<u8>,
    msg: Vec<u8>,
}

/// How a delivered message is labelled.
#[derive(Clone)]
enum Message {
    /// `message`, to a channel subscriber.
    Channel,
    /// `pmessage` with the pattern that matched.
    Pattern(Vec<u8>),
    /// `smessage`, to a shard-channel subscriber.
    Shard,
}

impl PubSub {
    fn map(&self, kind: Sub) -> &HashMap<Vec<u8>, Vec<ClientId>> {
        &self.subscribers[kind.index()]
    }

    /// Adds `id` to the subscribers of `name` (the caller checked that the
    /// client was not subscribed yet).
    pub fn subscribe(&mut self, kind: Sub, id: ClientId, name: &[u8]) {
        let ids = self.subscribers[kind.index()].entry(name.to_vec()).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// Removes `id` from the subscribers of `name`, and `name` with its
    /// last subscriber.
    pub fn unsubscribe(&mut self, kind: Sub, id: ClientId, name: &[u8]) {
        let map = &mut self.subscribers[kind.index()];
        if let Some(ids) = map.get_mut(name) {
            ids.retain(|&x| x != id);
            if ids.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Forgets every subscription of `client` (disconnect, RESET).
    pub fn remove_client(&mut self, client: &Client) {
        for kind in Sub::ALL {
            for name in client.subscribed_to(kind) {
                self.unsubscribe(kind, client.id, name);
            }
        }
    }

    /// Who receives a message on `channel` of `kind`: direct subscribers,
    /// then, for a global channel, the subscribers of matching patterns.
    fn receivers(&self, kind: Sub, channel: &[u8]) -> Vec<(Message, ClientId)> {
        let label = if kind == Sub::Shard { Message::Shard } else { Message::Channel };
        let direct = self.map(kind).get(channel).into_iter().flatten();
        let mut receivers: Vec<(Message, ClientId)> = direct.map(|&id| (label.clone(), id)).collect();
        if kind == Sub::Channel {
            for (pattern, ids) in self.map(Sub::Pattern) {
                if glob_match(pattern, channel, false) {
                    receivers.extend(ids.iter().map(|&id| (Message::Pattern(pattern.clone()), id)));
                }
            }
        }
        receivers
    }

    /// The channels (or patterns) of `kind` somebody subscribes to.
    pub fn names(&self, kind: Sub) -> impl Iterator<Item = &[u8]> {
        self.map(kind).keys().map(|k| k.as_slice())
    }

    pub fn subscriber_count(&self, kind: Sub, name: &[u8]) -> usize {
        self.map(kind).get(name).map_or(0, |v| v.len())
    }

    /// How many channels (or patterns) of `kind` have subscribers (INFO's
    /// pubsub_channels, pubsub_patterns, pubsubshard_channels).
    pub fn count(&self, kind: Sub) -> usize {
        self.map(kind).len()
    }
}

/// Encodes a message for one receiver, in its protocol.
fn message(out: &mut Reply, kind: &Message, channel: &[u8], msg: &[u8]) {
    let start = out.buf.len();
    match kind {
        Message::Pattern(p) => {
            out.push(4);
            out.bulk(b"pmessage");
            out.bulk(p);
        }
        Message::Channel => {
            out.push(3);
            out.bulk(b"message");
        }
        Message::Shard => {
            out.push(3);
            out.bulk(b"smessage");
        }
    }
    out.bulk(channel);
    out.bulk(msg);
    out.keep_push(start);
}

impl Engine {
    /// PUBLISH: sends `msg` to the subscribers of `channel`, direct ones
    /// first, then by pattern; returns how many received it.
    pub fn publish(&mut self, channel: &[u8], msg: &[u8]) -> usize {
        self.publish_to(Sub::Channel, channel, msg)
    }

    /// Sends `msg` on a channel (`Sub::Channel`) or a shard channel
    /// (`Sub::Shard`, patterns not consulted); returns how many received it.
    pub fn publish_to(&mut self, kind: Sub, channel: &[u8], msg: &[u8]) -> usize {
        let mut count = 0;
        for (label, id) in self.pubsub.receivers(kind, channel) {
            if let Some(client) = self.clients.get(&id) {
                let mut out = Reply::new(client.resp3);
                message(&mut out, &label, channel, msg);
                self.outbox.push((id, Outbound::Data(out.take().freeze())));
            } else if self.detached > 0 {
                // Subscriptions die with their client: a subscriber missing
                // from the map is one whose commands are running.
                let held = HeldMessage { id, kind: label, channel: channel.to_vec(), msg: msg.to_vec() };
                self.pubsub.held.push(held);
            } else {
                continue;
            }
            count += 1;
        }
        count
    }

    /// Puts the messages held for `client` into its reply at `at`, the
    /// start of the reply of the command that published them: Redis writes
    /// them to the client's buffer as they happen, before the command replies.
    #[inline]
    pub(crate) fn deliver_held(&mut self, client: &Client, out: &mut Reply, at: usize) {
        if !self.pubsub.held.is_empty() {
            self.splice_held(client, out, at);
        }
    }

    #[cold]
    fn splice_held(&mut self, client: &Client, out: &mut Reply, at: usize) {
        let (mine, others) = std::mem::take(&mut self.pubsub.held).into_iter().partition(|m| m.id == client.id);
        self.pubsub.held = others;
        let mut messages = Reply::new(client.resp3);
        for m in &mine {
            message(&mut messages, &m.kind, &m.channel, &m.msg);
        }
        let tail = out.buf.split_off(at);
        out.buf.extend_from_slice(&messages.take());
        out.buf.unsplit(tail);
    }
}
