//! Catching panics in user code, with their message and location.
//!
//! detsim installs one process-wide panic hook (once, chaining to the previous hook). While user
//! code runs inside a detsim step, the hook records the message and location for the failure
//! report instead of printing, so an exploration of thousands of schedules does not flood the
//! output; everywhere else it defers to the previous hook unchanged.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use super::SchedulerAbort;

thread_local! {
    static IN_USER_CODE: Cell<bool> = const { Cell::new(false) };
    static LAST_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_USER_CODE.with(|c| c.get()) {
                // The innermost user-code frame catches this panic and takes the location.
                let loc = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                LAST_LOCATION.with(|l| *l.borrow_mut() = loc);
            } else {
                previous(info);
            }
        }));
    });
}

/// A panic caught in user code.
pub(crate) struct Caught {
    pub(crate) message: String,
    pub(crate) location: Option<String>,
    payload: Box<dyn Any + Send>,
}

impl Caught {
    pub(crate) fn is_scheduler_abort(&self) -> bool {
        self.payload.is::<SchedulerAbort>()
    }
}

/// Runs user code, catching a panic.
pub(crate) fn catch_user<R>(f: impl FnOnce() -> R) -> Result<R, Caught> {
    let outer = IN_USER_CODE.with(|c| c.replace(true));
    // LAST_LOCATION is empty here: every panic the hook records in user code is caught below and
    // its location taken.
    let r = catch_unwind(AssertUnwindSafe(f));
    IN_USER_CODE.with(|c| c.set(outer));
    r.map_err(|payload| {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic with a non-string payload".to_string()
        };
        Caught {
            message,
            location: LAST_LOCATION.with(|l| l.borrow_mut().take()),
            payload,
        }
    })
}
