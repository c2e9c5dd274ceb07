//! The capability store: what the signed-in user may do, derived from the
//! auth state in one place.
//!
//! The permissions come from the source `/config.json` names: the ID
//! token's permissions claim, its roles claim through the operator's role
//! map, or the API (`GET {api_base}/me/capabilities`). Claims are read with
//! the shared parser of the `permissions` crate, the one the API uses. The
//! store is derived from the auth state, so a new token (sign-in, refresh,
//! another tab) updates every `<Can>` and guard without a reload.
//!
//! It also decides, for `<Can>` and the route guard alike, what a
//! requirement comes to ([`Decision`]), so the two cannot disagree.

use contract::api as paths;
use leptos::prelude::*;
use permissions::{Capabilities, ClaimPath, ParsedCapabilities, Requirement, merge};
use serde_json::Value;

use crate::api::use_api;
use crate::auth::{AuthState, use_auth};
use crate::config::{AppConfig, CapabilitySource};

/// What the UI knows about the user's permissions.
#[derive(Debug, Clone, PartialEq)]
pub enum CapabilityState {
    /// Not known yet: show nothing that needs a permission.
    Pending,
    /// Nobody is signed in.
    Anonymous,
    /// The signed-in user's permissions.
    Ready(Capabilities),
}

impl CapabilityState {
    /// What `requirement` comes to in this state.
    pub fn decide(&self, requirement: &Requirement) -> Decision {
        match self {
            CapabilityState::Pending => Decision::Pending,
            CapabilityState::Anonymous => Decision::SignInFirst,
            CapabilityState::Ready(caps) if requirement.is_met_by(caps) => Decision::Allowed,
            CapabilityState::Ready(_) => Decision::Denied,
        }
    }
}

/// What a guarded element does about its requirement: one type for `<Can>`
/// and the route guard, which differ only in how they show a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The permissions are not known yet: render nothing authorized.
    Pending,
    /// Nobody is signed in.
    SignInFirst,
    /// The signed-in user meets the requirement.
    Allowed,
    /// The signed-in user does not meet the requirement.
    Denied,
}

impl Decision {
    /// Why the element is refused, in words (`None` unless refused).
    pub fn reason(self, requirement: &Requirement) -> Option<String> {
        match self {
            Decision::Pending | Decision::Allowed => None,
            Decision::SignInFirst => Some("sign in first".to_owned()),
            Decision::Denied => Some(requirement.to_string()),
        }
    }
}

/// Where the permissions came from and what was ignored, for the inspector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CapabilityReport {
    /// The source, in words (`ID token claim "…"`).
    pub source: String,
    /// The raw value(s) read, as pretty JSON.
    pub raw: Option<String>,
    /// What the parser ignored or could not read.
    pub warnings: Vec<String>,
}

/// The store, provided as context.
#[derive(Clone, Copy)]
pub struct CapabilityStore {
    /// The current state.
    pub state: Memo<CapabilityState>,
    /// How the state was derived.
    pub report: Memo<CapabilityReport>,
}

impl CapabilityStore {
    /// The decision on `requirement`, following the state.
    pub fn decide(self, requirement: Requirement) -> Memo<Decision> {
        let state = self.state;
        Memo::new(move |_| state.with(|state| state.decide(&requirement)))
    }
}

/// What one reading produced: the permissions, and the report.
type Reading = Option<(ParsedCapabilities, CapabilityReport)>;

/// Derives the store from the auth context and the configured source, and
/// provides it. With `capabilities_source: "api"` it asks the API client,
/// which must be provided first ([`crate::api::provide_api`]).
pub fn provide_capabilities(config: AppConfig) -> CapabilityStore {
    let auth = use_auth();
    let reading: Signal<Reading> = match config.capabilities.clone() {
        CapabilitySource::IdToken { permissions_claim, roles } => {
            let memo = Memo::new(move |_| {
                auth.state.with(|state| {
                    let claims = &state.session()?.id_token.claims;
                    let mut parsed = ParsedCapabilities::default();
                    let mut raw = serde_json::Map::new();
                    let mut sources = Vec::new();
                    if let Some(path) = &permissions_claim {
                        parsed = merge(parsed, Capabilities::from_claims(claims, path));
                        raw.insert(path.to_string(), path.lookup(claims).cloned().unwrap_or(Value::Null));
                        sources.push(format!("ID-token claim \"{path}\""));
                    }
                    if let Some((path, map)) = &roles {
                        parsed = merge(parsed, map.capabilities(claims, path));
                        raw.insert(path.to_string(), path.lookup(claims).cloned().unwrap_or(Value::Null));
                        sources.push(format!("roles in ID-token claim \"{path}\" through role_permissions"));
                    }
                    let report = CapabilityReport {
                        source: sources.join(" + "),
                        raw: serde_json::to_string_pretty(&Value::Object(raw)).ok(),
                        warnings: parsed.warnings.iter().map(ToString::to_string).collect(),
                    };
                    Some((parsed, report))
                })
            });
            memo.into()
        }
        CapabilitySource::Api => {
            let api = use_api();
            let token = Memo::new(move |_| auth.state.with(|s| s.session().map(|s| s.access_token.clone())));
            let fetched = LocalResource::new(move || {
                let signed_in = token.get().is_some();
                async move {
                    if !signed_in {
                        return None;
                    }
                    let source = format!("the API ({})", api.url(paths::CAPABILITIES));
                    Some(match api.capabilities().await {
                        Ok(me) => {
                            // The API's list, read again with the shared parser:
                            // bounded, de-duplicated, unknown names kept as such.
                            let listed = serde_json::json!({ "permissions": me.permissions });
                            let parsed = Capabilities::from_claims(&listed, &ClaimPath::Claim("permissions".into()));
                            let warnings =
                                me.warnings.iter().cloned().chain(parsed.warnings.iter().map(ToString::to_string));
                            let report = CapabilityReport {
                                source: format!("{source}, access-token claim \"{}\"", me.source),
                                raw: serde_json::to_string_pretty(&me).ok(),
                                warnings: warnings.collect(),
                            };
                            (parsed, report)
                        }
                        // Deny by default: signed in, but nothing granted.
                        Err(err) => (
                            ParsedCapabilities::default(),
                            CapabilityReport {
                                source,
                                raw: None,
                                warnings: vec![format!("could not load permissions: {err}")],
                            },
                        ),
                    })
                }
            });
            Signal::derive(move || fetched.get().flatten())
        }
    };
    let state = Memo::new(move |_| {
        auth.state.with(|auth_state| match auth_state {
            AuthState::Pending => CapabilityState::Pending,
            AuthState::SignedIn(_) => match reading.get() {
                Some((parsed, _)) => CapabilityState::Ready(parsed.capabilities),
                None => CapabilityState::Pending,
            },
            AuthState::SignedOut | AuthState::Failed(_) => CapabilityState::Anonymous,
        })
    });
    let report = Memo::new(move |_| reading.get().map(|(_, report)| report).unwrap_or_default());
    Effect::new(move |_| {
        for warning in report.get().warnings {
            leptos::logging::warn!("permissions: {warning}");
        }
    });
    let store = CapabilityStore { state, report };
    provide_context(store);
    store
}

/// The capability store of the current app.
pub fn use_capabilities() -> CapabilityStore {
    expect_context::<CapabilityStore>()
}
