//! One key's allocation: the chain link, the value, the expiry slot and the
//! key bytes live in a single block, so a key costs one allocation (plus its
//! value's, for values that do not fit inline) and a lookup one cache miss.

use crate::types::Value;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

/// No expiry recorded for this key.
pub const NO_EXPIRE: u32 = u32::MAX;

#[repr(C)]
pub(crate) struct Header {
    pub(crate) next: Option<NonNull<Header>>,
    pub(crate) value: Value,
    pub(crate) expire_slot: u32,
    key_len: u32,
    /// When the key was last accessed, for `maxmemory` eviction: an LRU
    /// clock or an LFU stamp (`crate::eviction`).
    pub(crate) access: u32,
}

/// An owned key entry, linked into a dict chain through `next`.
pub(crate) struct Entry(pub(crate) NonNull<Header>);

fn layout(key_len: usize) -> Layout {
    Layout::from_size_align(std::mem::size_of::<Header>() + key_len, std::mem::align_of::<Header>())
        .expect("key length fits a layout")
}

/// Bytes of the allocation holding a key of `key_len` bytes and its value.
pub(crate) fn entry_bytes(key_len: usize) -> usize {
    layout(key_len).size()
}

impl Entry {
    pub(crate) fn new(key: &[u8], value: Value) -> Entry {
        let layout = layout(key.len());
        // SAFETY: layout has non-zero size; the header is written before use and
        // the key bytes are copied right behind it.
        unsafe {
            let ptr = alloc(layout) as *mut Header;
            let Some(nn) = NonNull::new(ptr) else { handle_alloc_error(layout) };
            ptr.write(Header { next: None, value, expire_slot: NO_EXPIRE, key_len: key.len() as u32, access: 0 });
            let key_ptr = (ptr as *mut u8).add(std::mem::size_of::<Header>());
            std::ptr::copy_nonoverlapping(key.as_ptr(), key_ptr, key.len());
            Entry(nn)
        }
    }

    /// Gives up ownership; the dict keeps the raw pointer in its chain.
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let p = self.0;
        std::mem::forget(self);
        p
    }

    /// Consumes the entry, returning its value and freeing the block.
    pub(crate) fn into_value(self) -> Value {
        let p = self.into_raw();
        // SAFETY: we own the block; the value is moved out exactly once and the
        // block freed with the layout it was allocated with.
        unsafe {
            let value = std::ptr::read(&(*p.as_ptr()).value);
            let len = (*p.as_ptr()).key_len as usize;
            dealloc(p.as_ptr() as *mut u8, layout(len));
            value
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        // SAFETY: the entry owns its block (pointers handed to chains were
        // taken out with into_raw and come back through Entry(ptr)).
        unsafe {
            let len = (*self.0.as_ptr()).key_len as usize;
            std::ptr::drop_in_place(&mut (*self.0.as_ptr()).value);
            dealloc(self.0.as_ptr() as *mut u8, layout(len));
        }
    }
}

impl Header {
    pub(crate) fn key(&self) -> &[u8] {
        // SAFETY: the key bytes follow the header in the same allocation.
        unsafe {
            let base = (self as *const Header as *const u8).add(std::mem::size_of::<Header>());
            std::slice::from_raw_parts(base, self.key_len as usize)
        }
    }
}
