//! CLIENT's client-side caching subcommands: TRACKING, CACHING, GETREDIR,
//! TRACKINGINFO, with Redis 7.0's checks and error texts (networking.c's
//! clientCommand). The state they change lives in `engine/tracking.rs`.

use crate::engine::tracking::{Options, Tracking};
use crate::engine::{Call, Engine, NOT_INTEGER, SYNTAX};
use crate::util::parse_i64;

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP].
pub fn tracking(e: &mut Engine, c: &mut Call) {
    let Some(options) = parse_options(e, c) else { return };
    let me = c.client.id;
    if c.is(2, "off") {
        e.disable_tracking(me);
        return c.out.ok();
    }
    if !c.is(2, "on") {
        return c.out.error(SYNTAX);
    }
    if let Some(error) = refusal(e.tracking.client(me), &options) {
        return c.out.error(&error);
    }
    e.tracking.enable(me, options);
    c.out.ok();
}

/// The options after ON/OFF, or None after replying an error.
fn parse_options(e: &Engine, c: &mut Call) -> Option<Options> {
    let mut options = Options::default();
    let mut j = 3;
    while j < c.argc() {
        let more = j + 1 < c.argc();
        if c.is(j, "redirect") && more {
            j += 1;
            if options.redirect != 0 {
                c.out.error("ERR A client can only redirect to a single other client");
                return None;
            }
            let Some(id) = parse_i64(c.arg(j)) else {
                c.out.error(NOT_INTEGER);
                return None;
            };
            // Checked now, though it may leave later (that breaks the redirect).
            match u64::try_from(id) {
                Ok(id) if id == c.client.id || e.clients.contains_key(&id) => options.redirect = id,
                _ => {
                    c.out.error("ERR The client ID you want redirect to does not exist");
                    return None;
                }
            }
        } else if c.is(j, "bcast") {
            options.bcast = true;
        } else if c.is(j, "optin") {
            options.optin = true;
        } else if c.is(j, "optout") {
            options.optout = true;
        } else if c.is(j, "noloop") {
            options.noloop = true;
        } else if c.is(j, "prefix") && more {
            j += 1;
            options.prefixes.push(c.arg(j).to_vec());
        } else {
            c.out.error(SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(options)
}

/// Why CLIENT TRACKING ON may not apply `new` to a client whose tracking
/// state is `now`, checked in Redis's order.
fn refusal(now: Option<&crate::engine::tracking::ClientTracking>, new: &Options) -> Option<String> {
    if !new.bcast && !new.prefixes.is_empty() {
        return Some("ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    if now.is_some_and(|now| now.bcast != new.bcast) {
        return Some("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    if new.bcast && (new.optin || new.optout) {
        return Some("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if new.optin && new.optout {
        return Some("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if now.is_some_and(|now| (new.optin && now.optout) || (new.optout && now.optin)) {
        return Some("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    match now {
        _ if !new.bcast => None,
        Some(now) => Tracking::prefix_collision(&now.prefixes, &new.prefixes),
        None => Tracking::prefix_collision(&Default::default(), &new.prefixes),
    }
}

/// CLIENT CACHING YES|NO: the next command's reads are (OPTIN) or are not
/// (OPTOUT) tracked.
pub fn caching(e: &mut Engine, c: &mut Call) {
    let Some(state) = e.tracking.client_mut(c.client.id) else {
        return c.out.error(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        );
    };
    if c.is(2, "yes") {
        if !state.optin {
            return c.out.error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
        }
    } else if c.is(2, "no") {
        if !state.optout {
            return c.out.error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
        }
    } else {
        return c.out.error(SYNTAX);
    }
    state.caching = true;
    c.out.ok();
}

/// CLIENT GETREDIR: the redirect id, 0 for none, -1 when not tracking.
pub fn getredir(e: &mut Engine, c: &mut Call) {
    c.out.int(redirect_shown(e, c.client.id));
}

/// The `redir=` of CLIENT LIST and GETREDIR's answer.
pub fn redirect_shown(e: &Engine, id: u64) -> i64 {
    e.tracking.client(id).map_or(-1, |state| state.redirect as i64)
}

/// CLIENT TRACKINGINFO: flags (a set), redirect, prefixes.
pub fn trackinginfo(e: &mut Engine, c: &mut Call) {
    let state = e.tracking.client(c.client.id);
    let mut flags = vec![if state.is_some() { "on" } else { "off" }];
    if let Some(s) = state {
        let named = [
            (s.bcast, "bcast"),
            (s.optin, "optin"),
            (s.optin && s.caching, "caching-yes"),
            (s.optout, "optout"),
            (s.optout && s.caching, "caching-no"),
            (s.noloop, "noloop"),
            (s.broken_redirect, "broken_redirect"),
        ];
        flags.extend(named.iter().filter(|(on, _)| *on).map(|&(_, name)| name));
    }
    c.out.map(3);
    c.out.bulk(b"flags");
    c.out.set(flags.len());
    for flag in flags {
        c.out.bulk(flag.as_bytes());
    }
    c.out.bulk(b"redirect");
    c.out.int(redirect_shown(e, c.client.id));
    c.out.bulk(b"prefixes");
    let prefixes = state.map(|s| s.prefixes.iter().map(|p| p.as_slice()).collect::<Vec<_>>()).unwrap_or_default();
    c.out.bulks(prefixes.into_iter());
}

/// CLIENT LIST's tracking flags: `t` tracking, `R` broken redirect, `B` BCAST.
pub fn list_flags(e: &Engine, id: u64, flags: &mut String) {
    if let Some(state) = e.tracking.client(id) {
        flags.push('t');
        if state.broken_redirect {
            flags.push('R');
        }
        if state.bcast {
            flags.push('B');
        }
    }
}
