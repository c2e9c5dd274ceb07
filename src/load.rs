//! A value loaded in the background ([`Loader`]): what the app's start-up,
//! the lists and the role catalogue wait on.
//!
//! It stands in for Leptos's `LocalResource`, which does the same with far
//! more machinery (async-derived signals, suspense hooks, scoped futures),
//! all of it instantiated again for every value type and every future: a
//! signal holding the last answer, an effect that starts the load, and one
//! boxed future type, so the wasm carries one copy of the plumbing per
//! value type and none per call site. It sits below every other module of
//! the SPA, importing none of them.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// A load in flight, boxed so that every caller's future is one type.
type Pending<T> = Pin<Box<dyn Future<Output = T>>>;

/// The last value a load produced (`None` until the first answer), loaded
/// again whenever a signal the load read changes, or on [`Loader::reload`].
/// While a new load runs the previous value stays (a list keeps its page
/// until the next one arrives); only the latest load's answer is kept.
pub struct Loader<T: 'static> {
    value: RwSignal<Option<T>, LocalStorage>,
    reload: Trigger,
}

impl<T: 'static> Clone for Loader<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Loader<T> {}

impl<T: 'static> Loader<T> {
    /// Starts `load` now and again whenever a signal it reads before its
    /// first `.await` changes, for as long as the calling owner lives.
    pub fn new<F>(load: impl Fn() -> F + 'static) -> Self
    where
        F: Future<Output = T> + 'static,
    {
        Loader::erased(Box::new(move || Box::pin(load())))
    }

    /// [`Loader::new`] once the load is boxed: compiled once per `T`.
    fn erased(load: Box<dyn Fn() -> Pending<T>>) -> Self {
        let value = RwSignal::new_local(None);
        let reload = Trigger::new();
        // Counts the loads started; an answer is kept only if no later
        // load has started since its own, so a slow old page cannot
        // overwrite a newer one.
        let started = Rc::new(Cell::new(0_u64));
        Effect::new(move |_| {
            reload.track();
            let pending = load();
            let this = started.get() + 1;
            started.set(this);
            let started = Rc::clone(&started);
            spawn_local(async move {
                let answer = pending.await;
                if started.get() == this {
                    // The owner may be gone by now (the screen was left).
                    let _ = value.try_set(Some(answer));
                }
            });
        });
        Loader { value, reload }
    }

    /// A copy of the last value (tracked).
    pub fn get(self) -> Option<T>
    where
        T: Clone,
    {
        self.value.get()
    }

    /// Reads the last value without copying it (tracked).
    pub fn with<R>(self, read: impl FnOnce(&Option<T>) -> R) -> R {
        self.value.with(read)
    }

    /// Loads again (after a write), keeping the current value meanwhile.
    pub fn reload(self) {
        self.reload.notify();
    }
}
