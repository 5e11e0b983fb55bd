//! The engine's side of ACL: the check of a call for a client whose user
//! is restricted (the default user, allowed everything, never gets here:
//! dispatch tests one flag first), ACL LOG entries, the users configured
//! at startup, and the clients that must go when their user changes.

use super::table::CommandSpec;
use super::{Client, ClientId, Engine, Outbound};
use crate::acl::log::{Context, Entry, Reason};
use crate::acl::selector::Denied;
use crate::acl::{file, CallToCheck, Refusal, UserId};

impl Engine {
    /// Checks `args` against `client`'s user; a refusal is logged in
    /// `context` and returned with the command's full name.
    pub(crate) fn acl_refusal(
        &mut self,
        client: &Client,
        spec: &'static CommandSpec,
        args: &[&[u8]],
        context: Context,
    ) -> Option<(Refusal, &'static str)> {
        // The AOF loader (and its scripts) replays what was allowed once.
        if client.loader {
            return None;
        }
        let call = CallToCheck::new(&self.acl.catalog, self.commands.id(spec), spec, args);
        let refusal = self.acl.check(client.user, &call).err()?;
        let name = self.acl.catalog.entries[call.id].name;
        let (reason, object) = match refusal.reason {
            Denied::Command => (Reason::Command, name.as_bytes()),
            Denied::Key => (Reason::Key, args[refusal.position]),
            Denied::Channel => (Reason::Channel, args[refusal.position]),
        };
        let (object, username) = (object.to_vec(), self.acl.name(client.user).to_vec());
        self.log_acl_event(client, reason, context, object, username);
        Some((refusal, name))
    }

    /// Adds an ACL LOG entry for `client`, acting as `username`.
    pub(crate) fn log_acl_event(
        &mut self,
        client: &Client,
        reason: Reason,
        context: Context,
        object: Vec<u8>,
        username: Vec<u8>,
    ) {
        let mut client_info = crate::commands::conn::client_line(self, client);
        client_info.pop();
        let entry = Entry { count: 1, reason, context, object, username, millis: crate::util::now_ms(), client_info };
        let max_len = self.config.acllog_max_len as usize;
        self.acl.log.add(entry, max_len);
    }

    /// The users of the config file's `user` lines, then of `aclfile`
    /// (both at once is an error, as in Redis).
    pub fn load_configured_users(&mut self) -> Result<(), String> {
        if !self.config.aclfile.is_empty() && !self.config.users.is_empty() {
            return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
        }
        if !self.config.users.is_empty() {
            let mut users = file::from_config_lines(&self.acl.catalog, &self.config.users)?;
            if !users.iter().any(|u| u.name == b"default") {
                users.extend(self.acl.get(b"default").cloned());
            }
            self.acl.replace_all(users);
        }
        if !self.config.aclfile.is_empty() {
            self.load_acl_file()?;
        }
        Ok(())
    }

    /// ACL LOAD: the users of `aclfile` replace all others. Returns the
    /// ids of the users replaced (their clients must go).
    pub fn load_acl_file(&mut self) -> Result<Vec<UserId>, String> {
        let path = self.config.aclfile.clone();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("Error loading ACLs, opening file '{path}': {}", crate::util::io_error_text(&e)))?;
        let users = file::parse(&self.acl.catalog, &text, &path)?;
        Ok(self.acl.replace_all(users))
    }

    /// Disconnects the clients of the users in `gone` (deleted, or
    /// replaced by ACL LOAD); `current`, whose command is running, closes
    /// after its reply.
    pub(crate) fn disconnect_users(&mut self, gone: &[UserId], current: &mut Client) {
        let victims: Vec<ClientId> =
            self.clients.values().filter(|cl| gone.contains(&cl.user)).map(|cl| cl.id).collect();
        for id in victims {
            self.disconnect(id);
            self.outbox.push((id, Outbound::Close));
        }
        if gone.contains(&current.user) {
            current.closing = true;
        }
    }

    /// Disconnects the subscribers of user `id` whose subscriptions its
    /// new rules no longer allow (Redis's ACLKillPubsubClientsIfNeeded).
    pub(crate) fn disconnect_revoked_subscribers(&mut self, id: UserId, current: &mut Client) {
        let Some(user) = self.acl.user(id) else { return };
        let revoked = |cl: &Client| {
            cl.user == id
                && (cl.patterns.iter().any(|p| !user.channel_allowed(p, true))
                    || cl.channels.iter().chain(&cl.shard_channels).any(|ch| !user.channel_allowed(ch, false)))
        };
        let victims: Vec<ClientId> = self.clients.values().filter(|cl| revoked(cl)).map(|cl| cl.id).collect();
        let current_revoked = revoked(current);
        for victim in victims {
            self.disconnect(victim);
            self.outbox.push((victim, Outbound::Close));
        }
        if current_revoked {
            current.closing = true;
        }
    }
}
