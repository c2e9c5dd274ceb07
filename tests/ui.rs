//! The SPA in headless Chromium: configuration, `<Can>`, the route guard,
//! the capability store's live updates, the permissions inspector and the
//! User List's role controls.
//!
//! Every view is rendered with the real capability store, derived from a
//! real parsed claim. The DOM is read by polling with a deadline: presence
//! is awaited; absence is asserted only once a positive marker shows that
//! the render being checked has happened.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use contract::wire::{RoleCatalog, SetRoles, UserWithRoles};
use leptos::prelude::*;
use oidc_login::DpopMode;
use permission_spa::api::provide_api;
use permission_spa::auth::{Auth, AuthState};
use permission_spa::capabilities::provide_capabilities;
use permission_spa::components::can::Can;
use permission_spa::components::guard::RequirePermission;
use permission_spa::components::inspector::{Inspector, provide_inspector};
use permission_spa::config::{AppConfig, CapabilitySource};
use permission_spa::location::{Link, provide_location, use_location};
use permission_spa::screens::users::{RolesNote, UserRow};
use permissions::names::{CLIENT_ID, PERMISSIONS_CLAIM};
use permissions::{ClaimPath, Permission};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

mod support;

use support::{count, session, signed_in_with, until, until_counts};

wasm_bindgen_test_configure!(run_in_browser);

const ORIGIN: &str = "http://127.0.0.1:8080";
const ISSUER: &str = "https://idp.example/";

/// A configuration of the demo deployment with `keys` added.
fn config_with(keys: Value) -> AppConfig {
    let mut config = json!({ "issuer": ISSUER, "client_id": CLIENT_ID });
    if let (Some(config), Value::Object(keys)) = (config.as_object_mut(), keys) {
        config.extend(keys);
    }
    AppConfig::parse(&config.to_string(), ORIGIN).unwrap()
}

/// The demo deployment's configuration: permissions from the namespaced claim.
fn claim_config() -> AppConfig {
    config_with(json!({ "permissions_claim": PERMISSIONS_CLAIM }))
}

/// Mounts `view` in a fresh element under the app's contexts (auth in
/// `state`, the API client, the inspector's registry, the capability store
/// of `config`), as the app shell provides them.
fn mount_with<V: IntoView + 'static>(
    config: AppConfig,
    state: AuthState,
    view: impl FnOnce() -> V + Send + 'static,
) -> (web_sys::HtmlElement, Auth) {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let auth = Auth::new(state, config.client.clone());
    let handle = leptos::mount::mount_to(host.clone(), move || {
        provide_context(auth);
        provide_api(auth, &config);
        provide_inspector();
        provide_capabilities(config);
        provide_location();
        view()
    });
    handle.forget();
    (host, auth)
}

/// [`mount_with`] the demo deployment's configuration.
fn mount<V: IntoView + 'static>(
    state: AuthState,
    view: impl FnOnce() -> V + Send + 'static,
) -> (web_sys::HtmlElement, Auth) {
    mount_with(claim_config(), state, view)
}

fn element<T: JsCast>(host: &web_sys::HtmlElement, selector: &str) -> T {
    host.query_selector(selector).unwrap().unwrap_or_else(|| panic!("no {selector}")).unchecked_into()
}

fn text(host: &web_sys::HtmlElement, testid: &str) -> String {
    element::<web_sys::HtmlElement>(host, &format!("[data-testid='{testid}']")).text_content().unwrap_or_default()
}

/// A link for each list, the User List's with a fallback.
fn nav_links() -> impl IntoView {
    view! {
        <Can perm=Permission::ReadProjectList><span data-testid="projects-link"></span></Can>
        <Can perm=Permission::ReadUserList fallback=|| view! { <span data-testid="no-users"></span> }>
            <span data-testid="users-link"></span>
        </Can>
    }
}

#[wasm_bindgen_test]
async fn can_shows_children_only_with_the_permission_and_follows_changes() {
    let (host, auth) = mount(session(json!(["read:project-list"])), nav_links);
    until_counts(&host, &[("projects-link", 1), ("no-users", 1), ("users-link", 0)]).await;

    // A new token with other permissions updates the view without a reload.
    auth.state.set(session(json!(["read:user-list"])));
    until_counts(&host, &[("users-link", 1), ("projects-link", 0), ("no-users", 0)]).await;

    auth.state.set(AuthState::SignedOut);
    until_counts(&host, &[("no-users", 1), ("users-link", 0), ("projects-link", 0)]).await;
}

#[wasm_bindgen_test]
async fn nothing_authorized_renders_while_pending() {
    let (host, auth) = mount(AuthState::Pending, || {
        view! {
            <Can perm=Permission::ReadUserList pending=|| view! { <i data-testid="can-pending"></i> }>
                <span data-testid="secret"></span>
            </Can>
            <RequirePermission perm=Permission::ReadUserList><span data-testid="screen"></span></RequirePermission>
        }
    });
    // The pending render has happened: `<Can>`'s pending view and the guard's placeholder show.
    until_counts(&host, &[("can-pending", 1)]).await;
    until("the guard's placeholder", || host.query_selector(".placeholder").unwrap().is_some()).await;
    for absent in ["secret", "screen", "forbidden", "login-button"] {
        assert_eq!(count(&host, absent), 0, "{absent} rendered while permissions are pending");
    }

    auth.state.set(session(json!(["read:user-list"])));
    until_counts(&host, &[("secret", 1), ("screen", 1), ("can-pending", 0)]).await;
}

#[wasm_bindgen_test]
async fn the_guard_shows_forbidden_in_place_or_a_sign_in_prompt() {
    let guarded = || {
        view! { <RequirePermission perm=Permission::ReadUserList><span data-testid="screen"></span></RequirePermission> }
    };
    let (host, auth) = mount(session(json!(["read:project-list"])), guarded);
    until_counts(&host, &[("forbidden", 1), ("screen", 0)]).await;
    assert!(text(&host, "forbidden").contains("read:user-list"), "the Forbidden view names the permission");

    auth.state.set(AuthState::SignedOut);
    until_counts(&host, &[("login-button", 1), ("forbidden", 0), ("screen", 0)]).await;

    auth.state.set(session(json!(["read:user-list"])));
    until_counts(&host, &[("screen", 1), ("login-button", 0), ("forbidden", 0)]).await;
}

#[wasm_bindgen_test]
async fn a_malformed_claim_grants_nothing_and_does_not_break_the_page() {
    let (host, _auth) = mount(session(json!({"unexpected": true})), || {
        view! { <RequirePermission perm=Permission::ReadProjectList><span data-testid="screen"></span></RequirePermission> }
    });
    until_counts(&host, &[("forbidden", 1), ("screen", 0)]).await;
}

#[wasm_bindgen_test]
fn a_valid_config_gets_its_defaults() {
    let config = config_with(
        json!({ "issuer": "https://t.auth0.com/", "permissions_claim": "/realm_access/roles", "extra": 1 }),
    );
    assert_eq!(config.client.issuer, "https://t.auth0.com/");
    assert_eq!(config.client.client_id, CLIENT_ID);
    assert_eq!(config.client.scope, "openid profile email offline_access");
    assert_eq!(config.client.redirect_uri, contract::routes::redirect_uri(ORIGIN));
    assert_eq!(config.client.leeway_seconds, 60);
    assert!(config.client.trusted_audiences.is_empty(), "no other audience is trusted by default");
    assert_eq!(config.client.dpop, DpopMode::Auto, "DPoP where the provider offers it");
    assert_eq!(config.api_base, contract::api::DEFAULT_BASE);
    assert_eq!(
        config.capabilities,
        CapabilitySource::IdToken {
            permissions_claim: Some(ClaimPath::Pointer("/realm_access/roles".into())),
            roles: None
        }
    );
}

#[wasm_bindgen_test]
fn trusted_audiences_are_read() {
    let config = config_with(
        json!({ "issuer": "https://t.auth0.com/", "permissions_claim": "p", "trusted_audiences": ["https://api.example"] }),
    );
    assert_eq!(config.client.trusted_audiences, ["https://api.example"]);
}

#[wasm_bindgen_test]
fn the_dpop_mode_is_read() {
    for (name, mode) in [("auto", DpopMode::Auto), ("required", DpopMode::Required), ("off", DpopMode::Off)] {
        let config = config_with(json!({ "issuer": "https://t.auth0.com/", "permissions_claim": "p", "dpop": name }));
        assert_eq!(config.client.dpop, mode, "{name}");
    }
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
        (
            r#"{"issuer":"https://idp.example","client_id":"spa","permissions_claim":"p","trusted_audiences":"api"}"#,
            "not a valid",
        ),
        (
            r#"{"issuer":"https://idp.example","client_id":"spa","permissions_claim":"p","trusted_audiences":[""]}"#,
            "trusted_audiences",
        ),
        (r#"{"issuer":"https://idp.example","client_id":"spa","permissions_claim":"p","dpop":"on"}"#, "`dpop` must be"),
        (r#"{"issuer":"https://idp.example","client_id":"spa","permissions_claim":"p","dpop":true}"#, "not a valid"),
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
    until_counts(&host, &[("any", 1), ("all", 0), ("not", 1)]).await;
    auth.state.set(session(json!(["read:project-list", "delete:project", "read:user-list"])));
    until_counts(&host, &[("any", 1), ("all", 1), ("not", 0)]).await;
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
    until_counts(&host, &[("wait", 1), ("delete", 0)]).await;

    auth.state.set(session(json!(["read:project-list"])));
    until_counts(&host, &[("delete", 1), ("disabled-reason", 1), ("wait", 0)]).await;
    let button: web_sys::HtmlButtonElement = element(&host, "[data-testid='delete']");
    assert!(button.matches(":disabled").unwrap(), "the action is disabled");
    let reason = text(&host, "disabled-reason");
    assert!(reason.contains("delete:project"), "{reason}");

    auth.state.set(session(json!(["delete:project"])));
    until_counts(&host, &[("delete", 1), ("disabled-reason", 0)]).await;
    let button: web_sys::HtmlButtonElement = element(&host, "[data-testid='delete']");
    assert!(!button.matches(":disabled").unwrap());
}

#[wasm_bindgen_test]
fn other_capability_sources_are_configurable() {
    let api = config_with(json!({ "capabilities_source": "api" }));
    assert_eq!(api.capabilities, CapabilitySource::Api);
    let roles = config_with(
        json!({ "roles_claim": "/realm_access/roles", "role_permissions": { "admin": ["read:user-list"] } }),
    );
    assert!(matches!(roles.capabilities, CapabilitySource::IdToken { permissions_claim: None, roles: Some(_) }));
}

#[wasm_bindgen_test]
async fn roles_map_to_permissions_through_the_configured_map() {
    let config = config_with(json!({ "roles_claim": "roles", "role_permissions": { "auditor": ["read:user-list"] } }));
    let state = signed_in_with(json!({ "roles": ["auditor"] }));
    let (host, auth) = mount_with(config, state, nav_links);
    until_counts(&host, &[("users-link", 1), ("no-users", 0), ("projects-link", 0)]).await;

    // A role the map does not name grants nothing.
    auth.state.set(signed_in_with(json!({ "roles": ["viewer"] })));
    until_counts(&host, &[("no-users", 1), ("users-link", 0), ("projects-link", 0)]).await;
}

/// Opens the inspector and waits for its panel.
async fn open_inspector(host: &web_sys::HtmlElement) {
    until_counts(host, &[("inspector-toggle", 1)]).await;
    element::<web_sys::HtmlElement>(host, "[data-testid='inspector-toggle']").click();
    until_counts(host, &[("inspector", 1)]).await;
}

#[wasm_bindgen_test]
async fn the_inspector_shows_the_source_the_warnings_and_each_guard() {
    let claim = json!(["read:project-list", 42, "read:project-list"]);
    let (host, auth) = mount(session(claim), || {
        view! {
            <Can perm=Permission::ReadUserList label="probe: Users">
                <i data-testid="users"></i>
            </Can>
            <Inspector />
        }
    });
    open_inspector(&host).await;
    until_counts(&host, &[("inspector-warning", 2)]).await;
    let source = text(&host, "inspector-source");
    assert!(source.contains(PERMISSIONS_CLAIM), "the source names the claim: {source}");
    let warnings = text(&host, "inspector");
    assert!(warnings.contains("skipped 1 entries that are not non-empty strings"), "{warnings}");
    assert!(warnings.contains("removed 1 duplicate"), "{warnings}");
    assert_eq!(text(&host, "inspector-permissions"), "read:project-list");
    let guard = text(&host, "inspector-guard");
    assert!(guard.contains("probe: Users") && guard.contains("hidden: needs read:user-list"), "{guard}");

    // A clean claim: the permissions change, and the warnings go.
    auth.state.set(session(json!(["read:project-list", "read:user-list"])));
    until_counts(&host, &[("users", 1), ("inspector-warning", 0)]).await;
    until("the inspector to follow the new claim", || {
        text(&host, "inspector-permissions") == "read:project-list, read:user-list"
    })
    .await;
    assert!(text(&host, "inspector-guard").ends_with("shown"), "{}", text(&host, "inspector-guard"));
}

/// A role catalogue as the API writes it.
fn catalog(editable: bool) -> RoleCatalog {
    let managed_by = if editable { "api" } else { "provider" };
    let mut body = json!({
        "editable": editable,
        "managed_by": managed_by,
        "roles": [
            { "name": "admin", "description": "everything" },
            { "name": "viewer", "description": "reads" },
        ],
    });
    if !editable {
        body["reason"] = json!("Roles are managed at the identity provider; change them there.");
    }
    serde_json::from_value(body).unwrap()
}

#[wasm_bindgen_test]
async fn role_toggles_are_disabled_with_the_reason_when_the_catalogue_is_not_editable() {
    let user = UserWithRoles {
        id: 7,
        username: "james".into(),
        name: "James".into(),
        email: "james@example.com".into(),
        roles: vec!["viewer".into()],
    };
    let roles = RwSignal::new(Some(catalog(false)));
    let changes = RwSignal::new(Vec::<(String, SetRoles)>::new());
    let on_change = Callback::new(move |(user, roles): (UserWithRoles, SetRoles)| {
        changes.update(|c| c.push((user.username, roles)));
    });
    let (host, _auth) = mount(session(json!(["read:user-list", "update:user-roles"])), move || {
        view! {
            <RolesNote catalog=roles />
            <table><tbody><UserRow user catalog=roles on_change /></tbody></table>
        }
    });
    until_counts(&host, &[("roles-external", 1), ("role-admin", 1), ("role-viewer", 1)]).await;
    let note = text(&host, "roles-external");
    assert!(note.contains("managed at the identity provider"), "{note}");
    for role in ["admin", "viewer"] {
        let toggle: web_sys::HtmlInputElement = element(&host, &format!("[data-testid='role-{role}']"));
        assert!(toggle.disabled(), "role-{role} is not disabled");
        assert_eq!(toggle.get_attribute("aria-describedby").as_deref(), Some("roles-external"), "role-{role}");
    }
    let viewer: web_sys::HtmlInputElement = element(&host, "[data-testid='role-viewer']");
    assert!(viewer.checked(), "the user's own role is shown checked");

    // Editable roles: the toggles work, and the note goes.
    roles.set(Some(catalog(true)));
    until("the toggles to be enabled", || {
        count(&host, "roles-external") == 0
            && !element::<web_sys::HtmlInputElement>(&host, "[data-testid='role-admin']").disabled()
    })
    .await;
    let admin: web_sys::HtmlInputElement = element(&host, "[data-testid='role-admin']");
    assert_eq!(admin.get_attribute("aria-describedby"), None);
    admin.click();
    until("the role change", || !changes.get_untracked().is_empty()).await;
    let (username, set) = changes.get_untracked().remove(0);
    assert_eq!(username, "james");
    assert_eq!(set.roles, ["viewer", "admin"]);
}

#[wasm_bindgen_test]
async fn a_link_navigates_without_a_reload_and_back_returns() {
    let window = web_sys::window().unwrap();
    let start = format!("{}{}", window.location().pathname().unwrap(), window.location().search().unwrap());
    // A full page load would lose this marker.
    js_sys::Reflect::set(&window, &"linkTestMarker".into(), &true.into()).unwrap();
    let (host, _auth) = mount(session(json!([])), || {
        let location = use_location();
        let here = move || format!("{}{}", location.path.get(), location.search.get());
        view! {
            <Link href="/projects" testid="link">"Projects"</Link>
            <span data-testid="here">{here}</span>
        }
    });
    until("the page's location", || text(&host, "here") == start).await;
    let link = element::<web_sys::HtmlElement>(&host, "[data-testid='link']");
    assert!(link.get_attribute("aria-current").is_none(), "not current before the click");

    link.click();
    until("the link's location", || text(&host, "here") == "/projects").await;
    assert_eq!(window.location().pathname().unwrap(), "/projects");
    assert_eq!(link.get_attribute("aria-current").as_deref(), Some("page"));
    assert!(js_sys::Reflect::get(&window, &"linkTestMarker".into()).unwrap().is_truthy(), "the page reloaded");

    // Back is followed too.
    window.history().unwrap().back().unwrap();
    until("the location after Back", || text(&host, "here") == start).await;
    assert!(link.get_attribute("aria-current").is_none());
}
