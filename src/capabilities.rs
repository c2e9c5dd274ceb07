//! The capability store: what the signed-in user may do, derived from the
//! auth state in one place.
//!
//! The permissions come from the source `/config.json` names: the ID
//! token's permissions claim, its roles claim through the operator's role
//! map, or the API (`GET {api_base}/me/capabilities`). Claims are read with
//! the shared parser of the `permissions` crate, the one the API uses. The
//! store is derived from the auth state, so a new token (sign-in, refresh,
//! another tab) updates every `<Can>` and guard without a reload.

use leptos::prelude::*;
use permissions::{Capabilities, ParsedCapabilities, merge};
use serde_json::Value;

use crate::api;
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
    /// Whether the user holds `permission` (false unless ready).
    pub fn allows(&self, permission: &permissions::Permission) -> bool {
        matches!(self, CapabilityState::Ready(caps) if caps.has(permission))
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

/// What one reading produced: the permissions, and the report.
type Reading = Option<(ParsedCapabilities, CapabilityReport)>;

/// Derives the store from the auth context and the configured source, and
/// provides it.
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
            let token = Memo::new(move |_| auth.state.with(|s| s.session().map(|s| s.access_token.clone())));
            let config = config.clone();
            let fetched = LocalResource::new(move || {
                let config = config.clone();
                let signed_in = token.get().is_some();
                async move {
                    if !signed_in {
                        return None;
                    }
                    let url = format!("{}/me/capabilities", config.api_base);
                    Some(match api::get_capabilities(auth, &config).await {
                        Ok((parsed, raw)) => {
                            let report = CapabilityReport {
                                source: format!("the API ({url})"),
                                raw: Some(raw),
                                warnings: parsed.warnings.iter().map(ToString::to_string).collect(),
                            };
                            (parsed, report)
                        }
                        // Deny by default: signed in, but nothing granted.
                        Err(err) => (
                            ParsedCapabilities::default(),
                            CapabilityReport {
                                source: format!("the API ({url})"),
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
