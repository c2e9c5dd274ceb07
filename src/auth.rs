//! The SPA's side of the login module: the auth state every view reads, and
//! the actions that change it.
//!
//! [`AuthState`] lives in one signal, provided as context. It is the single
//! source of every auth change: the capability store derives from it, and so
//! do the header, the guards and the API client's token.

use leptos::prelude::*;
use oidc_login::{LoginError, OidcClient, Session, browser};

/// Where authentication stands.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthState {
    /// Not known yet (start-up, or a silent sign-in under way).
    Pending,
    /// Nobody is signed in.
    SignedOut,
    /// A user is signed in; the session's tokens are in memory only.
    SignedIn(Session),
    /// Signing in failed; shown in `auth-error` with a way to try again.
    Failed(LoginError),
}

impl AuthState {
    /// The session, when signed in.
    pub fn session(&self) -> Option<&Session> {
        match self {
            AuthState::SignedIn(session) => Some(session),
            _ => None,
        }
    }
}

/// The auth state and the client that changes it, provided as context.
#[derive(Clone, Copy)]
pub struct Auth {
    pub state: RwSignal<AuthState>,
    client: StoredValue<Option<OidcClient>>,
}

impl Auth {
    /// Makes the auth context for `state`; `client` is `None` when discovery failed.
    pub fn new(state: AuthState, client: Option<OidcClient>) -> Auth {
        Auth { state: RwSignal::new(state), client: StoredValue::new(client) }
    }

    /// Starts a sign-in that returns to `return_to`. A failure to even start
    /// (no WebCrypto, storage disabled) becomes the `Failed` state.
    pub fn sign_in(self, return_to: String) {
        let Some(client) = self.client.get_value() else { return };
        leptos::task::spawn_local(async move {
            if let Err(err) = client.sign_in(&return_to, None).await {
                self.state.set(AuthState::Failed(err));
            }
        });
    }

    /// Signs out here and at the provider.
    pub fn sign_out(self) {
        let session = self.state.with_untracked(|s| s.session().cloned());
        self.state.set(AuthState::SignedOut);
        if let Some(client) = self.client.get_value() {
            if let Err(err) = client.sign_out(session.as_ref()) {
                self.state.set(AuthState::Failed(err));
            }
        }
    }

    /// The access token to send to the API, when signed in. Not tracked:
    /// requests read it when they are made.
    pub fn access_token(self) -> Option<String> {
        self.state.with_untracked(|s| s.session().map(|s| s.access_token.clone()))
    }
}

/// Reads the auth context.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// What start-up decided.
pub enum Startup {
    /// Mount the app in this state.
    Ready(Auth),
    /// The browser is on its way to the provider (a silent sign-in).
    Redirecting,
}

/// Discovers the provider; finishes the sign-in when this page is the
/// callback; otherwise tries a silent sign-in when this browser signed in
/// before. Never redirects after a failure, so no loop is possible.
pub async fn start(settings: oidc_login::ClientSettings) -> Startup {
    let client = match OidcClient::discover(settings).await {
        Ok(client) => client,
        Err(err) => return Startup::Ready(Auth::new(AuthState::Failed(err), None)),
    };
    let Ok(location) = browser::window().map(|w| w.location()) else {
        return Startup::Ready(Auth::new(AuthState::SignedOut, Some(client)));
    };
    let path = location.pathname().unwrap_or_default();
    let search = location.search().unwrap_or_default();

    if path == crate::routes::CALLBACK {
        let result = client.complete_sign_in(&search).await;
        // Drop the code and state from the address bar and from history, so
        // Back or a reload never replays them.
        let state = match result.outcome {
            Ok(session) => {
                let _ = browser::replace_url(&result.return_to);
                AuthState::SignedIn(session)
            }
            Err(err) if result.silent && err.needs_interaction() => {
                // The provider session is gone: simply signed out.
                client.forget_session_hint();
                let _ = browser::replace_url(&result.return_to);
                AuthState::SignedOut
            }
            Err(err) => {
                let _ = browser::replace_url(crate::routes::CALLBACK);
                AuthState::Failed(err)
            }
        };
        return Startup::Ready(Auth::new(state, Some(client)));
    }

    if client.has_session_hint() {
        let here = format!("{path}{search}");
        return match client.sign_in(&here, Some("none")).await {
            Ok(()) => Startup::Redirecting,
            Err(err) => Startup::Ready(Auth::new(AuthState::Failed(err), Some(client))),
        };
    }
    Startup::Ready(Auth::new(AuthState::SignedOut, Some(client)))
}
