//! The SPA in headless Chromium: configuration, `<Can>`, the route guard,
//! and the capability store's live updates.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use leptos_router::components::Router;
use oidc_login::Session;
use oidc_login::id_token::IdToken;
use permission_spa::auth::{Auth, AuthState};
use permission_spa::capabilities::provide_capabilities;
use permission_spa::components::can::Can;
use permission_spa::components::guard::RequirePermission;
use permission_spa::config::{AppConfig, CapabilitySource};
use permissions::{ClaimPath, Permission};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CLAIM: &str = "https://permission-spa.example/permissions";

fn session(permissions: serde_json::Value) -> AuthState {
    AuthState::SignedIn(Session {
        id_token: IdToken {
            raw: "h.p.s".into(),
            claims: json!({ "sub": "u1", "name": "Jhon Smith", CLAIM: permissions }),
            subject: "u1".into(),
            expires_at: i64::MAX,
        },
        access_token: "at".into(),
        access_token_received_at: 0,
        access_token_expires_at: i64::MAX,
    })
}

/// Lets effects and the renderer catch up (a macrotask turn).
async fn settle() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn test_config() -> AppConfig {
    let text = format!(r#"{{"issuer":"https://idp.example/","client_id":"spa","permissions_claim":"{CLAIM}"}}"#);
    AppConfig::parse(&text, ORIGIN).unwrap()
}

/// Mounts `view` in a fresh element with an auth context in `state`.
fn mount<V: IntoView + 'static>(
    state: AuthState,
    view: impl FnOnce() -> V + Send + 'static,
) -> (web_sys::HtmlElement, Auth) {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let auth = Auth::new(state, None);
    let handle = leptos::mount::mount_to(host.clone(), move || {
        provide_context(auth);
        provide_capabilities(test_config());
        view! { <Router>{view()}</Router> }
    });
    handle.forget();
    (host, auth)
}

fn count(host: &web_sys::HtmlElement, testid: &str) -> u32 {
    host.query_selector_all(&format!("[data-testid='{testid}']")).unwrap().length()
}

#[wasm_bindgen_test]
async fn can_shows_children_only_with_the_permission_and_follows_changes() {
    let (host, auth) = mount(session(json!(["read:project-list"])), || {
        view! {
            <Can perm=Permission::ReadProjectList><span data-testid="projects-link"></span></Can>
            <Can perm=Permission::ReadUserList fallback=|| view! { <span data-testid="no-users"></span> }>
                <span data-testid="users-link"></span>
            </Can>
        }
    });
    settle().await;
    assert_eq!(count(&host, "projects-link"), 1);
    assert_eq!(count(&host, "users-link"), 0);
    assert_eq!(count(&host, "no-users"), 1);

    // A new token with other permissions updates the view without a reload.
    auth.state.set(session(json!(["read:user-list"])));
    settle().await;
    assert_eq!(count(&host, "projects-link"), 0);
    assert_eq!(count(&host, "users-link"), 1);
    assert_eq!(count(&host, "no-users"), 0);

    auth.state.set(AuthState::SignedOut);
    settle().await;
    assert_eq!(count(&host, "users-link"), 0);
}

#[wasm_bindgen_test]
async fn nothing_authorized_renders_while_pending() {
    let (host, auth) = mount(AuthState::Pending, || {
        view! {
            <Can perm=Permission::ReadUserList><span data-testid="secret"></span></Can>
            <RequirePermission perm=Permission::ReadUserList><span data-testid="screen"></span></RequirePermission>
        }
    });
    settle().await;
    assert_eq!(count(&host, "secret"), 0);
    assert_eq!(count(&host, "screen"), 0);
    assert_eq!(count(&host, "forbidden"), 0);
    assert_eq!(count(&host, "login-button"), 0);
    auth.state.set(session(json!(["read:user-list"])));
    settle().await;
    assert_eq!(count(&host, "secret"), 1);
    assert_eq!(count(&host, "screen"), 1);
}

#[wasm_bindgen_test]
async fn the_guard_shows_forbidden_in_place_or_a_sign_in_prompt() {
    let guarded = || view! { <RequirePermission perm=Permission::ReadUserList><span data-testid="screen"></span></RequirePermission> };
    let (host, auth) = mount(session(json!(["read:project-list"])), guarded);
    settle().await;
    assert_eq!(count(&host, "forbidden"), 1);
    assert_eq!(count(&host, "screen"), 0);

    auth.state.set(AuthState::SignedOut);
    settle().await;
    assert_eq!(count(&host, "forbidden"), 0);
    assert_eq!(count(&host, "login-button"), 1);

    auth.state.set(session(json!(["read:user-list"])));
    settle().await;
    assert_eq!(count(&host, "screen"), 1);
    assert_eq!(count(&host, "login-button"), 0);
}

#[wasm_bindgen_test]
async fn a_malformed_claim_grants_nothing_and_does_not_break_the_page() {
    let (host, _auth) = mount(session(json!({"unexpected": true})), || {
        view! { <RequirePermission perm=Permission::ReadProjectList><span data-testid="screen"></span></RequirePermission> }
    });
    settle().await;
    assert_eq!(count(&host, "screen"), 0);
    assert_eq!(count(&host, "forbidden"), 1);
}

const ORIGIN: &str = "http://127.0.0.1:8080";

#[wasm_bindgen_test]
fn a_valid_config_gets_its_defaults() {
    let config = AppConfig::parse(
        r#"{"issuer":"https://t.auth0.com/","client_id":"spa","permissions_claim":"/realm_access/roles","extra":1}"#,
        ORIGIN,
    )
    .unwrap();
    assert_eq!(config.client.issuer, "https://t.auth0.com/");
    assert_eq!(config.client.scope, "openid profile email offline_access");
    assert_eq!(config.client.redirect_uri, "http://127.0.0.1:8080/callback");
    assert_eq!(config.client.leeway_seconds, 60);
    assert_eq!(config.api_base, "/api/v1");
    assert_eq!(
        config.capabilities,
        CapabilitySource::IdToken {
            permissions_claim: Some(ClaimPath::Pointer("/realm_access/roles".into())),
            roles: None
        }
    );
}

#[wasm_bindgen_test]
fn malformed_configs_are_explained() {
    let cases = [
        ("", "not a valid configuration"),
        ("[]", "not a valid configuration"),
        (r#"{"client_id":"spa","permissions_claim":"p"}"#, "no `issuer`"),
        (r#"{"issuer":"http://idp.example","client_id":"spa","permissions_claim":"p"}"#, "https"),
        (r#"{"issuer":"https://idp.example","permissions_claim":"p"}"#, "no `client_id`"),
        (r#"{"issuer":"https://idp.example","client_id":"spa"}"#, "no `permissions_claim`"),
        (r#"{"issuer":"https://idp.example","client_id":"spa","permissions_claim":"/a~2"}"#, "JSON Pointer"),
        (r#"{"issuer":"https://idp.example","client_id":"spa","permissions_claim":"p","scope":"profile"}"#, "openid"),
        (
            r#"{"issuer":"https://idp.example","client_id":"spa","permissions_claim":"p","leeway_seconds":-1}"#,
            "not a valid",
        ),
        (
            r#"{"issuer":"https://idp.example","client_id":"spa","permissions_claim":"p","api_base":"//evil.example"}"#,
            "api_base",
        ),
        (
            r#"{"issuer":"https://idp.example","client_id":"spa","permissions_claim":"p","capabilities_source":"x"}"#,
            "capabilities_source",
        ),
        (r#"{"issuer":42,"client_id":"spa","permissions_claim":"p"}"#, "not a valid"),
    ];
    for (text, needle) in cases {
        let err = AppConfig::parse(text, ORIGIN).unwrap_err();
        assert!(err.0.contains(needle), "{text}: `{}` lacks `{needle}`", err.0);
    }
}

#[wasm_bindgen_test]
async fn can_combines_any_all_and_not() {
    let (host, auth) = mount(session(json!(["read:project-list", "create:project"])), || {
        view! {
            <Can any_of=vec![Permission::DeleteProject, Permission::CreateProject]><i data-testid="any"></i></Can>
            <Can all_of=vec![Permission::ReadProjectList, Permission::DeleteProject]><i data-testid="all"></i></Can>
            <Can perm=Permission::ReadUserList not=true><i data-testid="not"></i></Can>
        }
    });
    settle().await;
    assert_eq!((count(&host, "any"), count(&host, "all"), count(&host, "not")), (1, 0, 1));
    auth.state.set(session(json!(["read:project-list", "delete:project", "read:user-list"])));
    settle().await;
    assert_eq!((count(&host, "any"), count(&host, "all"), count(&host, "not")), (1, 1, 0));
}

#[wasm_bindgen_test]
async fn can_shows_pending_then_disabled_with_the_reason() {
    let (host, auth) = mount(AuthState::Pending, || {
        view! {
            <Can perm=Permission::DeleteProject disabled_with_reason=true pending=|| view! { <i data-testid="wait"></i> }>
                <button data-testid="delete">"Delete"</button>
            </Can>
        }
    });
    settle().await;
    assert_eq!(count(&host, "wait"), 1);
    assert_eq!(count(&host, "delete"), 0);

    auth.state.set(session(json!(["read:project-list"])));
    settle().await;
    assert_eq!(count(&host, "wait"), 0);
    let button: web_sys::HtmlButtonElement =
        host.query_selector("[data-testid='delete']").unwrap().expect("rendered, disabled").unchecked_into();
    assert!(button.matches(":disabled").unwrap(), "the action is disabled");
    let reason = host.query_selector("[data-testid='disabled-reason']").unwrap().unwrap().text_content().unwrap();
    assert!(reason.contains("delete:project"), "{reason}");

    auth.state.set(session(json!(["delete:project"])));
    settle().await;
    let button: web_sys::HtmlButtonElement =
        host.query_selector("[data-testid='delete']").unwrap().unwrap().unchecked_into();
    assert!(!button.matches(":disabled").unwrap());
    assert_eq!(count(&host, "disabled-reason"), 0);
}

#[wasm_bindgen_test]
fn other_capability_sources_are_configurable() {
    let api =
        AppConfig::parse(r#"{"issuer":"https://idp.example/","client_id":"spa","capabilities_source":"api"}"#, ORIGIN)
            .unwrap();
    assert_eq!(api.capabilities, CapabilitySource::Api);
    let roles = AppConfig::parse(
        r#"{"issuer":"https://idp.example/","client_id":"spa","roles_claim":"/realm_access/roles","role_permissions":{"admin":["read:user-list"]}}"#,
        ORIGIN,
    )
    .unwrap();
    assert!(matches!(roles.capabilities, CapabilitySource::IdToken { permissions_claim: None, roles: Some(_) }));
}

#[wasm_bindgen_test]
async fn roles_map_to_permissions_through_the_configured_map() {
    let config = AppConfig::parse(
        r#"{"issuer":"https://idp.example/","client_id":"spa","roles_claim":"roles","role_permissions":{"auditor":["read:user-list"]}}"#,
        ORIGIN,
    )
    .unwrap();
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let mut state = session(json!([]));
    if let AuthState::SignedIn(s) = &mut state {
        s.id_token.claims["roles"] = json!(["auditor"]);
    }
    let auth = Auth::new(state, None);
    leptos::mount::mount_to(host.clone(), move || {
        provide_context(auth);
        provide_capabilities(config);
        view! { <Router><Can perm=Permission::ReadUserList><i data-testid="users"></i></Can></Router> }
    })
    .forget();
    settle().await;
    assert_eq!(count(&host, "users"), 1);
}
