//! WATCH bookkeeping: which clients watch which keys, and whose transaction
//! must fail because a watched key changed.

use super::ClientId;
use std::collections::{HashMap, HashSet};

#[derive(Default)]
pub struct Watches {
    keys: HashMap<(usize, Vec<u8>), Vec<ClientId>>,
    dirty: HashSet<ClientId>,
}

impl Watches {
    pub fn watch(&mut self, id: ClientId, db: usize, key: &[u8]) -> bool {
        let ids = self.keys.entry((db, key.to_vec())).or_default();
        if ids.contains(&id) {
            return false;
        }
        ids.push(id);
        true
    }

    pub fn touch(&mut self, db: usize, key: &[u8]) {
        if self.keys.is_empty() {
            return;
        }
        if let Some(ids) = self.keys.get(&(db, key.to_vec())) {
            self.dirty.extend(ids.iter().copied());
        }
    }

    /// The keys of `db` someone watches.
    pub fn keys_in(&self, db: usize) -> impl Iterator<Item = &[u8]> {
        self.keys.keys().filter(move |(d, _)| *d == db).map(|(_, key)| key.as_slice())
    }

    pub fn is_dirty(&self, id: ClientId) -> bool {
        self.dirty.contains(&id)
    }

    pub fn unwatch_all(&mut self, id: ClientId, watched: &[(usize, Vec<u8>)]) {
        for (db, key) in watched {
            let k = (*db, key.clone());
            if let Some(ids) = self.keys.get_mut(&k) {
                ids.retain(|&x| x != id);
                if ids.is_empty() {
                    self.keys.remove(&k);
                }
            }
        }
        self.dirty.remove(&id);
    }
}
