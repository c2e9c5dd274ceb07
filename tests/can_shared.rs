//! `<Can>` in headless Chromium, at the scale of a long list: the elements
//! that ask the same requirement share one decision of the capability
//! store (the shape that keeps a permission change linear in the number of
//! elements; its timing is a benchmark, `cargo xtask bench`, not a test),
//! each follows it, and unmounted ones stop being followed.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use permission_spa::auth::{Auth, AuthState};
use permission_spa::capabilities::{CapabilityStore, provide_capabilities};
use permission_spa::components::can::Can;
use permission_spa::config::AppConfig;
use permissions::Permission;
use permissions::names::{CLIENT_ID, PERMISSIONS_CLAIM};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

mod support;

use support::{count, session, until_counts};

wasm_bindgen_test_configure!(run_in_browser);

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
