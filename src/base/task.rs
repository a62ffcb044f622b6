//! Task vocabulary: [`TaskId`] and [`JoinError`].

use std::fmt;

/// A task's id: its position in spawn order (the main future is task 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(u32);

impl TaskId {
    /// The id with this number (for schedulers' own tests; a run assigns ids in spawn order).
    ///
    /// ```
    /// assert_eq!(detsim::TaskId::from_u32(7).as_u32(), 7);
    /// ```
    pub const fn from_u32(n: u32) -> TaskId {
        TaskId(n)
    }

    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }

    /// The id as a number.
    pub const fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a task produced no output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinError {
    repr: Repr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Repr {
    /// With the message given to `cancel_with`, if any (asyncio's `cancel(msg)`).
    Cancelled(Option<String>),
    Panicked(String),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled(None),
        }
    }

    pub(crate) fn cancelled_with(message: Option<String>) -> JoinError {
        JoinError {
            repr: Repr::Cancelled(message),
        }
    }

    pub(crate) fn panicked(message: String) -> JoinError {
        JoinError {
            repr: Repr::Panicked(message),
        }
    }

    /// The task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled(_))
    }

    /// The message the task was cancelled with (`cancel_with`, asyncio's `cancel(msg)`), if it was
    /// cancelled with one.
    pub fn cancel_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Cancelled(m) => m.as_deref(),
            Repr::Panicked(_) => None,
        }
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked(_))
    }

    /// The panic message, if the task panicked.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked(m) => Some(m),
            Repr::Cancelled(_) => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled(None) => f.write_str("task was cancelled"),
            Repr::Cancelled(Some(m)) => write!(f, "task was cancelled: {m}"),
            Repr::Panicked(m) => write!(f, "task panicked: {m}"),
        }
    }
}

impl std::error::Error for JoinError {}
