//! The ready queue: runnable tasks in FIFO order, with removal at any position.
//!
//! Index 0 is the head (what asyncio runs next). The scheduler sees the queue through a
//! [`Runnable`] view; the chosen task is removed and the order of the rest is kept, so "index 0"
//! keeps meaning "the FIFO choice" for every later decision.
//!
//! Two representations, chosen by size, with the same behaviour:
//!
//! * **small** (the common case): the tasks in order in `buf[head..]`; removing index `i` shifts
//!   the shorter side, `O(min(i, n − i))`, and the head costs `O(1)`;
//! * **large** (more than [`LARGE`] runnable tasks, once a task is removed from deep inside the
//!   queue): `buf` is append-only with tombstones, so slot order is queue order (a task's slot
//!   is past every slot pushed before it), and [`LiveSlots`] (a bitset of the live slots under a
//!   tree of counts, eight children a node: see [`live`]) finds and removes the `i`-th live task
//!   in `O(log n)` without a branch on the data, so a random choice among 100,000 runnable tasks
//!   costs one tree level more than among 5,000. Walking the tasks in order costs
//!   `O(live + slots / 64)`.
//!
//! A queue served from its ends (FIFO order, or choices near either end) stays small however long
//! it is, since those removals cost `O(1)` or little there. The queue switches to large when a
//! removal more than [`DEEP`] places from both ends meets more than [`LARGE`] tasks, and back
//! below [`SMALL`]; the large form has room for at least twice its live tasks when built, and
//! compacts (rebuilds) when `buf` reaches that room. Each switch or rebuild costs `O(n)`, and the
//! gaps between them (`LARGE − SMALL` removals, or as many pushes as live tasks) keep that
//! amortised `O(1)`.

use std::ops::Index;

use super::TaskId;

mod live;

use live::LiveSlots;

/// Above this many runnable tasks, a removal deep inside the queue switches it to the large
/// representation.
const LARGE: usize = 4096;
/// A removal this far from both ends of a long small queue switches it to large first.
const DEEP: usize = 64;
/// Below this many it returns to the plain vector.
const SMALL: usize = 1024;

#[derive(Debug, Default)]
pub(crate) struct ReadyQueue {
    /// Small: the queue is `buf[head..]`. Large: every slot since the last rebuild, live or not.
    buf: Vec<TaskId>,
    head: usize,
    large: Option<LiveSlots>,
}

impl ReadyQueue {
    pub(crate) fn with_capacity(n: usize) -> ReadyQueue {
        ReadyQueue {
            buf: Vec::with_capacity(n),
            head: 0,
            large: None,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.head = 0;
        self.large = None;
    }

    /// Gives back memory above `n` tasks (the queue must be empty).
    pub(crate) fn shrink_to(&mut self, n: usize) {
        self.buf.shrink_to(n);
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        match &self.large {
            None => self.buf.len() - self.head,
            Some(f) => f.live(),
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The runnable tasks, in order, as the scheduler sees them.
    #[inline]
    pub(crate) fn view(&self) -> Runnable<'_> {
        match &self.large {
            None => Runnable::from(&self.buf[self.head..]),
            Some(f) => Runnable {
                repr: Repr::Large(&self.buf, f),
            },
        }
    }

    /// Appends `t` at the tail. The small queue's common case is inlined at the call site; the
    /// rest (growing the buffer, the Fenwick form) is out of line.
    #[inline]
    pub(crate) fn push_back(&mut self, t: TaskId) {
        if self.large.is_none() && self.buf.len() < self.buf.capacity() {
            self.buf.push(t);
        } else {
            self.push_back_slow(t);
        }
    }

    #[cold]
    #[inline(never)]
    fn push_back_slow(&mut self, t: TaskId) {
        match &mut self.large {
            None => {
                if self.head * 2 >= self.buf.len() && self.buf.len() == self.buf.capacity() {
                    // Reuse the space removals left at the front instead of growing (only when
                    // it is at least half the buffer, so compaction stays amortised O(1)).
                    self.buf.drain(..self.head);
                    self.head = 0;
                }
                self.buf.push(t);
            }
            Some(f) => {
                if self.buf.len() == f.cap() {
                    self.rebuild_large();
                }
                let f = self.large.as_mut().expect("large");
                f.insert(self.buf.len());
                self.buf.push(t);
            }
        }
    }

    /// Removes and returns the task at `i` (0 is the head), keeping the order of the others.
    ///
    /// The small queue's cases are inlined at the call site: the head of a queue of any length
    /// (a bump of `head`: FIFO order) and any other index of a queue of at most eight (a short
    /// shift), while fewer than 1,024 slots are spent before `head` (past that, `remove_small`
    /// decides whether to compact). The inlined part is kept this small on purpose: any larger,
    /// and the compiler stops inlining it, or the run loop's `pick` around it.
    #[inline]
    pub(crate) fn remove(&mut self, i: usize) -> TaskId {
        if self.large.is_none() {
            let n = self.buf.len() - self.head;
            if i < n && (i == 0 || n <= 8) && self.head < 1024 {
                let at = self.head + i;
                let t = self.buf[at];
                // Shift the (at most seven) tasks before it right by one.
                for k in (self.head..at).rev() {
                    self.buf[k + 1] = self.buf[k];
                }
                self.head += 1;
                if self.head == self.buf.len() {
                    self.buf.clear();
                    self.head = 0;
                }
                return t;
            }
        }
        self.remove_slow(i)
    }

    /// Gives the space before `head` back to the buffer (when it is at least 1,024 slots and
    /// half the buffer, so compaction stays amortised `O(1)`).
    #[cold]
    #[inline(never)]
    fn compact_front(&mut self) {
        self.buf.drain(..self.head);
        self.head = 0;
    }

    #[inline(never)]
    fn remove_slow(&mut self, i: usize) -> TaskId {
        let n = self.len();
        if self.large.is_none() && n > LARGE && i > DEEP && n - 1 - i > DEEP {
            self.make_large();
        }
        assert!(i < n, "ready queue index {i} out of range {n}");
        let Some(f) = &mut self.large else {
            return self.remove_small(i);
        };
        let slot = f.remove_nth(i);
        let t = self.buf[slot];
        if f.live() < SMALL {
            self.make_small();
        }
        t
    }

    fn remove_small(&mut self, i: usize) -> TaskId {
        let n = self.buf.len() - self.head;
        let at = self.head + i;
        let t = self.buf[at];
        if i < n / 2 {
            // Shift the shorter front part right by one.
            shift(&mut self.buf[self.head..=at], Dir::Right);
            self.head += 1;
        } else {
            let end = self.buf.len();
            shift(&mut self.buf[at..end], Dir::Left);
            self.buf.pop();
        }
        if self.head == self.buf.len() {
            self.buf.clear();
            self.head = 0;
        } else if self.head >= 1024 && self.head * 2 >= self.buf.len() {
            self.compact_front();
        }
        t
    }

    /// The live tasks in order, compacted.
    fn live_tasks(&self) -> Vec<TaskId> {
        match &self.large {
            None => self.buf[self.head..].to_vec(),
            Some(f) => f.iter().map(|j| self.buf[j]).collect(),
        }
    }

    fn make_large(&mut self) {
        self.buf.drain(..self.head);
        self.head = 0;
        self.large = Some(Self::index_over(self.buf.len()));
    }

    fn rebuild_large(&mut self) {
        self.buf = self.live_tasks();
        self.large = Some(Self::index_over(self.buf.len()));
    }

    /// The large form's index over `n` live slots, with room for as many again (at least
    /// `2 × LARGE`) before a rebuild.
    fn index_over(n: usize) -> LiveSlots {
        LiveSlots::with_live_prefix(n, (2 * n).max(2 * LARGE))
    }

    fn make_small(&mut self) {
        self.buf = self.live_tasks();
        self.head = 0;
        self.large = None;
    }
}

enum Dir {
    Left,
    Right,
}

/// Moves `s[1..]` one to the left (`Left`) or `s[..len-1]` one to the right (`Right`),
/// overwriting one end. Short shifts (the usual few tasks) copy element by element; longer ones
/// use `copy_within`, a vectorised memmove.
#[inline]
fn shift(s: &mut [TaskId], dir: Dir) {
    let n = s.len();
    if n <= 1 {
        return;
    }
    if n <= 8 {
        match dir {
            Dir::Left => {
                for k in 0..n - 1 {
                    s[k] = s[k + 1];
                }
            }
            Dir::Right => {
                for k in (0..n - 1).rev() {
                    s[k + 1] = s[k];
                }
            }
        }
    } else {
        match dir {
            Dir::Left => s.copy_within(1.., 0),
            Dir::Right => s.copy_within(..n - 1, 1),
        }
    }
}

/// The runnable tasks in ready-queue (FIFO) order, as a [`Scheduler`](crate::scheduler::Scheduler)
/// sees them: index 0 is what asyncio would run next.
///
/// It behaves like a slice of [`TaskId`]s (`len`, indexing, `iter`, `contains`, `position`);
/// indexing costs `O(1)` for ordinary queues and `O(log n)` for very large ones.
///
/// ```
/// use detsim::scheduler::Runnable;
/// use detsim::TaskId;
/// let ids = [TaskId::from_u32(3), TaskId::from_u32(5)];
/// let r = Runnable::from(&ids[..]);
/// assert_eq!(r.len(), 2);
/// assert_eq!(r[1].as_u32(), 5);
/// assert_eq!(r.position(TaskId::from_u32(5)), Some(1));
/// assert_eq!(r.iter().map(|t| t.as_u32()).collect::<Vec<_>>(), [3, 5]);
/// ```
#[derive(Clone, Copy)]
pub struct Runnable<'a> {
    repr: Repr<'a>,
}

#[derive(Clone, Copy)]
enum Repr<'a> {
    Slice(&'a [TaskId]),
    Large(&'a [TaskId], &'a LiveSlots),
}

impl<'a> From<&'a [TaskId]> for Runnable<'a> {
    fn from(s: &'a [TaskId]) -> Runnable<'a> {
        Runnable {
            repr: Repr::Slice(s),
        }
    }
}

impl std::fmt::Debug for Runnable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> Runnable<'a> {
    /// How many tasks are runnable.
    pub fn len(&self) -> usize {
        match self.repr {
            Repr::Slice(s) => s.len(),
            Repr::Large(_, f) => f.live(),
        }
    }

    /// The tasks as one slice, when the queue is in its ordinary (small) form.
    #[inline]
    pub(crate) fn as_slice(&self) -> Option<&'a [TaskId]> {
        match self.repr {
            Repr::Slice(s) => Some(s),
            Repr::Large(..) => None,
        }
    }

    /// Whether none is (never the case for a scheduler's choice, which has at least two).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The task at index `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&'a TaskId> {
        match self.repr {
            Repr::Slice(s) => s.get(i),
            Repr::Large(b, f) => (i < f.live()).then(|| &b[f.find(i)]),
        }
    }

    /// The tasks in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a TaskId> + 'a {
        let (small, large) = match self.repr {
            Repr::Slice(s) => (Some(s.iter()), None),
            Repr::Large(b, f) => (None, Some(f.iter().map(move |j| &b[j]))),
        };
        small
            .into_iter()
            .flatten()
            .chain(large.into_iter().flatten())
    }

    /// Whether `t` is runnable.
    pub fn contains(&self, t: &TaskId) -> bool {
        self.iter().any(|x| x == t)
    }

    /// The index of `t`, if it is runnable.
    pub fn position(&self, t: TaskId) -> Option<usize> {
        self.iter().position(|x| *x == t)
    }

    /// The tasks, collected.
    pub fn to_vec(&self) -> Vec<TaskId> {
        self.iter().copied().collect()
    }
}

impl Index<usize> for Runnable<'_> {
    type Output = TaskId;

    fn index(&self, i: usize) -> &TaskId {
        match self.get(i) {
            Some(t) => t,
            None => panic!("runnable index {i} out of range {}", self.len()),
        }
    }
}

impl<'a> IntoIterator for Runnable<'a> {
    type Item = &'a TaskId;
    type IntoIter = Box<dyn Iterator<Item = &'a TaskId> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(q: &ReadyQueue) -> Vec<u32> {
        q.view().iter().map(|t| t.as_u32()).collect()
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

    /// The large representation behaves exactly like a `Vec` with `remove(i)`, through growth,
    /// churn long enough to fill its room and compact, and the switches back to small and to
    /// large again.
    #[test]
    fn large_matches_a_plain_vector() {
        let mut q = ReadyQueue::default();
        let mut model: Vec<u32> = Vec::new();
        let mut x: u64 = 12345;
        let mut next_id = 0u32;
        let mut rand = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut went_large = 0;
        let mut rebuilt = 0;
        // (rounds, pushes in ten): grow to ~6k, churn (~35k pushes: the room of 32,768 slots
        // fills and the queue compacts), shrink to small, then again.
        let phases = [
            (15_000, 7),
            (70_000, 5),
            (20_000, 3),
            (15_000, 7),
            (20_000, 3),
        ];
        let mut round = 0;
        for (rounds, pushes) in phases {
            for _ in 0..rounds {
                round += 1;
                let was_large = q.large.is_some();
                let slots = q.buf.len();
                if model.is_empty() || rand(10) < pushes {
                    q.push_back(TaskId::from_u32(next_id));
                    model.push(next_id);
                    next_id += 1;
                } else {
                    let i = match rand(8) {
                        0 => 0,
                        1 => model.len() - 1 - rand(model.len().min(DEEP + 2)),
                        _ => rand(model.len()),
                    };
                    assert_eq!(q.view()[i].as_u32(), model[i]);
                    assert_eq!(q.remove(i).as_u32(), model.remove(i));
                }
                went_large += usize::from(!was_large && q.large.is_some());
                rebuilt += usize::from(was_large && q.large.is_some() && q.buf.len() < slots);
                assert_eq!(q.len(), model.len());
                if round % 5000 == 0 {
                    assert_eq!(ids(&q), model);
                    let v = q.view();
                    if !model.is_empty() {
                        let k = rand(model.len());
                        assert_eq!(v[k].as_u32(), model[k]);
                        assert_eq!(v.position(TaskId::from_u32(model[k])), Some(k));
                    }
                }
            }
        }
        assert!(
            went_large >= 2,
            "the test must switch to large twice ({went_large})"
        );
        assert!(
            rebuilt >= 1,
            "the test must fill the large form's room and compact"
        );
    }
}
