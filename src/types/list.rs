//! List values.

use std::collections::VecDeque;

#[derive(Clone, Debug, Default)]
pub struct List {
    items: VecDeque<Vec<u8>>,
}

impl List {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn push_back(&mut self, v: &[u8]) {
        self.items.push_back(v.to_vec());
    }

    pub fn push_front(&mut self, v: &[u8]) {
        self.items.push_front(v.to_vec());
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.items.pop_front()
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.items.pop_back()
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.items.iter().map(|v| v.as_slice())
    }

    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
}
