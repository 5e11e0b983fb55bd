//! The ACL file (`aclfile`): one `user <name> <rules…>` line per user,
//! read whole or not at all (ACL LOAD, startup), written by ACL SAVE; and
//! the `user` lines of the config file.

use super::catalog::Catalog;
use super::user::User;
use super::{has_spaces, merge_selector_rules, Acl, RuleError};
use std::io::Write;

/// Parses an ACL file's text into users, or Redis's error text listing
/// every line at fault (`filename` names the file in it).
pub fn parse(catalog: &Catalog, text: &str, filename: &str) -> Result<Vec<User>, String> {
    let mut users: Vec<User> = Vec::new();
    let mut errors = String::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.trim_matches([' ', '\t', '\r', '\n']);
        let linenum = i + 1;
        if line.is_empty() {
            continue;
        }
        let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        if words[0] != b"user" || words.len() < 2 {
            errors.push_str(&format!("{filename}:{linenum} should start with user keyword followed by the username. "));
            continue;
        }
        let name = words[1];
        if has_spaces(name) {
            let shown = String::from_utf8_lossy(name);
            errors.push_str(&format!("'{filename}:{linenum}: username '{shown}' contains invalid characters. "));
            continue;
        }
        if users.iter().any(|u| u.name == name) {
            let shown = String::from_utf8_lossy(name);
            errors.push_str(&format!("WARNING: Duplicate user '{shown}' found on line {linenum}. "));
            continue;
        }
        let mut user = User::new(name, catalog);
        let Ok(rules) = merge_selector_rules(&words[2..]) else {
            errors.push_str(&format!("{filename}:{linenum}: Unmatched parenthesis in selector definition."));
            continue;
        };
        let mut syntax_error = false;
        for rule in &rules {
            let rule = rule.trim_ascii_end();
            match user.apply(catalog, rule) {
                Ok(()) => {}
                Err(e @ RuleError::Unknown) => errors.push_str(&format!(
                    "{filename}:{linenum}: Error in applying operation '{}': {}. ",
                    String::from_utf8_lossy(rule),
                    e.message()
                )),
                Err(e) if !syntax_error => {
                    errors.push_str(&format!("{filename}:{linenum}: {}. ", e.message()));
                    syntax_error = true;
                }
                Err(_) => {}
            }
        }
        users.push(user);
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        Err(errors)
    }
}

/// The ACL file's text for the current users.
pub fn render(acl: &Acl) -> String {
    acl.users()
        .map(|(_, u)| format!("user {} {}\n", String::from_utf8_lossy(&u.name), u.describe(&acl.catalog)))
        .collect()
}

/// Writes the users to `path` through a temporary file renamed over it.
pub fn save(acl: &Acl, path: &str) -> std::io::Result<()> {
    let temp = format!("{path}.tmp-{}-{}", std::process::id(), crate::util::now_ms());
    let written = std::fs::File::create(&temp).and_then(|mut f| f.write_all(render(acl).as_bytes()));
    let renamed = written.and_then(|()| std::fs::rename(&temp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    renamed
}

/// The users of the config file's `user` lines (the words after `user`),
/// or the first error, as Redis refuses to start with one.
pub fn from_config_lines(catalog: &Catalog, lines: &[Vec<String>]) -> Result<Vec<User>, String> {
    let mut users: Vec<User> = Vec::new();
    for words in lines {
        let (name, rules) = words.split_first().ok_or("wrong number of arguments")?;
        if users.iter().any(|u| u.name == name.as_bytes()) {
            return Err("Duplicate user found. A user can only be defined once in config files".into());
        }
        if has_spaces(name.as_bytes()) {
            return Err("Spaces not allowed in ACL usernames".into());
        }
        let words: Vec<&[u8]> = rules.iter().map(|r| r.as_bytes()).collect();
        let rules = merge_selector_rules(&words).map_err(|_| "Unmatched parenthesis in acl selector".to_string())?;
        // Like Redis, the default user starts from `reset` when configured.
        let mut user = User::new(name.as_bytes(), catalog);
        if name == "default" {
            user.apply(catalog, b"reset").map_err(|e| e.message().to_string())?;
        }
        for rule in &rules {
            user.apply(catalog, rule).map_err(|e| {
                format!(
                    "Error loading ACL rule '{}' for the user named '{name}': {}",
                    String::from_utf8_lossy(rule),
                    e.message()
                )
            })?;
        }
        users.push(user);
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::table::CommandTable;

    #[test]
    fn a_file_loads_whole_or_reports_every_bad_line() {
        let catalog = Catalog::new(&CommandTable::new(crate::commands::GROUPS));
        let users = parse(&catalog, "user a on >p ~* +get\n\nuser default on nopass ~* &* +@all\n", "f").unwrap();
        assert_eq!(users.len(), 2);
        assert!(users[0].password_matches(b"p"));
        let err = parse(&catalog, "user b +nosuch\nnotuser x\nuser b on\n", "f").unwrap_err();
        assert_eq!(
            err,
            "f:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             f:2 should start with user keyword followed by the username. \
             WARNING: Duplicate user 'b' found on line 3. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
    }
}
