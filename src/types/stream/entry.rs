//! One entry's fields and values packed in a single allocation: each item
//! is a LEB128 length followed by its bytes. A 1-byte prefix covers items
//! under 128 bytes, so a small entry costs its text plus one byte an item,
//! with no per-item pointers or capacity slack.

/// Packs field/value items (already in field, value order) into one buffer.
pub fn pack<'a>(items: impl Iterator<Item = &'a [u8]> + Clone) -> Box<[u8]> {
    let size: usize = items.clone().map(|i| varint_len(i.len()) + i.len()).sum();
    let mut buf = Vec::with_capacity(size);
    for item in items {
        let mut n = item.len();
        while n >= 0x80 {
            buf.push((n & 0x7f) as u8 | 0x80);
            n >>= 7;
        }
        buf.push(n as u8);
        buf.extend_from_slice(item);
    }
    buf.into_boxed_slice()
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// The items of a packed entry, fields and values alternating.
pub fn items(buf: &[u8]) -> Items<'_> {
    Items { buf }
}

#[derive(Clone)]
pub struct Items<'a> {
    buf: &'a [u8],
}

impl<'a> Iterator for Items<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.buf.is_empty() {
            return None;
        }
        let (mut len, mut shift, mut at) = (0usize, 0, 0);
        loop {
            let b = self.buf[at];
            len |= usize::from(b & 0x7f) << shift;
            at += 1;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let (item, rest) = self.buf[at..].split_at(len);
        self.buf = rest;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_items_of_any_size() {
        let big = vec![b'x'; 300];
        let input: Vec<&[u8]> = vec![b"f", b"", &big, b"v"];
        let buf = pack(input.iter().copied());
        assert_eq!(buf.len(), 2 + 1 + 302 + 2);
        assert_eq!(items(&buf).collect::<Vec<_>>(), input);
        assert_eq!(items(&pack(std::iter::empty())).count(), 0);
    }
}
