//! `gather` and its forms: run futures as tasks, collect their outputs in argument order.
//!
//! # Invariants
//!
//! * Every future becomes its own task, spawned when `gather` is called (asyncio's
//!   `ensure_future` in argument order), so the scheduler explores their interleavings.
//! * Results come back in **argument order**, whatever the completion order.
//! * The outer result is settled by the child's done callback (a task queued when the child ends,
//!   [`call_soon`]); only then is the awaiting task woken. These are asyncio's two hops.
//! * [`gather`] and [`try_gather`] settle at the first failure; **the other children keep
//!   running** (asyncio, case GAT-13). [`gather_settled`] waits for every child.
//! * Dropping a gather that has not settled cancels every child that has not ended.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::FutureExt;

use super::{OnDrop, call_soon};
use crate::promise::{Promise, PromiseError};
use crate::task::{CancelHandle, JoinError, JoinHandle};

type Outcome<T> = Result<T, JoinError>;

/// Cancels one child with an optional message; returns whether the child accepted.
type CancelChild = Box<dyn Fn(Option<&str>) -> bool>;

struct State<T> {
    slots: RefCell<Vec<Option<Outcome<T>>>>,
    remaining: Cell<usize>,
    done: Cell<bool>,
    failed: Cell<Option<usize>>,
    waker: RefCell<Option<Waker>>,
    /// Cancels one child with a message; returns whether the child accepted.
    cancels: RefCell<Vec<CancelChild>>,
    /// asyncio's `_cancel_requested`, with the message: the outer result is a cancellation
    /// whatever the children return.
    cancel_requested: RefCell<Option<Option<String>>>,
    fail_fast: fn(&Outcome<T>) -> bool,
}

impl<T> crate::runtime::AwaitTarget for State<T> {
    fn cancel(&self, message: Option<&str>) -> bool {
        State::cancel(self, message)
    }

    fn done(&self) -> bool {
        self.done.get()
    }
}

impl<T> State<T> {
    /// asyncio's `_GatheringFuture.cancel(msg)`: cancels every child that has not ended; `true`
    /// if any accepted. Nothing once the outer result is settled.
    fn cancel(&self, message: Option<&str>) -> bool {
        if self.done.get() {
            return false;
        }
        let mut any = false;
        for c in self.cancels.borrow().iter() {
            any |= c(message);
        }
        if any {
            *self.cancel_requested.borrow_mut() = Some(message.map(str::to_owned));
        }
        any
    }

    /// The outer result's cancellation, if `cancel` was accepted.
    fn cancelled(&self) -> Option<JoinError> {
        self.cancel_requested
            .borrow()
            .as_ref()
            .map(|m| JoinError::cancelled_with(m.clone()))
    }
}

impl<T> State<T> {
    /// A child's done callback: records its outcome and settles the outer result when due.
    fn child_done(&self, i: usize, r: Outcome<T>) {
        let fails = (self.fail_fast)(&r);
        self.slots.borrow_mut()[i] = Some(r);
        self.remaining.set(self.remaining.get() - 1);
        if !self.done.get() && (self.remaining.get() == 0 || fails) {
            self.done.set(true);
            if fails {
                self.failed.set(Some(i));
            }
            let w = self.waker.borrow_mut().take();
            if let Some(w) = w {
                w.wake();
            }
        }
    }
}

/// The shared machinery of every gather form.
struct Core<T> {
    state: Rc<State<T>>,
    /// The await link a cancellation of the awaiting task follows: cancels the children.
    link: crate::runtime::AwaitLink,
    /// The children's ids, for deadlock reports: a blocked awaiter "waits for gather held by"
    /// the children that have not ended.
    children: RefCell<Vec<crate::base::TaskId>>,
    res: crate::sync::resource::Resource,
}

impl<T: 'static> Core<T> {
    fn new(n: usize, fail_fast: fn(&Outcome<T>) -> bool) -> Core<T> {
        let state = Rc::new(State {
            slots: RefCell::new((0..n).map(|_| None).collect()),
            remaining: Cell::new(n),
            done: Cell::new(n == 0),
            failed: Cell::new(None),
            waker: RefCell::new(None),
            cancels: RefCell::new(Vec::with_capacity(n)),
            cancel_requested: RefCell::new(None),
            fail_fast,
        });
        let link: crate::runtime::AwaitLink = state.clone();
        Core {
            state,
            link,
            children: RefCell::new(Vec::with_capacity(n)),
            res: crate::sync::resource::Resource::new("gather", None),
        }
    }

    /// Spawns every future as a child, reported as spawned at the gather's caller.
    #[track_caller]
    fn from_futures<F>(futs: impl IntoIterator<Item = F>, fail: fn(&Outcome<T>) -> bool) -> Self
    where
        F: Future<Output = T> + 'static,
    {
        let at = Location::caller();
        let futs: Vec<F> = futs.into_iter().collect();
        let core = Core::new(futs.len(), fail);
        for (i, fut) in futs.into_iter().enumerate() {
            let cell: Rc<RefCell<Option<JoinHandle<T>>>> = Rc::new(RefCell::new(None));
            let (c2, s2) = (cell.clone(), core.state.clone());
            // Runs when the child ends, however it ends (even cancelled before it started, when
            // its future is dropped unpolled): queue its done callback.
            let cb = OnDrop(Some(move || {
                call_soon("gather callback", move || {
                    let h = c2.borrow_mut().take();
                    if let Some(r) = h.and_then(|h| h.now_or_never()) {
                        s2.child_done(i, r);
                    }
                })
            }));
            let h = crate::task::named!("gather child")
                .at(at)
                .spawn(async move {
                    let _cb = cb;
                    fut.await
                });
            core.push_cancel(h.cancel_handle());
            *cell.borrow_mut() = Some(h);
        }
        core
    }

    fn from_tasks(
        handles: impl IntoIterator<Item = JoinHandle<T>>,
        fail: fn(&Outcome<T>) -> bool,
    ) -> Self {
        let handles: Vec<JoinHandle<T>> = handles.into_iter().collect();
        let core = Core::new(handles.len(), fail);
        for (i, h) in handles.into_iter().enumerate() {
            core.push_cancel(h.cancel_handle());
            let s2 = core.state.clone();
            // A watcher: woken when the task ends, exactly where its done callback would run.
            drop(
                crate::task::named!("gather callback")
                    .internal()
                    .spawn(async move {
                        let r = h.await;
                        s2.child_done(i, r);
                    }),
            );
        }
        core
    }

    fn push_cancel(&self, c: CancelHandle) {
        self.children.borrow_mut().push(c.id());
        self.state
            .cancels
            .borrow_mut()
            .push(Box::new(move |m: Option<&str>| match m {
                Some(m) => c.cancel_with(m),
                None => c.cancel(),
            }));
    }

    fn poll_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.done.get() {
            return Poll::Ready(());
        }
        let mut w = self.state.waker.borrow_mut();
        match &*w {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => *w = Some(cx.waker().clone()),
        }
        let slots = self.state.slots.borrow();
        let children = self.children.borrow();
        self.res.block_on_tasks_linked(
            children
                .iter()
                .zip(slots.iter())
                .filter(|(_, slot)| slot.is_none())
                .map(|(id, _)| *id),
            &self.link,
        );
        Poll::Pending
    }

    fn take_all(&self) -> Vec<Outcome<T>> {
        self.state
            .slots
            .borrow_mut()
            .iter_mut()
            .map(|s| {
                s.take()
                    .expect("detsim: gather settled before every child ended")
            })
            .collect()
    }

    fn take_failed(&self) -> Option<Outcome<T>> {
        let i = self.state.failed.get()?;
        self.state.slots.borrow_mut()[i].take()
    }
}

impl<T: Clone + 'static, E: Clone + 'static> Core<Result<T, E>> {
    fn from_promises(
        promises: impl IntoIterator<Item = Promise<T, E>>,
        fail: fn(&Outcome<Result<T, E>>) -> bool,
    ) -> Self {
        let promises: Vec<Promise<T, E>> = promises.into_iter().collect();
        let core = Core::new(promises.len(), fail);
        for (i, p) in promises.into_iter().enumerate() {
            let s2 = core.state.clone();
            // asyncio's gather adds its done callback to the future itself: one hop.
            p.add_done_callback(move |p| {
                let r = match p.result() {
                    Ok(Ok(v)) => Ok(Ok(v)),
                    Ok(Err(PromiseError::Failed(e))) => Ok(Err(e)),
                    Ok(Err(PromiseError::Cancelled)) | Err(_) => Err(JoinError::cancelled()),
                };
                s2.child_done(i, r);
            });
            core.state
                .cancels
                .borrow_mut()
                .push(Box::new(move |_: Option<&str>| p.cancel()));
        }
        core
    }
}

impl<T> Core<T> {
    fn cancel(&self, message: Option<&str>) -> bool {
        if crate::runtime::try_with_core(|_| ()).is_none() {
            panic!(
                "a gather's cancel() was called outside a detsim run; call it from inside the run \
                 the gather belongs to"
            );
        }
        self.state.cancel(message)
    }
}

impl<T> Drop for Core<T> {
    fn drop(&mut self) {
        if !self.state.done.replace(true) {
            let cancels = std::mem::take(&mut *self.state.cancels.borrow_mut());
            // A gather dropped by a shield's cancellation is detached: the shield protects it.
            if crate::runtime::try_with_core(|c| !c.current_is_future_like()).unwrap_or(false) {
                for c in cancels {
                    c(None);
                }
            }
        }
    }
}

fn join_failed<T>(r: &Outcome<T>) -> bool {
    r.is_err()
}

fn never<T>(_: &Outcome<T>) -> bool {
    false
}

fn result_failed<T, E>(r: &Outcome<Result<T, E>>) -> bool {
    !matches!(r, Ok(Ok(_)))
}

/// Runs every future as its own task and returns their outputs in argument order; the first
/// child that is cancelled or panics settles it with that [`JoinError`] (the others keep
/// running, as in asyncio). Dropping it before it settles cancels the children.
///
/// The children are spawned by this call, not when it is first polled.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::{gather, time::{now, sleep, Duration}};
/// detsim::run(async {
///     let work = |name: &'static str, ms| async move {
///         sleep(Duration::from_millis(ms)).await;
///         name
///     };
///     let r = gather([work("slow", 300), work("fast", 100), work("mid", 200)]).await;
///     assert_eq!(r.unwrap(), ["slow", "fast", "mid"]); // argument order
///     assert_eq!(now().to_string(), "0.3s");
/// });
/// ```
#[track_caller]
pub fn gather<F>(futs: impl IntoIterator<Item = F>) -> Gather<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Gather {
        core: Core::from_futures(futs, join_failed),
    }
}

/// Like [`gather`], over tasks that are already running. Dropping the gather before it settles
/// cancels them (asyncio cancels a gather's children, tasks included).
///
/// ```
/// use detsim::{combinators::gather_tasks, spawn};
/// detsim::run(async {
///     let a = spawn(async { 1 });
///     let b = spawn(async { 2 });
///     assert_eq!(gather_tasks([a, b]).await.unwrap(), [1, 2]);
/// });
/// ```
pub fn gather_tasks<T: 'static>(tasks: impl IntoIterator<Item = JoinHandle<T>>) -> Gather<T> {
    Gather {
        core: Core::from_tasks(tasks, join_failed),
    }
}

/// Runs fallible futures as tasks: `Ok` with every value in argument order, or the **first**
/// failure in completion order, an `Err` or a [`JoinError`] (asyncio's `gather` without
/// `return_exceptions`). The other children keep running after a failure; drop their results or
/// cancel them yourself. Dropping it before it settles cancels the children.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::{combinators::{try_gather, GatherError}, time::{now, sleep, Duration}};
/// detsim::run(async {
///     let step = |ms, ok| async move {
///         sleep(Duration::from_millis(ms)).await;
///         if ok { Ok(ms) } else { Err(format!("failed after {ms}ms")) }
///     };
///     let r = try_gather([step(500, true), step(100, false)]).await;
///     assert_eq!(r, Err(GatherError::Failed("failed after 100ms".to_string())));
///     assert_eq!(now().to_string(), "0.1s"); // the first error settles it
/// });
/// ```
#[track_caller]
pub fn try_gather<F, T, E>(futs: impl IntoIterator<Item = F>) -> TryGather<T, E>
where
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: 'static,
{
    TryGather {
        core: Core::from_futures(futs, result_failed),
    }
}

/// Runs every future as a task and returns every outcome in argument order, cancellations and
/// panics included, once all have ended (asyncio's `return_exceptions=True`). Dropping it before
/// then cancels the children.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::combinators::gather_settled;
/// use detsim::time::{sleep, Duration};
/// detsim::run(async {
///     let r = gather_settled([
///         Box::pin(async { Ok(1) }) as std::pin::Pin<Box<dyn std::future::Future<Output = Result<i32, &str>>>>,
///         Box::pin(async { Err("no") }),
///     ]).await;
///     assert_eq!(r, [Ok(Ok(1)), Ok(Err("no"))]);
/// });
/// ```
#[track_caller]
pub fn gather_settled<F>(futs: impl IntoIterator<Item = F>) -> GatherSettled<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    GatherSettled {
        core: Core::from_futures(futs, never),
    }
}

/// [`try_gather`] over promises, with asyncio's timing for gathering futures: each promise's
/// done callback settles the outer result (one hop), with no task in between. A cancelled
/// promise counts as a cancelled child. Dropping it before it settles cancels the promises.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::{combinators::try_gather_promises, promise::Promise};
/// detsim::run(async {
///     let (a, b) = (Promise::<i32, String>::new(), Promise::new());
///     let g = try_gather_promises([a.clone(), b.clone()]);
///     b.set_result(1).unwrap();
///     a.set_result(2).unwrap();
///     assert_eq!(g.await, Ok(vec![2, 1]));
/// });
/// ```
pub fn try_gather_promises<T: Clone + 'static, E: Clone + 'static>(
    promises: impl IntoIterator<Item = Promise<T, E>>,
) -> TryGather<T, E> {
    TryGather {
        core: Core::from_promises(promises, result_failed),
    }
}

/// [`gather_settled`] over promises (asyncio's `gather(*futures, return_exceptions=True)`): every
/// outcome in argument order, a cancelled promise as a cancelled [`JoinError`].
///
/// ```
/// use detsim::{combinators::gather_promises_settled, promise::Promise};
/// detsim::run(async {
///     let (a, b) = (Promise::<i32, &str>::new(), Promise::new());
///     let g = gather_promises_settled([a.clone(), b.clone()]);
///     a.set_error("zero").unwrap();
///     b.cancel();
///     let r = g.await;
///     assert_eq!(r[0], Ok(Err("zero")));
///     assert!(r[1].as_ref().unwrap_err().is_cancelled());
/// });
/// ```
pub fn gather_promises_settled<T: Clone + 'static, E: Clone + 'static>(
    promises: impl IntoIterator<Item = Promise<T, E>>,
) -> GatherSettled<Result<T, E>> {
    GatherSettled {
        core: Core::from_promises(promises, never),
    }
}

/// The future of [`gather`] and [`gather_tasks`].
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct Gather<T> {
    core: Core<T>,
}

impl<T> Gather<T> {
    /// Whether the outer result is settled (asyncio's `done()`).
    ///
    /// ```
    /// detsim::run(async {
    ///     let g = detsim::gather([async { 1 }]);
    ///     assert!(!g.is_finished());
    ///     detsim::yield_now().await; // the child runs
    ///     detsim::yield_now().await; // its done callback runs
    ///     assert!(g.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.core.state.done.get()
    }

    /// Cancels every child that has not ended (asyncio's `_GatheringFuture.cancel()`): returns
    /// whether any accepted. The gather then ends with a cancelled [`JoinError`], whatever the
    /// children return. Does nothing once the gather is settled.
    ///
    /// # Panics
    ///
    /// Outside the run the gather belongs to.
    ///
    /// ```
    /// use detsim::time::{sleep, Duration};
    /// detsim::run(async {
    ///     let g = detsim::gather([sleep(Duration::from_secs(1)), sleep(Duration::from_secs(2))]);
    ///     assert!(g.cancel());
    ///     assert!(g.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        self.core.cancel(None)
    }

    /// [`cancel`](Gather::cancel) with a message, seen in the [`JoinError`].
    ///
    /// # Panics
    ///
    /// Outside the run the gather belongs to.
    pub fn cancel_with(&self, message: impl Into<String>) -> bool {
        self.core.cancel(Some(&message.into()))
    }
}

impl<T> fmt::Debug for Gather<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("finished", &self.core.state.done.get())
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Future for Gather<T> {
    type Output = Result<Vec<T>, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let core = &self.core;
        if core.poll_done(cx).is_pending() {
            return Poll::Pending;
        }
        if let Some(e) = core.state.cancelled() {
            return Poll::Ready(Err(e));
        }
        if let Some(Err(e)) = core.take_failed() {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(core.take_all().into_iter().collect())
    }
}

/// The future of [`gather_settled`].
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct GatherSettled<T> {
    core: Core<T>,
}

impl<T> fmt::Debug for GatherSettled<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherSettled")
            .field("finished", &self.core.state.done.get())
            .finish_non_exhaustive()
    }
}

impl<T> GatherSettled<T> {
    /// Cancels every child that has not ended; see [`Gather::cancel`]. The children's outcomes
    /// then show their cancellations (asyncio raises `CancelledError` from the gather itself,
    /// which this form's output, one outcome per child, has no place for).
    ///
    /// # Panics
    ///
    /// Outside the run the gather belongs to.
    pub fn cancel(&self) -> bool {
        self.core.cancel(None)
    }

    /// Whether every child has ended and its callback has run.
    ///
    /// ```
    /// detsim::run(async {
    ///     let g = detsim::combinators::gather_settled([async { 1 }]);
    ///     assert!(!g.is_finished());
    ///     assert_eq!(g.await, [Ok(1)]);
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.core.state.done.get()
    }
}

impl<T: 'static> Future for GatherSettled<T> {
    type Output = Vec<Result<T, JoinError>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.core.poll_done(cx) {
            Poll::Ready(()) => Poll::Ready(self.core.take_all()),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Why a [`try_gather`] failed: the first child failure in completion order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatherError<E> {
    /// A child returned this error.
    Failed(E),
    /// A child was cancelled or panicked.
    Join(JoinError),
}

impl<E: fmt::Display> fmt::Display for GatherError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatherError::Failed(e) => write!(f, "a gathered task failed: {e}"),
            GatherError::Join(e) => write!(f, "a gathered {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GatherError<E> {}

/// The future of [`try_gather`].
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct TryGather<T, E> {
    core: Core<Result<T, E>>,
}

impl<T, E> fmt::Debug for TryGather<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("finished", &self.core.state.done.get())
            .finish_non_exhaustive()
    }
}

impl<T, E> TryGather<T, E> {
    /// Cancels every child that has not ended; see [`Gather::cancel`]. The gather then ends with
    /// [`GatherError::Join`] holding the cancellation.
    ///
    /// # Panics
    ///
    /// Outside the run the gather belongs to.
    pub fn cancel(&self) -> bool {
        self.core.cancel(None)
    }

    /// Whether the outer result is settled.
    ///
    /// ```
    /// detsim::run(async {
    ///     let g = detsim::combinators::try_gather([async { Err::<(), _>("x") }]);
    ///     assert!(!g.is_finished());
    ///     assert!(g.await.is_err());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.core.state.done.get()
    }
}

impl<T: 'static, E: 'static> Future for TryGather<T, E> {
    type Output = Result<Vec<T>, GatherError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let core = &self.core;
        if core.poll_done(cx).is_pending() {
            return Poll::Pending;
        }
        if let Some(e) = core.state.cancelled() {
            return Poll::Ready(Err(GatherError::Join(e)));
        }
        match core.take_failed() {
            Some(Err(j)) => return Poll::Ready(Err(GatherError::Join(j))),
            Some(Ok(Err(e))) => return Poll::Ready(Err(GatherError::Failed(e))),
            _ => {}
        }
        let mut out = Vec::new();
        for r in core.take_all() {
            match r {
                Ok(Ok(v)) => out.push(v),
                Ok(Err(e)) => return Poll::Ready(Err(GatherError::Failed(e))),
                Err(j) => return Poll::Ready(Err(GatherError::Join(j))),
            }
        }
        Poll::Ready(Ok(out))
    }
}

type BoxAny = Pin<Box<dyn Future<Output = Box<dyn Any>>>>;
type Convert<O> = fn(Vec<Box<dyn Any>>) -> O;

/// A tuple of futures of different types that [`gather_tuple`] (and the [`gather!`](crate::gather!)
/// macro) can run together. Implemented for tuples of 1 to 8 futures.
pub trait GatherTuple {
    /// The tuple of the futures' outputs.
    type Output;

    #[doc(hidden)]
    fn into_parts(self) -> (Vec<BoxAny>, Convert<Self::Output>);
}

macro_rules! tuple_impl {
    ($($F:ident $f:ident),+) => {
        impl<$($F),+> GatherTuple for ($($F,)+)
        where
            $($F: Future + 'static, $F::Output: 'static,)+
        {
            type Output = ($($F::Output,)+);

            fn into_parts(self) -> (Vec<BoxAny>, Convert<Self::Output>) {
                let ($($f,)+) = self;
                let futs: Vec<BoxAny> = vec![$(
                    Box::pin(async move { Box::new($f.await) as Box<dyn Any> }),
                )+];
                fn convert<$($F: Future),+>(v: Vec<Box<dyn Any>>) -> ($($F::Output,)+)
                where
                    $($F::Output: 'static,)+
                {
                    let mut it = v.into_iter();
                    ($(
                        *it.next()
                            .and_then(|b| b.downcast::<$F::Output>().ok())
                            .expect("detsim: gather tuple output of an unexpected type"),
                    )+)
                }
                (futs, convert::<$($F),+>)
            }
        }
    };
}

tuple_impl!(A a);
tuple_impl!(A a, B b);
tuple_impl!(A a, B b, C c);
tuple_impl!(A a, B b, C c, D d);
tuple_impl!(A a, B b, C c, D d, E e);
tuple_impl!(A a, B b, C c, D d, E e, F f);
tuple_impl!(A a, B b, C c, D d, E e, F f, G g);
tuple_impl!(A a, B b, C c, D d, E e, F f, G g, H h);

/// [`gather`] over a tuple of futures of different types; see [`gather!`](crate::gather!).
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::combinators::gather_tuple;
/// detsim::run(async {
///     let (n, s) = gather_tuple((async { 1 }, async { "one" })).await.unwrap();
///     assert_eq!((n, s), (1, "one"));
/// });
/// ```
#[track_caller]
pub fn gather_tuple<G: GatherTuple>(futs: G) -> TupleGather<G::Output> {
    let (futs, convert) = futs.into_parts();
    TupleGather {
        inner: Gather {
            core: Core::from_futures(futs, join_failed),
        },
        convert,
    }
}

/// The future of [`gather_tuple`] and [`gather!`](crate::gather!).
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct TupleGather<O> {
    inner: Gather<Box<dyn Any>>,
    convert: fn(Vec<Box<dyn Any>>) -> O,
}

impl<O> TupleGather<O> {
    /// Cancels every child that has not ended; see [`Gather::cancel`].
    ///
    /// # Panics
    ///
    /// Outside the run the gather belongs to.
    pub fn cancel(&self) -> bool {
        self.inner.cancel()
    }
}

impl<O> fmt::Debug for TupleGather<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<O> Future for TupleGather<O> {
    type Output = Result<O, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let convert = self.convert;
        Pin::new(&mut self.inner).poll(cx).map(|r| r.map(convert))
    }
}

/// Gathers futures of different types: `gather!(a, b, c).await` is
/// `Ok((a_output, b_output, c_output))`, with [`gather`]'s semantics.
///
/// ```
/// use detsim::time::{sleep, Duration};
/// detsim::run(async {
///     let r = detsim::gather!(
///         async { sleep(Duration::from_millis(20)).await; 7 },
///         async { "text" },
///     ).await;
///     assert_eq!(r.unwrap(), (7, "text"));
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($fut:expr),+ $(,)?) => {
        $crate::combinators::gather_tuple(($($fut,)+))
    };
}
