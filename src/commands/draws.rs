//! Replies made of draws with replacement: SRANDMEMBER, HRANDFIELD and
//! ZRANDMEMBER with a negative count. That count is not bounded by the
//! collection (`SRANDMEMBER s -9223372036854775807` on a one-member set), so
//! the reply is built one draw at a time and given up past a size no client
//! could want, closing the client, as Redis closes a client past its output
//! buffer limit, instead of exhausting memory.

use crate::engine::Call;

/// Reply bytes at which a draw with replacement stops and closes the client.
const MAX_DRAWN_REPLY: usize = 256 * 1024 * 1024;

/// The draws a reply still owes.
pub struct Draws {
    left: usize,
    reply_start: usize,
}

impl Draws {
    /// `count` draws (at least one) about to be written to `c`'s reply.
    pub fn new(c: &Call, count: usize) -> Draws {
        Draws { left: count, reply_start: c.out.buf.len() }
    }

    /// Called after each draw: whether another one is due.
    pub fn more(&mut self, c: &mut Call) -> bool {
        self.left = self.left.saturating_sub(1);
        if c.out.buf.len() - self.reply_start > MAX_DRAWN_REPLY {
            c.client.closing = true;
            return false;
        }
        self.left > 0
    }
}
