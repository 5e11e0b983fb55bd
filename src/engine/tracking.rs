//! Client-side caching (CLIENT TRACKING), as Redis 7.0's tracking.c: the
//! keys tracking clients read, the prefixes BCAST clients follow, and the
//! invalidations sent when those keys change — a RESP3 push on the
//! client's own connection, or, redirected, a push or a
//! `__redis__:invalidate` message to another client.
//!
//! Keys are global, not per db, as in Redis. An id stays in the key table
//! after its client stops tracking (Redis cleans up lazily, so turning
//! tracking off costs nothing): invalidating skips ids that no longer track.

use super::table::{CommandSpec, PUBSUB, READONLY};
use super::{Client, ClientId, Engine, Outbound};
use crate::reply::Reply;
use foldhash::fast::RandomState;
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The channel a redirected RESP2 subscriber hears invalidations on.
const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// Keys dropped per try when the table is over `tracking-table-max-keys`,
/// times the tries in a row that could not get under it (Redis's effort).
const LIMIT_EFFORT: usize = 100;

/// One client's CLIENT TRACKING state (present while tracking is on).
#[derive(Default, Debug, Clone, PartialEq)]
pub struct ClientTracking {
    /// The client invalidations go to (0: this one).
    pub redirect: ClientId,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) applies to the next command.
    pub caching: bool,
    /// An invalidation found the redirect client gone (flag `R`).
    pub broken_redirect: bool,
    /// The redirect client disconnected; noticed at the next invalidation,
    /// when Redis looks it up.
    redirect_gone: bool,
    /// BCAST prefixes.
    pub prefixes: BTreeSet<Vec<u8>>,
}

/// CLIENT TRACKING ON's options.
#[derive(Default, Debug, Clone)]
pub struct Options {
    pub redirect: ClientId,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Vec<u8>>,
}

/// A BCAST prefix: who follows it, and the keys under it changed since the
/// last broadcast, each with the client that changed it last (None: the
/// server itself, by expiry or eviction) for NOLOOP.
#[derive(Default)]
struct Prefix {
    clients: BTreeSet<ClientId>,
    changed: BTreeMap<Vec<u8>, Option<ClientId>>,
}

/// What an invalidation declares stale.
#[derive(Clone, Debug, PartialEq)]
pub enum Stale {
    Keys(Vec<Vec<u8>>),
    /// Every key (FLUSHDB, FLUSHALL): sent as a null.
    All,
}

/// A push for one client.
#[derive(Clone, Debug, PartialEq)]
enum Notice {
    /// `redirected`: sent for another client, so a RESP2 subscriber gets
    /// it as a pub/sub message.
    Invalidate { stale: Stale, redirected: bool },
    /// The client this one redirects to is gone.
    RedirectBroken(ClientId),
}

#[derive(Default)]
pub struct Tracking {
    clients: HashMap<ClientId, ClientTracking>,
    /// Keys read by tracking clients → the ids that may cache them. Indexed
    /// so the table limit can drop random keys, as Redis's random walk.
    table: IndexMap<Vec<u8>, Vec<ClientId>, RandomState>,
    /// Ids across the table (INFO tracking_total_items).
    items: usize,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    /// Notices for clients whose commands are running (out of the client
    /// map): they follow that command's reply, as Redis's pending keys.
    held: Vec<(ClientId, Notice)>,
    /// The client whose command runs: NOLOOP spares it its own changes.
    pub(crate) current: Option<ClientId>,
    /// A script's redis.call read something: the script's keys are tracked.
    script_read: bool,
    /// Limit tries in a row that left the table over the limit.
    limit_misses: usize,
}

impl Tracking {
    /// No key is tracked and no prefix followed: writes need not look.
    #[inline]
    pub fn is_quiet(&self) -> bool {
        self.table.is_empty() && self.prefixes.is_empty()
    }

    pub fn client(&self, id: ClientId) -> Option<&ClientTracking> {
        self.clients.get(&id)
    }

    pub fn client_mut(&mut self, id: ClientId) -> Option<&mut ClientTracking> {
        self.clients.get_mut(&id)
    }

    /// INFO tracking_clients.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// INFO tracking_total_keys.
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    /// INFO tracking_total_items.
    pub fn total_items(&self) -> usize {
        self.items
    }

    /// INFO tracking_total_prefixes.
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// Redis's checkPrefixCollisionsOrReply: two prefixes of one client
    /// overlap when one starts the other (both would invalidate a key).
    pub fn prefix_collision(existing: &BTreeSet<Vec<u8>>, new: &[Vec<u8>]) -> Option<String> {
        let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
        let text = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
        for (i, prefix) in new.iter().enumerate() {
            if let Some(old) = existing.iter().find(|old| overlap(old, prefix)) {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    text(prefix),
                    text(old)
                ));
            }
            if let Some(other) = new[i + 1..].iter().find(|other| overlap(prefix, other)) {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    text(prefix),
                    text(other)
                ));
            }
        }
        None
    }

    /// CLIENT TRACKING ON (options already checked). Turning it on again
    /// replaces the options; BCAST prefixes add to those already followed.
    pub fn enable(&mut self, id: ClientId, options: Options) {
        let state = self.clients.entry(id).or_default();
        state.redirect = options.redirect;
        state.redirect_gone = false;
        state.broken_redirect = false;
        state.bcast = options.bcast;
        state.optin = options.optin;
        state.optout = options.optout;
        state.noloop = options.noloop;
        if options.bcast {
            let prefixes = if options.prefixes.is_empty() { vec![Vec::new()] } else { options.prefixes };
            for prefix in prefixes {
                self.prefixes.entry(prefix.clone()).or_default().clients.insert(id);
                state.prefixes.insert(prefix);
            }
        }
    }

    /// CLIENT TRACKING OFF, RESET, disconnect.
    pub fn disable(&mut self, id: ClientId) {
        let Some(state) = self.clients.remove(&id) else { return };
        for prefix in state.prefixes {
            if let Some(entry) = self.prefixes.get_mut(&prefix) {
                entry.clients.remove(&id);
                if entry.clients.is_empty() {
                    self.prefixes.remove(&prefix);
                }
            }
        }
    }

    /// Client `id` disconnected: clients redirecting to it learn so at
    /// their next invalidation.
    fn redirect_target_gone(&mut self, id: ClientId) {
        for state in self.clients.values_mut().filter(|s| s.redirect == id) {
            state.redirect_gone = true;
        }
    }

    fn remember(&mut self, key: &[u8], id: ClientId) {
        let ids = match self.table.get_mut(key) {
            Some(ids) => ids,
            None => self.table.entry(key.to_vec()).or_default(),
        };
        if !ids.contains(&id) {
            ids.push(id);
            self.items += 1;
        }
    }

    /// Forgets `key`, returning who may have cached it.
    fn take_readers(&mut self, key: &[u8]) -> Option<Vec<ClientId>> {
        let ids = self.table.swap_remove(key)?;
        self.items -= ids.len();
        Some(ids)
    }

    /// Notes a changed key for the BCAST clients of every prefix it has.
    fn note_for_broadcast(&mut self, key: &[u8], by: Option<ClientId>) {
        for (prefix, entry) in self.prefixes.iter_mut() {
            if key.starts_with(prefix) {
                entry.changed.insert(key.to_vec(), by);
            }
        }
    }

    /// The broadcasts due, prefix by prefix: for each follower the keys
    /// changed under the prefix (a NOLOOP follower without its own).
    fn take_broadcasts(&mut self) -> Vec<(ClientId, Vec<Vec<u8>>)> {
        let mut due = Vec::new();
        for entry in self.prefixes.values_mut() {
            if entry.changed.is_empty() {
                continue;
            }
            let changed = std::mem::take(&mut entry.changed);
            for &id in &entry.clients {
                let noloop = self.clients.get(&id).is_some_and(|s| s.noloop);
                let keys: Vec<Vec<u8>> =
                    changed.iter().filter(|(_, &by)| !noloop || by != Some(id)).map(|(k, _)| k.clone()).collect();
                if !keys.is_empty() {
                    due.push((id, keys));
                }
            }
        }
        due
    }

    fn has_broadcasts(&self) -> bool {
        self.prefixes.values().any(|p| !p.changed.is_empty())
    }

    /// Takes random keys out of the table while it is over `max` keys, up
    /// to this try's effort.
    fn take_over_limit(&mut self, max: usize, rng: &mut crate::util::Rng) -> Vec<(Vec<u8>, Vec<ClientId>)> {
        if max == 0 || self.table.len() <= max {
            self.limit_misses = 0;
            return Vec::new();
        }
        let effort = LIMIT_EFFORT * (self.limit_misses + 1);
        let excess = self.table.len() - max;
        if excess > effort {
            self.limit_misses += 1;
        } else {
            self.limit_misses = 0;
        }
        let mut taken = Vec::with_capacity(excess.min(effort));
        for _ in 0..excess.min(effort) {
            let i = rng.below(self.table.len());
            if let Some((key, ids)) = self.table.swap_remove_index(i) {
                self.items -= ids.len();
                taken.push((key, ids));
            }
        }
        taken
    }
}

/// Writes `notice` for `client` in its protocol; nothing when it cannot
/// hear it (RESP2 has no pushes: only a redirected invalidation reaches a
/// RESP2 client, and only while it is subscribed).
fn encode(out: &mut Reply, client: &Client, notice: &Notice) {
    let start = out.buf.len();
    match notice {
        Notice::RedirectBroken(id) if client.resp3 => {
            out.push(2);
            out.bulk(b"tracking-redir-broken");
            out.int(*id as i64);
        }
        Notice::RedirectBroken(_) => return,
        Notice::Invalidate { stale, redirected } => {
            if client.resp3 {
                out.push(2);
                out.bulk(b"invalidate");
            } else if *redirected && client.subscriptions() > 0 {
                out.push(3);
                out.bulk(b"message");
                out.bulk(INVALIDATE_CHANNEL);
            } else {
                return;
            }
            match stale {
                Stale::Keys(keys) => out.bulks(keys.iter().map(|k| k.as_slice())),
                Stale::All => out.null(),
            }
        }
    }
    // Kept under CLIENT REPLY OFF, as Redis's CLIENT_PUSHING.
    out.keep_push(start);
}

impl Engine {
    /// CLIENT TRACKING OFF, RESET, disconnect.
    pub fn disable_tracking(&mut self, id: ClientId) {
        self.tracking.disable(id);
    }

    /// A client disconnected: its tracking ends, and redirects to it break.
    pub(crate) fn forget_tracking_client(&mut self, id: ClientId) {
        if self.tracking.clients.is_empty() {
            return;
        }
        self.tracking.disable(id);
        self.tracking.redirect_target_gone(id);
    }

    /// After `spec` ran for `client`: a tracking client's read remembers
    /// the keys it read. One test while nobody tracks.
    #[inline]
    pub(crate) fn track_reads(&mut self, spec: &CommandSpec, client: &Client, args: &[&[u8]]) {
        if !self.tracking.clients.is_empty() {
            self.remember_reads(spec, client, args);
        }
    }

    fn remember_reads(&mut self, spec: &CommandSpec, client: &Client, args: &[&[u8]]) {
        let read = spec.has(READONLY);
        if client.script {
            // Redis tracks a script's declared keys for its caller once the
            // script runs a read-only command.
            self.tracking.script_read |= read;
            return;
        }
        let script_read = std::mem::take(&mut self.tracking.script_read);
        // EVAL_RO and the like are read-only themselves, but count only by
        // what their script reads, as EVAL does.
        let read_only_script = matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro");
        let reads = (read && !read_only_script) || script_read;
        if !reads {
            return;
        }
        let Some(state) = self.tracking.clients.get(&client.id) else { return };
        if state.bcast || (state.optin && !state.caching) || (state.optout && state.caching) {
            return;
        }
        // Shard channels are keys only for cluster routing.
        if spec.has(PUBSUB) {
            return;
        }
        let Ok(positions) = spec.key_positions(args) else { return };
        for i in positions {
            self.tracking.remember(args[i], client.id);
        }
    }

    /// `key` changed by a command of the running client: whoever may cache
    /// it is told, and BCAST followers of its prefixes will be. One test
    /// while nothing is tracked.
    #[inline]
    pub(crate) fn invalidate_tracked(&mut self, key: &[u8]) {
        if !self.tracking.is_quiet() {
            self.invalidate_key(key, self.tracking.current);
        }
    }

    /// `key` was removed by the server (expiry, eviction): no client
    /// changed it, so NOLOOP BCAST clients hear of it too.
    #[inline]
    pub(crate) fn invalidate_tracked_by_server(&mut self, key: &[u8]) {
        if !self.tracking.is_quiet() {
            self.invalidate_key(key, None);
        }
    }

    /// Redis's trackingInvalidateKey.
    fn invalidate_key(&mut self, key: &[u8], by: Option<ClientId>) {
        if !self.tracking.prefixes.is_empty() {
            self.tracking.note_for_broadcast(key, by);
        }
        if let Some(ids) = self.tracking.take_readers(key) {
            self.notify_readers(key, ids);
        }
    }

    /// Tells the clients in `ids` that `key` is stale.
    fn notify_readers(&mut self, key: &[u8], ids: Vec<ClientId>) {
        for id in ids {
            // Gone, tracking off, or switched to BCAST since it read the key.
            let Some(state) = self.tracking.clients.get(&id) else { continue };
            if state.bcast || (state.noloop && self.tracking.current == Some(id)) {
                continue;
            }
            self.send_invalidation(id, Stale::Keys(vec![key.to_vec()]));
        }
    }

    /// FLUSHDB, FLUSHALL: every tracking client hears that all keys are
    /// stale, and the table empties.
    pub fn invalidate_all_tracked(&mut self) {
        let mut ids: Vec<ClientId> = self.tracking.clients.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.send_invalidation(id, Stale::All);
        }
        self.tracking.table = IndexMap::default();
        self.tracking.items = 0;
    }

    /// Redis's sendTrackingMessage: `stale` for tracking client `id`, to it
    /// or to the client it redirects to.
    fn send_invalidation(&mut self, id: ClientId, stale: Stale) {
        let Some(state) = self.tracking.clients.get_mut(&id) else { return };
        if state.redirect == 0 {
            return self.notify_client(id, Notice::Invalidate { stale, redirected: false });
        }
        if state.redirect_gone {
            state.broken_redirect = true;
            let redirect = state.redirect;
            return self.notify_client(id, Notice::RedirectBroken(redirect));
        }
        let redirect = state.redirect;
        self.notify_client(redirect, Notice::Invalidate { stale, redirected: true });
    }

    /// Sends `notice` to a connected client now, or holds it for one whose
    /// command is running (a connected client missing from the map).
    fn notify_client(&mut self, id: ClientId, notice: Notice) {
        match self.clients.get(&id) {
            Some(client) => {
                let mut out = Reply::new(client.resp3);
                encode(&mut out, client, &notice);
                if !out.is_empty() {
                    self.outbox.push((id, Outbound::Data(out.take().freeze())));
                }
            }
            None => self.tracking.held.push((id, notice)),
        }
    }

    /// Appends the notices held for `client` to its output (after its
    /// command's reply, as Redis sends its pending invalidations).
    #[inline]
    pub(crate) fn deliver_tracking_notices(&mut self, client: &Client, out: &mut Reply) {
        if !self.tracking.held.is_empty() {
            self.write_held_notices(client, out);
        }
    }

    fn write_held_notices(&mut self, client: &Client, out: &mut Reply) {
        let (mine, others) = std::mem::take(&mut self.tracking.held).into_iter().partition(|(id, _)| *id == client.id);
        self.tracking.held = others;
        for (_, notice) in mine {
            encode(out, client, &notice);
        }
    }

    /// After each keyspace message, with every client back in the map (the
    /// end of Redis's event loop iteration): BCAST clients get the keys
    /// changed under their prefixes, one push per prefix.
    pub fn broadcast_tracked_changes(&mut self) {
        if !self.tracking.held.is_empty() {
            // Nothing should be left; if so, it still goes out.
            for (id, notice) in std::mem::take(&mut self.tracking.held) {
                self.notify_client(id, notice);
            }
        }
        if self.tracking.prefixes.is_empty() || !self.tracking.has_broadcasts() {
            return;
        }
        for (id, keys) in self.tracking.take_broadcasts() {
            self.send_invalidation(id, Stale::Keys(keys));
        }
    }

    /// Before a command and in cron, while clients track: keeps the table
    /// within `tracking-table-max-keys`, telling the readers of each key
    /// dropped as if it changed.
    pub(crate) fn limit_tracking_table(&mut self) {
        if self.tracking.clients.is_empty() {
            return;
        }
        let max = usize::try_from(self.config.tracking_table_max_keys).unwrap_or(usize::MAX);
        for (key, ids) in self.tracking.take_over_limit(max, &mut self.rng) {
            self.notify_readers(&key, ids);
        }
    }

    /// After a tracking client's command: CLIENT CACHING lasts one command
    /// (a whole transaction, from MULTI on), as Redis's resetClient.
    pub(crate) fn end_caching_window(&mut self, client: &Client, args: &[&[u8]]) {
        let Some(state) = self.tracking.clients.get_mut(&client.id) else { return };
        if state.caching && client.multi.is_none() && self.commands.get(args[0]).is_none_or(|s| s.name != "client") {
            state.caching = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn list(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn prefixes_that_start_one_another_collide() {
        let none = BTreeSet::new();
        assert_eq!(
            Tracking::prefix_collision(&none, &list(&["FOOBAR", "FOO"])).unwrap(),
            "ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. Prefixes for a single client must not overlap."
        );
        assert_eq!(
            Tracking::prefix_collision(&set(&["FOO", "BAR"]), &list(&["BARB"])).unwrap(),
            "ERR Prefix 'BARB' overlaps with an existing prefix 'BAR'. Prefixes for a single client must not overlap."
        );
        assert!(Tracking::prefix_collision(&set(&["FOO"]), &list(&["BAR", "BAZ"])).is_none());
        // The empty prefix starts every other.
        assert!(Tracking::prefix_collision(&none, &list(&["", "a"])).is_some());
    }

    #[test]
    fn a_key_is_forgotten_once_invalidated() {
        let mut t = Tracking::default();
        t.remember(b"k", 1);
        t.remember(b"k", 1);
        t.remember(b"k", 2);
        t.remember(b"j", 1);
        assert_eq!((t.total_keys(), t.total_items()), (2, 3));
        assert_eq!(t.take_readers(b"k"), Some(vec![1, 2]));
        assert_eq!(t.take_readers(b"k"), None);
        assert_eq!((t.total_keys(), t.total_items()), (1, 1));
    }

    #[test]
    fn broadcasts_group_keys_by_prefix_and_spare_noloop_clients_their_own() {
        let mut t = Tracking::default();
        t.enable(1, Options { bcast: true, prefixes: list(&["a:", "b:"]), ..Options::default() });
        t.enable(2, Options { bcast: true, noloop: true, ..Options::default() });
        assert_eq!(t.total_prefixes(), 3);
        t.note_for_broadcast(b"a:2", Some(2));
        t.note_for_broadcast(b"a:1", Some(1));
        t.note_for_broadcast(b"c:1", None);
        let due = t.take_broadcasts();
        assert_eq!(due, vec![(2, list(&["a:1", "c:1"])), (1, list(&["a:1", "a:2"]))]);
        assert!(t.take_broadcasts().is_empty());
    }

    #[test]
    fn disabling_drops_prefixes_nobody_follows() {
        let mut t = Tracking::default();
        t.enable(1, Options { bcast: true, prefixes: list(&["x"]), ..Options::default() });
        t.enable(2, Options { bcast: true, prefixes: list(&["x", "y"]), ..Options::default() });
        t.disable(2);
        assert_eq!(t.total_prefixes(), 1);
        assert_eq!(t.client_count(), 1);
        t.disable(1);
        assert!(t.is_quiet());
    }

    #[test]
    fn the_limit_takes_more_keys_each_try_that_falls_short() {
        let mut t = Tracking::default();
        for i in 0..250 {
            t.remember(format!("k{i}").as_bytes(), 1);
        }
        let mut rng = crate::util::Rng::seeded();
        assert_eq!(t.take_over_limit(1, &mut rng).len(), 100);
        assert_eq!(t.take_over_limit(1, &mut rng).len(), 149);
        assert_eq!((t.total_keys(), t.total_items()), (1, 1));
        assert!(t.take_over_limit(1, &mut rng).is_empty());
        assert!(t.take_over_limit(0, &mut rng).is_empty());
    }
}
