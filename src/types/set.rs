//! Set values.

#[derive(Clone, Debug, Default)]
pub struct Set {
    members: Vec<Vec<u8>>,
}

impl Set {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.members.iter().map(|m| m.as_slice())
    }

    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
}
