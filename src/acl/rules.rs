//! What ACL rules have in common wherever they are written (ACL SETUSER,
//! the ACL file, config `user` lines): their errors, names without
//! spaces, and selectors spread over several words.

/// Why an ACL SETUSER rule was refused (Redis's errno cases).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    Unknown,
    Syntax,
    KeyAfterAll,
    ChannelAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::Unknown => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Spaces (C's isspace) or NUL in a user name or pattern, which Redis
/// refuses so that rules read back as they were written.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&b| b.is_ascii_whitespace() || b == 0x0b || b == 0)
}

/// Joins a selector written over several words (`(+get` `~k)`) into one
/// rule, as Redis accepts; Err gives the word of an unclosed `(`.
pub fn merge_selector_rules<'a>(words: &[&'a [u8]]) -> Result<Vec<Vec<u8>>, &'a [u8]> {
    let mut merged = Vec::new();
    let mut open: Option<(Vec<u8>, &[u8])> = None;
    for &word in words {
        if let Some((selector, _)) = open.as_mut() {
            selector.push(b' ');
            selector.extend_from_slice(word);
            if word.ends_with(b")") {
                merged.push(open.take().map(|(s, _)| s).unwrap_or_default());
            }
        } else if word.first() == Some(&b'(') && !word.ends_with(b")") {
            open = Some((word.to_vec(), word));
        } else {
            merged.push(word.to_vec());
        }
    }
    match open {
        Some((_, start)) => Err(start),
        None => Ok(merged),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_over_several_words_become_one_rule() {
        let words: Vec<&[u8]> = vec![b"on", b"(~a", b"+get", b")", b"(+set)", b"( ~b )"];
        let merged = merge_selector_rules(&words).unwrap();
        assert_eq!(merged, [&b"on"[..], b"(~a +get )", b"(+set)", b"( ~b )"]);
        assert_eq!(merge_selector_rules(&[b"on", b"(~a", b"+get"]), Err(&b"(~a"[..]));
        assert!(has_spaces(b"a b") && has_spaces(b"a\x0bb") && has_spaces(b"a\0") && !has_spaces(b"ab"));
    }
}
