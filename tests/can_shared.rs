//! `<Can>` in headless Chromium, at the scale of a long list: the elements
//! that ask the same requirement share one decision of the capability
//! store (the shape that keeps a permission change linear in the number of
//! elements; its timing is a benchmark, `cargo xtask bench`, not a test),
//! each follows it, and unmounted ones stop being followed.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use oidc_login::Session;
use oidc_login::id_token::IdToken;
use permission_spa::auth::{Auth, AuthState};
use permission_spa::capabilities::{CapabilityStore, provide_capabilities};
use permission_spa::components::can::Can;
use permission_spa::config::AppConfig;
use permissions::Permission;
use permissions::names::{CLIENT_ID, PERMISSIONS_CLAIM};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// How long the DOM may take to show what the test waits for.
const DEADLINE_MS: f64 = 5_000.0;

/// Signed in, with `permissions` in the demo deployment's claim.
fn session(permissions: Value) -> AuthState {
    let claims = json!({ "sub": "u1", PERMISSIONS_CLAIM: permissions });
    AuthState::SignedIn(Session {
        id_token: IdToken { raw: "h.p.s".into(), claims, subject: "u1".into(), expires_at: i64::MAX },
        access_token: "at".into(),
        access_token_received_at: 0,
        access_token_expires_at: i64::MAX,
    })
}

/// Mounts `view` under an auth context in `state` and the capability store,
/// and returns the host element, the auth context and the store.
fn mount<V: IntoView + 'static>(
    state: AuthState,
    view: impl FnOnce() -> V + Send + 'static,
) -> (web_sys::HtmlElement, Auth, CapabilityStore) {
    let config =
        json!({ "issuer": "https://idp.example/", "client_id": CLIENT_ID, "permissions_claim": PERMISSIONS_CLAIM });
    let config = AppConfig::parse(&config.to_string(), "http://127.0.0.1:8080").unwrap();
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let auth = Auth::new(state, config.client.clone());
    let store = Arc::new(Mutex::new(None));
    let provided = store.clone();
    leptos::mount::mount_to(host.clone(), move || {
        provide_context(auth);
        *provided.lock().unwrap() = Some(provide_capabilities(config));
        view()
    })
    .forget();
    let store = store.lock().unwrap().expect("the store is provided while mounting");
    (host, auth, store)
}

fn count(host: &web_sys::HtmlElement, testid: &str) -> u32 {
    host.query_selector_all(&format!("[data-testid='{testid}']")).unwrap().length()
}

/// One turn of the browser's event loop.
async fn next_turn() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Waits until each `(testid, n)` has exactly `n` elements, all at once;
/// each call includes a positive count the render under test brings.
async fn until_counts(host: &web_sys::HtmlElement, expected: &[(&str, u32)]) {
    let matches = || expected.iter().all(|(testid, n)| count(host, testid) == *n);
    let start = js_sys::Date::now();
    while !matches() {
        let seen: Vec<(&str, u32)> = expected.iter().map(|(testid, _)| (*testid, count(host, testid))).collect();
        assert!(js_sys::Date::now() - start < DEADLINE_MS, "expected {expected:?}, still {seen:?}");
        next_turn().await;
    }
}

#[wasm_bindgen_test]
async fn elements_asking_the_same_requirement_share_one_decision_and_follow_it() {
    let second_half = RwSignal::new(true);
    let (host, auth, store) = mount(session(json!(["read:project-list"])), move || {
        view! {
            {(0..100).map(|_| view! { <Can perm=Permission::ReadProjectList><i data-testid="yes"></i></Can> }).collect_view()}
            <Show when=move || second_half.get() fallback=|| view! { <i data-testid="unmounted"></i> }>
                {(0..50)
                    .map(|_| view! { <Can perm=Permission::ReadProjectList not=true><i data-testid="no"></i></Can> })
                    .collect_view()}
            </Show>
            <Can any_of=vec![Permission::ReadUserList, Permission::ReadProjectList]><i data-testid="any"></i></Can>
        }
    });
    until_counts(&host, &[("yes", 100), ("no", 0), ("any", 1)]).await;
    // Three distinct requirements, 151 elements following them.
    assert_eq!(store.followed(), (3, 151));

    // One change of state reaches every element, each through the decision of its requirement.
    auth.state.set(session(json!(["read:user-list"])));
    until_counts(&host, &[("yes", 0), ("no", 50), ("any", 1)]).await;
    auth.state.set(session(json!([])));
    until_counts(&host, &[("no", 50), ("yes", 0), ("any", 0)]).await;
    assert_eq!(store.followed(), (3, 151));

    // Unmounted elements are no longer followed; those left still follow the state.
    second_half.set(false);
    until_counts(&host, &[("unmounted", 1), ("no", 0)]).await;
    assert_eq!(store.followed(), (2, 101));
    auth.state.set(session(json!(["read:project-list"])));
    until_counts(&host, &[("yes", 100), ("any", 1), ("no", 0)]).await;

    // Mounted again, they join the decision as it stands now (no flash of the refused view).
    second_half.set(true);
    until_counts(&host, &[("yes", 100), ("unmounted", 0)]).await;
    assert_eq!(count(&host, "no"), 0);
    assert_eq!(store.followed(), (3, 151));
}
