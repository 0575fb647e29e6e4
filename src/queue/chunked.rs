//! A FIFO in blocks of [`CHUNK`] items. A carrier's queue holds up to a million messages; a `VecDeque` of that many
//! grows by doubling, and each doubling copies the whole queue (80 MB at 800,000 messages, tens of milliseconds) while
//! the carrier's lock is held and both workers wait on it. Here growing adds one block, and a queue takes memory for
//! what it holds plus at most a block at each end, not up to twice that.

use std::collections::VecDeque;

/// Items per block.
pub const CHUNK: usize = 1024;

/// A double-ended queue stored as blocks of at most [`CHUNK`] items.
#[derive(Debug)]
pub struct ChunkedDeque<T> {
    blocks: VecDeque<VecDeque<T>>,
    len: usize,
}

impl<T> Default for ChunkedDeque<T> {
    fn default() -> Self {
        ChunkedDeque {
            blocks: VecDeque::new(),
            len: 0,
        }
    }
}

impl<T> ChunkedDeque<T> {
    /// Items held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an item at the back.
    pub fn push_back(&mut self, item: T) {
        if self.blocks.back().is_none_or(|b| b.len() >= CHUNK) {
            self.blocks.push_back(VecDeque::with_capacity(CHUNK));
        }
        if let Some(b) = self.blocks.back_mut() {
            b.push_back(item);
            self.len += 1;
        }
    }

    /// Adds an item at the front.
    pub fn push_front(&mut self, item: T) {
        if self.blocks.front().is_none_or(|b| b.len() >= CHUNK) {
            // Items go back to the front one at a time (messages that were in flight): a block grows as they come.
            self.blocks.push_front(VecDeque::new());
        }
        if let Some(b) = self.blocks.front_mut() {
            b.push_front(item);
            self.len += 1;
        }
    }

    /// Takes the front item.
    pub fn pop_front(&mut self) -> Option<T> {
        let front = self.blocks.front_mut()?;
        let item = front.pop_front();
        if front.is_empty() {
            self.blocks.pop_front();
        }
        if item.is_some() {
            self.len -= 1;
        }
        item
    }

    /// The items, front to back.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.blocks.iter().flatten()
    }

    /// Moves every item matching `take` to `out` (in order), keeping the rest in order.
    pub fn take_where(&mut self, mut take: impl FnMut(&T) -> bool, out: &mut Vec<T>) {
        for block in &mut self.blocks {
            if !block.iter().any(&mut take) {
                continue;
            }
            let mut kept = VecDeque::with_capacity(block.len());
            for item in block.drain(..) {
                if take(&item) {
                    out.push(item);
                } else {
                    kept.push_back(item);
                }
            }
            *block = kept;
        }
        self.blocks.retain(|b| !b.is_empty());
        self.len = self.blocks.iter().map(VecDeque::len).sum();
    }

    /// Removes and returns the first item matching `pred`.
    pub fn remove_first(&mut self, mut pred: impl FnMut(&T) -> bool) -> Option<T> {
        let (bi, pos) = self
            .blocks
            .iter()
            .enumerate()
            .find_map(|(bi, b)| b.iter().position(&mut pred).map(|pos| (bi, pos)))?;
        let item = self.blocks[bi].remove(pos)?;
        if self.blocks[bi].is_empty() {
            self.blocks.remove(bi);
        }
        self.len -= 1;
        Some(item)
    }

    /// Takes every item, front to back.
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.len = 0;
        self.blocks.drain(..).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_fifo_order_across_blocks_and_frees_emptied_blocks() {
        let mut q = ChunkedDeque::default();
        let n = 3 * CHUNK + 7;
        for i in 0..n {
            q.push_back(i);
        }
        assert_eq!(q.len(), n);
        assert_eq!(q.blocks.len(), 4);
        for i in 0..CHUNK + 1 {
            assert_eq!(q.pop_front(), Some(i));
        }
        assert_eq!(q.blocks.len(), 3, "the first block went when it emptied");
        assert_eq!(q.len(), n - CHUNK - 1);
        assert!(q.iter().copied().eq(CHUNK + 1..n));
    }

    #[test]
    fn push_front_goes_ahead_of_everything() {
        let mut q = ChunkedDeque::default();
        for i in 0..CHUNK {
            q.push_back(i + 10);
        }
        for i in (0..10).rev() {
            q.push_front(i);
        }
        assert!(q.drain().eq(0..CHUNK + 10));
        assert!(q.is_empty());
        assert_eq!(q.pop_front(), None);
    }

    #[test]
    fn take_where_and_remove_first_keep_the_rest_in_order() {
        let mut q = ChunkedDeque::default();
        for i in 0..2 * CHUNK + 5 {
            q.push_back(i);
        }
        let mut odd = Vec::new();
        q.take_where(|i| i % 2 == 1, &mut odd);
        assert_eq!(odd.len(), CHUNK + 2);
        assert!(odd.iter().copied().eq((1..2 * CHUNK + 5).step_by(2)));
        assert_eq!(q.remove_first(|&i| i == 2 * CHUNK), Some(2 * CHUNK));
        assert_eq!(q.remove_first(|&i| i == 1), None);
        assert_eq!(q.len(), CHUNK + 2);
        let rest: Vec<usize> = q.drain().collect();
        assert!(rest.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(rest.len(), CHUNK + 2);
    }
}
