//! The tasks holding a resource, as a primitive keeps them and a deadlock report reads them.

use std::cell::{Cell, RefCell};

use super::TaskId;

/// The tasks holding one resource, in the order of a vector with `push` for a new holder and
/// `swap_remove` for one that lets go. The first holder is kept in a plain cell, so that the
/// common case (a lock, a semaphore with one unit taken) updates it without a borrow or an
/// allocation.
///
/// # Invariants
///
/// `first` is empty only when `rest` is; the list is `first` followed by `rest`; `more` is
/// whether `rest` is non-empty.
#[derive(Debug, Default)]
pub(crate) struct Holders {
    first: Cell<Option<TaskId>>,
    /// Whether `rest` has a task, so that a single holder's release never borrows `rest`.
    more: Cell<bool>,
    rest: RefCell<Vec<TaskId>>,
}

impl Holders {
    /// `t` now holds the resource (appended).
    #[inline]
    pub(crate) fn add(&self, t: TaskId) {
        if self.first.get().is_none() {
            self.first.set(Some(t));
        } else {
            self.rest.borrow_mut().push(t);
            self.more.set(true);
        }
    }

    /// `t` no longer holds the resource: its place goes to the last holder, as `swap_remove`.
    #[inline]
    pub(crate) fn remove(&self, t: TaskId) {
        if self.first.get() == Some(t) && !self.more.get() {
            self.first.set(None);
        } else {
            self.remove_among_many(t);
        }
    }

    fn remove_among_many(&self, t: TaskId) {
        let mut rest = self.rest.borrow_mut();
        if self.first.get() == Some(t) {
            self.first.set(rest.pop());
        } else if let Some(i) = rest.iter().position(|h| *h == t) {
            rest.swap_remove(i);
        }
        self.more.set(!rest.is_empty());
    }

    /// Nobody holds the resource.
    pub(crate) fn clear(&self) {
        self.first.set(None);
        self.more.set(false);
        self.rest.borrow_mut().clear();
    }

    /// Replaces the holders with `ts`, in order.
    pub(crate) fn set(&self, ts: impl IntoIterator<Item = TaskId>) {
        self.clear();
        for t in ts {
            self.add(t);
        }
    }

    /// The holders, in order.
    pub(crate) fn to_vec(&self) -> Vec<TaskId> {
        self.first
            .get()
            .into_iter()
            .chain(self.rest.borrow().iter().copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same order as a vector with `push` and `swap_remove`, through every case.
    #[test]
    fn behaves_like_push_and_swap_remove() {
        let h = Holders::default();
        let mut model: Vec<TaskId> = Vec::new();
        let mut x: u64 = 7;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = TaskId::from_u32((x % 6) as u32);
            if x % 3 == 0 && !model.contains(&t) {
                h.add(t);
                model.push(t);
            } else {
                h.remove(t);
                if let Some(i) = model.iter().position(|m| *m == t) {
                    model.swap_remove(i);
                }
            }
            assert_eq!(h.to_vec(), model);
        }
        h.set([TaskId::from_u32(4), TaskId::from_u32(2)]);
        assert_eq!(h.to_vec(), [TaskId::from_u32(4), TaskId::from_u32(2)]);
    }
}
