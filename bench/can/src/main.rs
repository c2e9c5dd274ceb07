//! `<Can>` at scale: N `<Can perm>` and N `<Can not>` elements under the
//! real capability store, and one function that flips the permission they
//! ask for. `cargo xtask bench` (xtask/src/bench/can.rs) loads this page in
//! headless Chromium beside the same page of the React peer
//! (bench/react-can) and times each flip until the DOM shows it.
//!
//! The page's contract with the bench, the same for both apps:
//! - `?n=<N>` sets N (5,000 by default); with `&layout=rows` each `<Can>`
//!   is in an element of its own (a row), rather than all 2N side by side;
//! - while the user has `read:project-list`, N `.can-yes` elements show
//!   (the children of `<Can perm>`), otherwise N `.can-no` elements (the
//!   children of `<Can not>`); it starts with the permission;
//! - `window.canBench.toggle()` gives or takes the permission through a new
//!   ID token, as a refresh or another tab would, and returns whether the
//!   user has it now.

use leptos::prelude::*;
use permission_spa::auth::{Auth, AuthState};
use permission_spa::capabilities::provide_capabilities;
use permission_spa::components::can::Can;
use permission_spa::config::AppConfig;
use permissions::Permission;
use permissions::names::{CLIENT_ID, PERMISSIONS_CLAIM};
use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;

/// N when the URL does not say.
const DEFAULT_N: usize = 5_000;

fn main() {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let search = location.search().unwrap_or_default();
    let param = |key: &str| {
        let query = search.strip_prefix('?').unwrap_or_default();
        query.split('&').find_map(|pair| pair.strip_prefix(key)?.strip_prefix('=').map(str::to_owned))
    };
    let n = param("n").and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_N);
    let rows = param("layout").as_deref() == Some("rows");
    let origin = location.origin().unwrap_or_default();
    let config =
        json!({ "issuer": "https://idp.example/", "client_id": CLIENT_ID, "permissions_claim": PERMISSIONS_CLAIM });
    let config = match AppConfig::parse(&config.to_string(), &origin) {
        Ok(config) => config,
        Err(err) => return leptos::logging::error!("can-bench: {err}"),
    };
    let auth = Auth::new(signed_in(true), config.client.clone());
    leptos::mount::mount_to_body(move || {
        provide_context(auth);
        provide_capabilities(config);
        view! {
            <main id="can-bench">
                {(0..n)
                    .map(|_| {
                        let can = view! { <Can perm=Permission::ReadProjectList><span class="can-yes"></span></Can> };
                        in_row(rows, can)
                    })
                    .collect_view()}
                {(0..n)
                    .map(|_| {
                        let can = view! { <Can perm=Permission::ReadProjectList not=true><span class="can-no"></span></Can> };
                        in_row(rows, can)
                    })
                    .collect_view()}
            </main>
        }
    });
    expose(&window, n, auth);
}

/// `can` in a row of its own when `rows`, else as it is.
fn in_row(rows: bool, can: impl IntoView + 'static) -> AnyView {
    if rows { view! { <div class="row">{can}</div> }.into_any() } else { can.into_any() }
}

// The signed-in states of the SPA's browser tests: one home for both.
#[path = "../../../tests/support/session.rs"]
mod session;

/// Signed in, with `read:project-list` when `granted`.
fn signed_in(granted: bool) -> AuthState {
    session::session(if granted { json!(["read:project-list"]) } else { json!([]) })
}

/// Sets `window.canBench` to `{ n, toggle }` (the contract above).
fn expose(window: &web_sys::Window, n: usize, auth: Auth) {
    let mut granted = true;
    let toggle = Closure::<dyn FnMut() -> bool>::new(move || {
        granted = !granted;
        auth.state.set(signed_in(granted));
        granted
    });
    let bench = js_sys::Object::new();
    let set = |key: &str, value: &JsValue| js_sys::Reflect::set(&bench, &key.into(), value).is_ok();
    let exposed = set("n", &JsValue::from(n as f64)) && set("toggle", toggle.as_ref());
    toggle.forget();
    if !exposed || js_sys::Reflect::set(window, &"canBench".into(), &bench).is_err() {
        leptos::logging::error!("can-bench: could not set window.canBench");
    }
}
