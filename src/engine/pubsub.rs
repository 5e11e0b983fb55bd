//! Channel and pattern subscriptions, and delivering published messages.

use super::{Client, ClientId, Engine, Outbound};
use crate::glob::glob_match;
use crate::reply::Reply;
use std::collections::HashMap;

#[derive(Default)]
pub struct PubSub {
    channels: HashMap<Vec<u8>, Vec<ClientId>>,
    patterns: HashMap<Vec<u8>, Vec<ClientId>>,
    /// Messages for clients whose commands are running (taken out of the
    /// client map): they join that client's reply when its command ends.
    held: Vec<HeldMessage>,
}

struct HeldMessage {
    id: ClientId,
    pattern: Option<Vec<u8>>,
    channel: Vec<u8>,
    msg: Vec<u8>,
}

fn add(map: &mut HashMap<Vec<u8>, Vec<ClientId>>, name: &[u8], id: ClientId) {
    let ids = map.entry(name.to_vec()).or_default();
    if !ids.contains(&id) {
        ids.push(id);
    }
}

fn remove(map: &mut HashMap<Vec<u8>, Vec<ClientId>>, name: &[u8], id: ClientId) {
    if let Some(ids) = map.get_mut(name) {
        ids.retain(|&x| x != id);
        if ids.is_empty() {
            map.remove(name);
        }
    }
}

impl PubSub {
    pub fn subscribe(&mut self, id: ClientId, channel: &[u8]) {
        add(&mut self.channels, channel, id);
    }

    pub fn unsubscribe(&mut self, id: ClientId, channel: &[u8]) {
        remove(&mut self.channels, channel, id);
    }

    pub fn psubscribe(&mut self, id: ClientId, pattern: &[u8]) {
        add(&mut self.patterns, pattern, id);
    }

    pub fn punsubscribe(&mut self, id: ClientId, pattern: &[u8]) {
        remove(&mut self.patterns, pattern, id);
    }

    pub fn remove_client(&mut self, client: &Client) {
        for ch in &client.channels {
            remove(&mut self.channels, ch, client.id);
        }
        for p in &client.patterns {
            remove(&mut self.patterns, p, client.id);
        }
    }

    /// Who receives a message on `channel`: direct subscribers, then
    /// (pattern, subscriber) pairs.
    pub fn receivers(&self, channel: &[u8]) -> (Vec<ClientId>, Vec<(Vec<u8>, ClientId)>) {
        let direct = self.channels.get(channel).cloned().unwrap_or_default();
        let mut by_pattern = Vec::new();
        for (pattern, ids) in &self.patterns {
            if glob_match(pattern, channel, false) {
                by_pattern.extend(ids.iter().map(|&id| (pattern.clone(), id)));
            }
        }
        (direct, by_pattern)
    }

    pub fn channel_names(&self) -> impl Iterator<Item = &[u8]> {
        self.channels.keys().map(|k| k.as_slice())
    }

    pub fn subscriber_count(&self, channel: &[u8]) -> usize {
        self.channels.get(channel).map_or(0, |v| v.len())
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
}

/// Encodes a message for one receiver, in its protocol.
fn message(out: &mut Reply, pattern: Option<&[u8]>, channel: &[u8], msg: &[u8]) {
    match pattern {
        Some(p) => {
            out.push(4);
            out.bulk(b"pmessage");
            out.bulk(p);
        }
        None => {
            out.push(3);
            out.bulk(b"message");
        }
    }
    out.bulk(channel);
    out.bulk(msg);
}

impl Engine {
    /// Sends `msg` to the subscribers of `channel`, direct ones first;
    /// returns how many received it.
    pub fn publish(&mut self, channel: &[u8], msg: &[u8]) -> usize {
        let (direct, by_pattern) = self.pubsub.receivers(channel);
        let receivers =
            direct.into_iter().map(|id| (None, id)).chain(by_pattern.into_iter().map(|(p, id)| (Some(p), id)));
        let mut count = 0;
        for (pattern, id) in receivers {
            if let Some(client) = self.clients.get(&id) {
                let mut out = Reply::new(client.resp3);
                message(&mut out, pattern.as_deref(), channel, msg);
                self.outbox.push((id, Outbound::Data(out.take().freeze())));
            } else if self.detached > 0 {
                // Subscriptions die with their client: a subscriber missing
                // from the map is one whose commands are running.
                let held = HeldMessage { id, pattern, channel: channel.to_vec(), msg: msg.to_vec() };
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
            message(&mut messages, m.pattern.as_deref(), &m.channel, &m.msg);
        }
        let tail = out.buf.split_off(at);
        out.buf.extend_from_slice(&messages.take());
        out.buf.unsplit(tail);
    }
}
