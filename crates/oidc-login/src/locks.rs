//! Web Locks (`navigator.locks`), to run one refresh at a time across tabs.
//!
//! web-sys exposes `LockManager` only behind `--cfg=web_sys_unstable_apis`,
//! so this binds the one method it needs, `request(name, callback)`.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`.
    type LockManager;

    /// `LockManager.request(name, callback)`: runs `callback` once the
    /// exclusive lock `name` is held, and releases it when the promise the
    /// callback returns settles.
    #[wasm_bindgen(method, js_name = request)]
    fn request(this: &LockManager, name: &str, callback: &Function) -> Promise;
}

fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Runs `work` while holding the exclusive lock `name` in every tab of this
/// origin. Where Web Locks are unavailable (very old browsers), `work` runs
/// without the lock: a single tab is still correct, and the provider's reuse
/// detection turns a cross-tab race into "session expired", never into a
/// leaked session.
pub async fn with_lock<T, F, Fut>(name: &str, work: F) -> T
where
    T: 'static,
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = T> + 'static,
{
    let Some(locks) = lock_manager() else {
        return work().await;
    };
    // `work` is shared with the callback so that, should the request itself
    // fail before the callback runs, it can still run here, unlocked.
    let pending: Rc<RefCell<Option<F>>> = Rc::new(RefCell::new(Some(work)));
    let result: Rc<RefCell<Option<T>>> = Rc::new(RefCell::new(None));
    let (pending_in_lock, result_in_lock) = (pending.clone(), result.clone());
    let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        future_to_promise(async move {
            let work = pending_in_lock.borrow_mut().take();
            if let Some(work) = work {
                let value = work().await;
                *result_in_lock.borrow_mut() = Some(value);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    let _ = JsFuture::from(locks.request(name, callback.unchecked_ref())).await;
    let done = result.borrow_mut().take();
    if let Some(value) = done {
        return value;
    }
    let work = pending.borrow_mut().take();
    match work {
        Some(work) => work().await,
        // The callback took `work` and then its promise was abandoned (the
        // page is going away); running it again could replay a token, so
        // wait forever instead: nothing after this matters on a dying page.
        None => std::future::pending().await,
    }
}
