//! Channel and pattern subscriptions.

use super::{Client, ClientId};
use crate::glob::glob_match;
use std::collections::HashMap;

#[derive(Default)]
pub struct PubSub {
    channels: HashMap<Vec<u8>, Vec<ClientId>>,
    patterns: HashMap<Vec<u8>, Vec<ClientId>>,
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
