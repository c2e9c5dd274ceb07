//! `<Can>` at scale: N `<Can perm>` and N `<Can not>` elements under the
//! real capability store, and one function that flips the permission they
//! ask for. `cargo xtask bench` (xtask/src/bench/can.rs) loads this page in
//! headless Chromium beside the same page of the React peer
//! (bench/react-can) and times each flip until the DOM shows it.
//!
//! The page's contract with the bench, the same for both apps:
//! - `?n=<N>` sets N (5,000 by default);
//! - while the user has `read:project-list`, N `.can-yes` elements show
//!   (the children of `<Can perm>`), otherwise N `.can-no` elements (the
//!   children of `<Can not>`); it starts with the permission;
//! - `window.canBench.toggle()` gives or takes the permission through a new
//!   ID token, as a refresh or another tab would, and returns whether the
//!   user has it now.

use leptos::prelude::*;
use oidc_login::Session;
use oidc_login::id_token::IdToken;
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
    let n = location
        .search()
        .ok()
        .and_then(|search| search.strip_prefix("?n=").and_then(|n| n.parse().ok()))
        .unwrap_or(DEFAULT_N);
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
                    .map(|_| view! { <Can perm=Permission::ReadProjectList><span class="can-yes"></span></Can> })
                    .collect_view()}
                {(0..n)
                    .map(|_| view! { <Can perm=Permission::ReadProjectList not=true><span class="can-no"></span></Can> })
                    .collect_view()}
            </main>
        }
    });
    expose(&window, n, auth);
}

/// Signed in, with `read:project-list` when `granted`.
fn signed_in(granted: bool) -> AuthState {
    let permissions = if granted { json!(["read:project-list"]) } else { json!([]) };
    let claims = json!({ "sub": "u1", PERMISSIONS_CLAIM: permissions });
    AuthState::SignedIn(Session {
        id_token: IdToken { raw: "h.p.s".into(), claims, subject: "u1".into(), expires_at: i64::MAX },
        access_token: "at".into(),
        access_token_received_at: 0,
        access_token_expires_at: i64::MAX,
    })
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
