//! `JoinHandle`, `AbortHandle`, `JoinError` and `Id`: tokio's types over detsim's handles.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The one place the facade aborts a task: tokio's `abort` (drop the task's future at its next
/// turn; what it awaits is not aborted with it).
fn abort(handle: &detsim::task::CancelHandle) {
    // Not `cancel()`: asyncio's cancel travels down the await chain, tokio's abort does not.
    handle.abort();
}

/// A task's id: tokio's `task::Id`, from detsim's task id (spawn order; the test body is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(u64);

impl Id {
    pub(crate) fn from_task(t: detsim::TaskId) -> Id {
        Id(u64::from(t.as_u32()))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a task produced no output: tokio's `JoinError`.
pub struct JoinError {
    id: Id,
    inner: detsim::JoinError,
}

impl JoinError {
    /// Whether the task was aborted.
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        self.inner.is_panic()
    }

    /// The panic's payload. detsim keeps a panic's message, so the payload is that `String`.
    ///
    /// # Panics
    ///
    /// If the task did not panic.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError` reason is not a panic.")
    }

    /// The panic's payload (its message as a `String`), or the error back if it was not a panic.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.inner.panic_message() {
            Some(m) => Ok(Box::new(m.to_string())),
            None => Err(self),
        }
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.id
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.panic_message() {
            Some(m) => write!(f, "task {} panicked with message {m:?}", self.id),
            None => write!(f, "task {} was cancelled", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.panic_message() {
            Some(m) => write!(f, "JoinError::Panic({:?}, {m:?}, ...)", self.id),
            None => write!(f, "JoinError::Cancelled({:?})", self.id),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
}

/// A handle to a spawned task: tokio's `JoinHandle`. Awaiting it gives the output or a
/// [`JoinError`]; dropping it detaches the task.
pub struct JoinHandle<T> {
    inner: detsim::JoinHandle<T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(inner: detsim::JoinHandle<T>) -> JoinHandle<T> {
        JoinHandle { inner }
    }

    /// Aborts the task: its future is dropped at its next turn. Aborting a finished task does
    /// nothing.
    ///
    /// ```
    /// use detsim_tokio::sim::{task, time::{sleep, Duration}};
    /// detsim::run(async {
    ///     let h = task::spawn(sleep(Duration::from_secs(10)));
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self)
    where
        T: 'static,
    {
        abort(&self.inner.cancel_handle());
    }

    /// Whether the task has ended (finished, aborted or panicked).
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// A handle that can abort the task but not await it.
    pub fn abort_handle(&self) -> AbortHandle
    where
        T: 'static,
    {
        AbortHandle {
            inner: self.inner.cancel_handle(),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id::from_task(self.inner.id())
    }
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.inner.id();
        Pin::new(&mut self.inner).poll(cx).map(|r| {
            r.map_err(|inner| JoinError {
                id: Id::from_task(id),
                inner,
            })
        })
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Aborts a task without awaiting it: tokio's `AbortHandle`. Cloning it is cheap.
#[derive(Clone)]
pub struct AbortHandle {
    inner: detsim::task::CancelHandle,
}

impl AbortHandle {
    /// Aborts the task; see [`JoinHandle::abort`].
    pub fn abort(&self) {
        abort(&self.inner);
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id::from_task(self.inner.id())
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}
