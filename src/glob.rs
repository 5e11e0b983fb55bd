//! Glob-style pattern matching with Redis's `stringmatchlen` rules
//! (`*`, `?`, `[a-z]`, `[^x]`, backslash escapes), used by KEYS, SCAN MATCH,
//! PSUBSCRIBE and CONFIG GET.

pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    match_from(pattern, string, nocase, 0, &mut false)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// `gave_up` is Redis's `skipLongerMatches`: once the rest of a pattern after
/// a `*` matched no suffix of the string, no earlier `*` can help by taking
/// more, so every enclosing `*` stops trying. Without it `a*a*a*…b` against
/// a long run of `a` takes exponential time.
fn match_from(mut p: &[u8], mut s: &[u8], nocase: bool, depth: usize, gave_up: &mut bool) -> bool {
    // Bound recursion like Redis does against pathological patterns.
    if depth > 1000 {
        return false;
    }
    while !p.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for i in 0..=s.len() {
                    if match_from(&p[1..], &s[i..], nocase, depth + 1, gave_up) {
                        return true;
                    }
                    if *gave_up {
                        return false;
                    }
                }
                *gave_up = true;
                return false;
            }
            b'?' => {
                if s.is_empty() {
                    return false;
                }
                s = &s[1..];
            }
            b'[' => {
                if s.is_empty() {
                    return false;
                }
                p = &p[1..];
                let not = !p.is_empty() && p[0] == b'^';
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    if p.is_empty() {
                        break;
                    }
                    if p[0] == b'\\' && p.len() >= 2 {
                        p = &p[1..];
                        if eq(p[0], s[0], nocase) {
                            matched = true;
                        }
                    } else if p[0] == b']' {
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        let (mut start, mut end) = (p[0], p[2]);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let mut c = s[0];
                        if nocase {
                            start = start.to_ascii_lowercase();
                            end = end.to_ascii_lowercase();
                            c = c.to_ascii_lowercase();
                        }
                        p = &p[2..];
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if eq(p[0], s[0], nocase) {
                        matched = true;
                    }
                    p = &p[1..];
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s = &s[1..];
                if p.is_empty() {
                    // Unterminated class: Redis treats the end of pattern as the end.
                    return s.is_empty();
                }
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if s.is_empty() || !eq(p[0], s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if s.is_empty() || !eq(c, s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while !p.is_empty() && p[0] == b'*' {
                p = &p[1..];
            }
            return p.is_empty();
        }
    }
    s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn matches_like_redis() {
        assert!(glob_match(b"*", b"anything", false));
        assert!(glob_match(b"h?llo", b"hello", false));
        assert!(glob_match(b"h*llo", b"heeeello", false));
        assert!(glob_match(b"h[ae]llo", b"hallo", false));
        assert!(!glob_match(b"h[ae]llo", b"hillo", false));
        assert!(glob_match(b"h[^e]llo", b"hallo", false));
        assert!(!glob_match(b"h[^e]llo", b"hello", false));
        assert!(glob_match(b"h[a-b]llo", b"hbllo", false));
        assert!(glob_match(b"h\\*llo", b"h*llo", false));
        assert!(!glob_match(b"h\\*llo", b"hello", false));
        assert!(glob_match(b"KEY:*", b"key:1", true));
        assert!(!glob_match(b"a", b"", false));
        assert!(glob_match(b"a*", b"a", false));
        assert!(!glob_match(b"abc", b"ab", false));
        assert!(glob_match(b"*a*b", b"xaxxb", false));
        assert!(!glob_match(b"*a*b", b"aaa", false));
    }

    #[test]
    fn many_stars_that_cannot_match_give_up_early() {
        // Redis's keyspace.tcl regression: exponential without giving up.
        let key = [b'a'; 59];
        let pattern = format!("{}b", "a*".repeat(32));
        assert!(!glob_match(pattern.as_bytes(), &key, false));
        assert!(glob_match(pattern.as_bytes(), &[&key[..], b"b"].concat(), false));
    }
}
