//! SORT's BY and GET patterns, read as Redis's lookupKeyByPattern reads
//! them: `#` is the element itself; otherwise the first `*` (in the pattern
//! as a C string, up to any NUL) is replaced by the element to name a key,
//! and a non-empty `->field` after the `*` names a field of a hash there.
//! A pattern without `*` names nothing.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern<'a> {
    /// `#`: the element.
    Element,
    /// No `*`: never a value.
    Constant,
    /// `prefix*suffix` or `prefix*suffix->field`.
    Key { prefix: &'a [u8], suffix: &'a [u8], field: Option<&'a [u8]> },
}

/// The part of `s` C's string functions see.
pub fn c_string(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |nul| &s[..nul])
}

/// Whether BY `pattern` names weight keys (else SORT does not sort).
pub fn has_star(pattern: &[u8]) -> bool {
    c_string(pattern).contains(&b'*')
}

impl<'a> Pattern<'a> {
    pub fn parse(p: &'a [u8]) -> Pattern<'a> {
        if p.first() == Some(&b'#') && p.get(1).is_none_or(|&b| b == 0) {
            return Pattern::Element;
        }
        let visible = c_string(p);
        let Some(star) = visible.iter().position(|&b| b == b'*') else {
            return Pattern::Constant;
        };
        // The field is what follows the first "->" after the `*`, to the end
        // of the whole argument, if C sees at least one byte of it.
        let arrow = visible[star + 1..].windows(2).position(|w| w == b"->").map(|at| star + 1 + at);
        match arrow.filter(|&at| at + 2 < visible.len()) {
            Some(at) => Pattern::Key { prefix: &p[..star], suffix: &p[star + 1..at], field: Some(&p[at + 2..]) },
            None => Pattern::Key { prefix: &p[..star], suffix: &p[star + 1..], field: None },
        }
    }

    /// Writes into `buf` the key named for `element` and returns the hash
    /// field to read there, if any; None when the pattern names no key.
    pub fn key_into(&self, element: &[u8], buf: &mut Vec<u8>) -> Option<Option<&'a [u8]>> {
        let Pattern::Key { prefix, suffix, field } = *self else { return None };
        buf.clear();
        buf.extend_from_slice(prefix);
        buf.extend_from_slice(element);
        buf.extend_from_slice(suffix);
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(prefix: &'static str, suffix: &'static str, field: Option<&'static str>) -> Pattern<'static> {
        Pattern::Key { prefix: prefix.as_bytes(), suffix: suffix.as_bytes(), field: field.map(str::as_bytes) }
    }

    #[test]
    fn parses_as_lookup_key_by_pattern() {
        assert_eq!(Pattern::parse(b"#"), Pattern::Element);
        assert_eq!(Pattern::parse(b"#\0x"), Pattern::Element);
        assert_eq!(Pattern::parse(b"##"), Pattern::Constant);
        assert_eq!(Pattern::parse(b""), Pattern::Constant);
        assert_eq!(Pattern::parse(b"nosort"), Pattern::Constant);
        assert_eq!(Pattern::parse(b"a\0*"), Pattern::Constant);
        assert_eq!(Pattern::parse(b"w_*"), key("w_", "", None));
        assert_eq!(Pattern::parse(b"w_*_x*"), key("w_", "_x*", None));
        assert_eq!(Pattern::parse(b"h_*->f"), key("h_", "", Some("f")));
        assert_eq!(Pattern::parse(b"h_*x->f->g"), key("h_", "x", Some("f->g")));
        // An empty field is part of the key name; an arrow before `*` too.
        assert_eq!(Pattern::parse(b"h_*->"), key("h_", "->", None));
        assert_eq!(Pattern::parse(b"a->b*"), key("a->b", "", None));
        // C stops at a NUL for the search, not for the field.
        assert_eq!(Pattern::parse(b"h*->f\0g"), key("h", "", Some("f\0g")));
        assert_eq!(Pattern::parse(b"h*->\0g"), key("h", "->\0g", None));
        assert!(has_star(b"x*") && !has_star(b"x\0*") && !has_star(b"#"));
    }

    #[test]
    fn builds_keys_with_the_whole_element() {
        let mut buf = Vec::new();
        assert_eq!(key("h_", "_s", Some("f")).key_into(b"a\0b", &mut buf), Some(Some(&b"f"[..])));
        assert_eq!(buf, b"h_a\0b_s");
        assert_eq!(key("", "", None).key_into(b"e", &mut buf), Some(None));
        assert_eq!(buf, b"e");
        assert_eq!(Pattern::Element.key_into(b"e", &mut buf), None);
        assert_eq!(Pattern::Constant.key_into(b"e", &mut buf), None);
    }
}
