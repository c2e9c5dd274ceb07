//! Start-up in headless Chromium: the URL rules of `/config.json`, and a
//! provider that is down and then comes up, where the `auth-error` banner's
//! "Try again" runs start-up again (discovery, then the stored session)
//! instead of doing nothing.
//!
//! The provider is played by a stand-in for the page's `fetch` that answers
//! only the test issuer's URLs (every other request goes to the real
//! `fetch`); it counts the discovery requests, so a retry that never
//! happens fails the test.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;

use leptos::prelude::*;
use oidc_login::{ClientSettings, LoginError};
use permission_spa::auth::{self, Arrival, AuthState, Startup};
use permission_spa::config::AppConfig;
use permission_spa::location::provide_location;
use permission_spa::screens::auth_error::AuthErrorBanner;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The stand-in provider's issuer; nothing listens there.
const ISSUER: &str = "https://provider.test/";
/// A client id of this test alone, so its stored session touches no other test.
const CLIENT_ID: &str = "startup-test";

thread_local! {
    /// Whether the stand-in provider answers discovery (the token endpoint never answers).
    static PROVIDER_UP: Cell<bool> = const { Cell::new(false) };
    /// How many discovery requests were made.
    static DISCOVERIES: Cell<u32> = const { Cell::new(0) };
}

/// Puts the stand-in provider in front of the page's `fetch`.
fn install_provider() {
    let window = web_sys::window().unwrap();
    let real_fetch: js_sys::Function = js_sys::Reflect::get(&window, &"fetch".into()).unwrap().unchecked_into();
    let fake = Closure::<dyn FnMut(JsValue, JsValue) -> js_sys::Promise>::new(move |input: JsValue, init: JsValue| {
        let url = input.dyn_ref::<web_sys::Request>().map(web_sys::Request::url).or_else(|| input.as_string());
        let Some(url) = url.filter(|u| u.starts_with(ISSUER)) else {
            let window = web_sys::window().unwrap();
            return real_fetch.call2(&window, &input, &init).unwrap().unchecked_into();
        };
        let down = || {
            let error: JsValue = js_sys::TypeError::new("Failed to fetch").into();
            js_sys::Promise::reject(&error)
        };
        if url.ends_with("/.well-known/openid-configuration") {
            DISCOVERIES.set(DISCOVERIES.get() + 1);
            if PROVIDER_UP.get() {
                let document = serde_json::json!({
                    "issuer": ISSUER,
                    "authorization_endpoint": format!("{ISSUER}authorize"),
                    "token_endpoint": format!("{ISSUER}token"),
                    "jwks_uri": format!("{ISSUER}jwks"),
                });
                let response =
                    gloo_net::http::Response::builder().status(200).body(Some(document.to_string().as_str())).unwrap();
                let response: JsValue = web_sys::Response::from(response).into();
                return js_sys::Promise::resolve(&response);
            }
        }
        down()
    });
    js_sys::Reflect::set(&window, &"fetch".into(), fake.as_ref()).unwrap();
    // The stand-in stays for the rest of this test binary.
    fake.forget();
}

/// Waits until `condition` holds, failing after a deadline.
async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = js_sys::Date::now() + 10_000.0;
    while !condition() {
        assert!(js_sys::Date::now() < deadline, "timed out waiting until {what}");
        let tick = js_sys::Promise::new(&mut |resolve, _| {
            let window = web_sys::window().unwrap();
            window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20).unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(tick).await.unwrap();
    }
}

/// The text of the `auth-error` banner under `host`, if it is shown.
fn banner(host: &web_sys::HtmlElement) -> Option<String> {
    host.query_selector("[data-testid='auth-error']").unwrap().and_then(|b| b.text_content())
}

/// Clicks the banner's "Try again" button.
fn click_try_again(host: &web_sys::HtmlElement) {
    let button = host.query_selector("[data-testid='auth-error'] [data-testid='login-button']").unwrap().unwrap();
    assert_eq!(button.text_content().as_deref(), Some("Try again"));
    button.unchecked_into::<web_sys::HtmlElement>().click();
}

#[wasm_bindgen_test]
async fn try_again_runs_start_up_again_once_the_provider_is_up() {
    install_provider();
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    // A session kept from an earlier visit: the retried start-up tries to
    // restore it (and the page never leaves for the provider's sign-in page).
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let refresh_key = oidc_login::refresh::storage_key(CLIENT_ID);
    storage.set_item(&refresh_key, r#"{"refresh_token":"rt","subject":"u1"}"#).unwrap();

    // Start-up with the provider down: failed, and nothing to retry with but the settings.
    let settings = ClientSettings::for_origin(&origin, ISSUER.to_owned(), CLIENT_ID.to_owned());
    let Startup::Ready(auth, Arrival::Settled) = auth::start(settings).await else {
        panic!("start-up with the provider down must mount the app, not redirect")
    };
    let failed_at = |needle: &'static str| {
        move || auth.state.with(|s| matches!(s, AuthState::Failed(LoginError::Network(why)) if why.contains(needle)))
    };
    assert!(failed_at("/.well-known/openid-configuration")(), "{:?}", auth.state.get_untracked());
    assert_eq!(DISCOVERIES.get(), 1);

    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    leptos::mount::mount_to(host.clone(), move || {
        provide_context(auth);
        provide_location();
        view! { <AuthErrorBanner /> }
    })
    .forget();
    wait_until("the banner explains the failure", || {
        banner(&host).is_some_and(|text| text.contains("Could not reach the identity provider"))
    })
    .await;

    // Still down: "Try again" asks the provider again, and the banner returns.
    click_try_again(&host);
    wait_until("a second discovery", || DISCOVERIES.get() == 2).await;
    wait_until("the failure shows again", failed_at("/.well-known/openid-configuration")).await;
    wait_until("the banner is back", || banner(&host).is_some()).await;

    // Up: the retry discovers the provider and carries on with start-up, to
    // the stored session (whose token endpoint this stand-in never answers).
    PROVIDER_UP.set(true);
    click_try_again(&host);
    wait_until("start-up got past discovery to the refresh", failed_at("token endpoint")).await;
    assert_eq!(DISCOVERIES.get(), 3);
    wait_until("the banner names the new failure", || banner(&host).is_some_and(|t| t.contains("token endpoint")))
        .await;

    // A network failure after discovery (the token endpoint) is retried the
    // same way: discovery again, then the stored session; the page stays.
    click_try_again(&host);
    wait_until("a fourth discovery", || DISCOVERIES.get() == 4).await;
    wait_until("the refresh failed again", failed_at("token endpoint")).await;
    wait_until("the banner is back", || banner(&host).is_some()).await;
    storage.remove_item(&refresh_key).unwrap();
}

/// `/config.json` for this test's provider with `api_base` set to `api_base`.
fn with_api_base(api_base: &str) -> Result<AppConfig, String> {
    let text = serde_json::json!({
        "issuer": ISSUER, "client_id": CLIENT_ID, "permissions_claim": "permissions", "api_base": api_base,
    });
    AppConfig::parse(&text.to_string(), "http://127.0.0.1:8080").map_err(|e| e.to_string())
}

#[wasm_bindgen_test]
fn api_base_is_a_path_on_this_origin_or_a_provider_style_url() {
    for (ok, kept) in [
        ("/api/v1/", "/api/v1"),
        ("/api/v2", "/api/v2"),
        ("https://api.example/v1", "https://api.example/v1"),
        ("http://127.0.0.1:3000/api/v1", "http://127.0.0.1:3000/api/v1"),
    ] {
        assert_eq!(with_api_base(ok).map(|c| c.api_base).as_deref(), Ok(kept), "{ok}");
    }
    for bad in [
        // A backslash is a slash to the browser: this is `//evil.example`.
        "/\\evil.example",
        "//evil.example/api",
        "http://evil.example/api",
        "http://127.0.0.1:1@evil.example/",
        "api/v1",
    ] {
        let err = with_api_base(bad).expect_err(bad);
        assert!(err.contains("api_base"), "{bad}: {err}");
    }
}

#[wasm_bindgen_test]
fn an_issuer_that_only_looks_like_loopback_is_refused() {
    let text = serde_json::json!({
        "issuer": "http://127.0.0.1:1@evil.example/", "client_id": CLIENT_ID, "permissions_claim": "permissions",
    });
    let err = AppConfig::parse(&text.to_string(), "http://127.0.0.1:8080").unwrap_err().to_string();
    assert!(err.contains("issuer") && err.contains("https"), "{err}");
}
