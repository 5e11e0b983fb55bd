//! One ACL user: on/off, passwords (SHA-256 hex), and its selectors — the
//! root one its plain rules change, then any `(…)` ones — with the rules
//! of ACL SETUSER and their description for ACL LIST.

use super::catalog::Catalog;
use super::selector::{Denied, Selector};
use super::{CallToCheck, RuleError};
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub name: Vec<u8>,
    pub enabled: bool,
    pub nopass: bool,
    /// `sanitize-payload` / `skip-sanitize-payload`, when set (RESTORE
    /// payload checks; shown as Redis shows them).
    pub sanitize_payload: Option<bool>,
    pub passwords: Vec<String>,
    /// The root selector first.
    pub selectors: Vec<Selector>,
}

/// The SHA-256 of a password, in lowercase hex as ACL rules show it.
pub fn hash_password(password: &[u8]) -> String {
    Sha256::digest(password).iter().map(|b| format!("{b:02x}")).collect()
}

fn valid_hash(hash: &[u8]) -> bool {
    hash.len() == 64 && hash.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Compares without an early exit, so timing tells nothing of the hash.
fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl User {
    /// A new user: off, no password, no permissions (channels as
    /// `acl-pubsub-default` says).
    pub fn new(name: &[u8], catalog: &Catalog) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize_payload: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(catalog)],
        }
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// Every command, key and channel: no check needed.
    pub fn unrestricted(&self) -> bool {
        let root = self.root();
        root.allcommands && root.allkeys && root.allchannels
    }

    pub fn password_matches(&self, password: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let hashed = hash_password(password);
        self.passwords.iter().any(|p| same_hash(p, &hashed))
    }

    /// Applies one ACL SETUSER rule.
    pub fn apply(&mut self, catalog: &Catalog, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if op.is_empty() {
            return Ok(());
        }
        if is("on") || is("off") {
            self.enabled = is("on");
        } else if is("skip-sanitize-payload") || is("sanitize-payload") {
            self.sanitize_payload = Some(is("sanitize-payload"));
        } else if is("nopass") || is("resetpass") {
            self.nopass = is("nopass");
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = self.hash_of(op)?;
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = self.hash_of(op)?;
            let at = self.passwords.iter().position(|p| *p == hash).ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op[0] == b'(' && op.ends_with(b")") {
            let mut selector = Selector::new(catalog);
            let inner = String::from_utf8_lossy(&op[1..op.len() - 1]).into_owned();
            for word in inner.split_ascii_whitespace() {
                selector.apply(catalog, word.as_bytes())?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            *self = User { sanitize_payload: Some(true), ..User::new(&self.name, catalog) };
        } else {
            self.selectors[0].apply(catalog, op)?;
        }
        Ok(())
    }

    /// The stored hash a `>`/`<` (clear) or `#`/`!` (hash) rule names.
    fn hash_of(&self, op: &[u8]) -> Result<String, RuleError> {
        if op[0] == b'>' || op[0] == b'<' {
            return Ok(hash_password(&op[1..]));
        }
        if !valid_hash(&op[1..]) {
            return Err(RuleError::BadHash);
        }
        Ok(String::from_utf8_lossy(&op[1..]).into_owned())
    }

    /// The flags GETUSER and ACL LIST show, in Redis's order.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        match self.sanitize_payload {
            Some(false) => flags.push("skip-sanitize-payload"),
            Some(true) => flags.push("sanitize-payload"),
            None => {}
        }
        flags
    }

    /// The user as rules (ACL LIST, the ACL file), without its name.
    pub fn describe(&self, catalog: &Catalog) -> String {
        let mut out = String::new();
        for flag in self.flags() {
            out.push_str(flag);
            out.push(' ');
        }
        for p in &self.passwords {
            out.push('#');
            out.push_str(p);
            out.push(' ');
        }
        out.push_str(&self.root().describe(catalog));
        for s in &self.selectors[1..] {
            out.push_str(&format!(" ({})", s.describe(catalog)));
        }
        out
    }

    /// Checks a call against every selector: Ok if one allows it, else
    /// the most relevant refusal (Redis's choice: the later reason, then
    /// the later argument).
    pub fn check(&self, catalog: &Catalog, call: &CallToCheck) -> Result<(), (Denied, usize)> {
        let mut worst = (Denied::Command, 0);
        for s in &self.selectors {
            match s.check(catalog, call) {
                Ok(()) => return Ok(()),
                Err(denied) => worst = worst.max(denied),
            }
        }
        Err(worst)
    }

    /// May a client of this user stay subscribed to `channel`?
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.selectors.iter().any(|s| s.channel_allowed(channel, is_pattern))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::table::CommandTable;

    fn catalog() -> Catalog {
        Catalog::new(&CommandTable::new(crate::commands::GROUPS))
    }

    fn user(catalog: &Catalog, rules: &str) -> User {
        let mut u = User::new(b"u", catalog);
        for r in rules.split(' ') {
            u.apply(catalog, r.as_bytes()).unwrap();
        }
        u
    }

    fn run(catalog: &Catalog, u: &User, line: &str) -> Result<(), (Denied, usize)> {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let table = CommandTable::new(crate::commands::GROUPS);
        let spec = table.get(args[0]).unwrap();
        let call = CallToCheck::new(catalog, table.id(spec), spec, &args);
        u.check(catalog, &call)
    }

    #[test]
    fn passwords_are_kept_hashed() {
        let c = catalog();
        let mut u = user(&c, "on >secret");
        assert_eq!(u.passwords, [hash_password(b"secret")]);
        assert!(u.password_matches(b"secret") && !u.password_matches(b"other"));
        assert_eq!(u.apply(&c, b"<nope"), Err(RuleError::NoSuchPassword));
        assert_eq!(u.apply(&c, b"#abc"), Err(RuleError::BadHash));
        u.apply(&c, b"nopass").unwrap();
        assert!(u.passwords.is_empty() && u.password_matches(b"anything"));
    }

    #[test]
    fn commands_keys_and_channels_are_checked() {
        let c = catalog();
        let u = user(&c, "on +get +set ~k* %R~r* &ch*");
        assert_eq!(run(&c, &u, "get k1"), Ok(()));
        assert_eq!(run(&c, &u, "get r1"), Ok(()));
        assert_eq!(run(&c, &u, "set r1 v"), Err((Denied::Key, 1)));
        assert_eq!(run(&c, &u, "get x"), Err((Denied::Key, 1)));
        assert_eq!(run(&c, &u, "del k1"), Err((Denied::Command, 0)));
        // SORT reads its key and writes its STORE destination only.
        let s = user(&c, "on +sort %R~* %W~dst*");
        assert_eq!(run(&c, &s, "sort src limit 0 1 store dst1"), Ok(()));
        assert_eq!(run(&c, &s, "sort src store other"), Err((Denied::Key, 3)));
        assert_eq!(run(&c, &s, "sort dst1"), Ok(()));
        let p = user(&c, "on +publish +psubscribe &ch*");
        assert_eq!(run(&c, &p, "publish ch1 m"), Ok(()));
        assert_eq!(run(&c, &p, "publish other m"), Err((Denied::Channel, 1)));
        // A pattern subscription must name an allowed pattern literally.
        assert_eq!(run(&c, &p, "psubscribe ch*"), Ok(()));
        assert_eq!(run(&c, &p, "psubscribe ch1*"), Err((Denied::Channel, 1)));
    }

    #[test]
    fn subcommands_and_first_args() {
        let c = catalog();
        let u = user(&c, "on +client|id +select|0");
        assert_eq!(run(&c, &u, "client id"), Ok(()));
        assert_eq!(run(&c, &u, "client kill x"), Err((Denied::Command, 0)));
        assert_eq!(run(&c, &u, "select 0"), Ok(()));
        assert_eq!(run(&c, &u, "select 1"), Err((Denied::Command, 0)));
        let mut v = User::new(b"v", &c);
        assert_eq!(v.apply(&c, b"+client|id|x"), Err(RuleError::FirstArgOfSubcommand));
        assert_eq!(v.apply(&c, b"+nosuch"), Err(RuleError::Unknown));
        assert_eq!(v.apply(&c, b"+@nosuch"), Err(RuleError::Unknown));
        assert_eq!(v.apply(&c, b"+get|"), Err(RuleError::Syntax));
        assert_eq!(v.apply(&c, b"%~k"), Err(RuleError::Syntax));
        assert_eq!(v.apply(&c, b"%RX~k"), Err(RuleError::Syntax));
    }

    #[test]
    fn a_selector_allows_what_the_root_does_not() {
        let c = catalog();
        let mut u = user(&c, "on +get ~a*");
        u.apply(&c, b"(+set ~b*)").unwrap();
        assert_eq!(run(&c, &u, "set b1 v"), Ok(()));
        assert_eq!(run(&c, &u, "get a1"), Ok(()));
        // The later reason is reported: the root refuses the key.
        assert_eq!(run(&c, &u, "get b1"), Err((Denied::Key, 1)));
        assert_eq!(u.describe(&c), "on ~a* resetchannels -@all +get (~b* resetchannels -@all +set)");
    }

    #[test]
    fn descriptions_are_redis_rules() {
        let c = catalog();
        assert_eq!(User::new(b"n", &c).describe(&c), "off resetchannels -@all");
        let u = user(&c, "reset on nopass ~* &* +@all -get");
        assert_eq!(u.describe(&c), "on nopass sanitize-payload ~* &* +@all -get");
        let h = user(&c, "-@all +@hash %W~w* %RW~b");
        assert_eq!(h.describe(&c), "off %W~w* ~b resetchannels -@all +@hash");
        assert_eq!(user(&c, "+select|0").describe(&c), "off resetchannels -@all +select|0");
    }
}
