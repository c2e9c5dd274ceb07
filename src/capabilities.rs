//! The capability store: what the signed-in user may do, derived from the
//! auth state in one place.
//!
//! The permissions are read from the ID token's claim (named by
//! `permissions_claim`) with the shared parser of the `permissions` crate, the
//! same one the API uses. The store is a memo over the auth state, so a new
//! token (sign-in, refresh, another tab) updates every `<Can>` and guard
//! without a reload.

use leptos::prelude::*;
use permissions::{Capabilities, ClaimPath, ClaimWarning, Permission};

use crate::auth::{AuthState, use_auth};

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
    pub fn allows(&self, permission: &Permission) -> bool {
        matches!(self, CapabilityState::Ready(caps) if caps.has(permission))
    }
}

/// The store, provided as context.
#[derive(Clone, Copy)]
pub struct CapabilityStore {
    /// The current state.
    pub state: Memo<CapabilityState>,
    /// What the claim parser ignored, for the inspector and the console.
    pub warnings: Memo<Vec<ClaimWarning>>,
}

/// Derives the store from the auth context and provides it.
pub fn provide_capabilities(claim: ClaimPath) -> CapabilityStore {
    let auth = use_auth();
    let parsed = Memo::new(move |_| {
        auth.state.with(|state| match state {
            AuthState::Pending => None,
            AuthState::SignedIn(session) => Some(Capabilities::from_claims(&session.id_token.claims, &claim)),
            AuthState::SignedOut | AuthState::Failed(_) => Some(Default::default()),
        })
    });
    let state = Memo::new(move |_| {
        auth.state.with(|auth_state| match (auth_state, parsed.get()) {
            (AuthState::Pending, _) | (_, None) => CapabilityState::Pending,
            (AuthState::SignedIn(_), Some(parsed)) => CapabilityState::Ready(parsed.capabilities),
            _ => CapabilityState::Anonymous,
        })
    });
    let warnings = Memo::new(move |_| parsed.get().map(|p| p.warnings).unwrap_or_default());
    Effect::new(move |_| {
        for warning in warnings.get() {
            leptos::logging::warn!("permissions: {warning}");
        }
    });
    let store = CapabilityStore { state, warnings };
    provide_context(store);
    store
}

/// The capability store of the current app.
pub fn use_capabilities() -> CapabilityStore {
    expect_context::<CapabilityStore>()
}
