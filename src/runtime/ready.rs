//! The ready queue: runnable tasks in FIFO order, with removal at any position.
//!
//! Index 0 is the head (what asyncio runs next). The scheduler sees the queue as a slice; the
//! chosen task is removed and the order of the rest is kept, so "index 0" keeps meaning "the FIFO
//! choice" for every later decision. Removal costs `O(min(i, n − i))`; the head is `O(1)`.

use crate::task::TaskId;

#[derive(Debug, Default)]
pub(crate) struct ReadyQueue {
    buf: Vec<TaskId>,
    head: usize,
}

impl ReadyQueue {
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.head = 0;
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn as_slice(&self) -> &[TaskId] {
        &self.buf[self.head..]
    }

    pub(crate) fn push_back(&mut self, t: TaskId) {
        self.buf.push(t);
    }

    /// Removes and returns the task at `i` (0 is the head), keeping the order of the others.
    pub(crate) fn remove(&mut self, i: usize) -> TaskId {
        let n = self.len();
        assert!(i < n, "ready queue index {i} out of range {n}");
        let at = self.head + i;
        let t = self.buf[at];
        if i < n / 2 {
            // Shift the shorter front part right by one (a plain loop: the common shifts are a
            // few elements, where a memmove call costs more than the copy).
            for k in (self.head..at).rev() {
                self.buf[k + 1] = self.buf[k];
            }
            self.head += 1;
        } else {
            for k in at..self.buf.len() - 1 {
                self.buf[k] = self.buf[k + 1];
            }
            self.buf.pop();
        }
        if self.head == self.buf.len() {
            self.buf.clear();
            self.head = 0;
        } else if self.head >= 1024 && self.head * 2 >= self.buf.len() {
            self.buf.drain(..self.head);
            self.head = 0;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(q: &ReadyQueue) -> Vec<u32> {
        q.as_slice().iter().map(|t| t.as_u32()).collect()
    }

    #[test]
    fn keeps_order_on_removal() {
        let mut q = ReadyQueue::default();
        for i in 0..6 {
            q.push_back(TaskId::from_u32(i));
        }
        assert_eq!(q.remove(1).as_u32(), 1);
        assert_eq!(ids(&q), [0, 2, 3, 4, 5]);
        assert_eq!(q.remove(3).as_u32(), 4);
        assert_eq!(ids(&q), [0, 2, 3, 5]);
        assert_eq!(q.remove(0).as_u32(), 0);
        q.push_back(TaskId::from_u32(9));
        assert_eq!(ids(&q), [2, 3, 5, 9]);
        while !q.is_empty() {
            q.remove(0);
        }
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn compacts_long_runs() {
        let mut q = ReadyQueue::default();
        for i in 0..5000u32 {
            q.push_back(TaskId::from_u32(i));
            q.push_back(TaskId::from_u32(i + 10_000));
            q.remove(0);
        }
        assert_eq!(q.len(), 5000);
        assert!(q.buf.len() < 5000 * 2 + 1100);
    }
}
