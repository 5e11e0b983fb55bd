//! Sorted set values.

#[derive(Clone, Debug, Default)]
pub struct ZSet {
    members: Vec<(Vec<u8>, f64)>,
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> {
        self.members.iter().map(|(m, s)| (m.as_slice(), *s))
    }

    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
}
