//! The SPA's side of the login module: start-up, the auth state every view
//! reads, and the actions that change it.
//!
//! [`AuthState`] lives in one signal, provided as context. It is the single
//! source of every auth change: the capability store derives from it, and so
//! do the header, the guards and the API client's token. Everything that can
//! change it — sign-in, the refresh timer, a tab becoming visible again,
//! another tab signing in or out, an API 401 — goes through [`Auth`].
//!
//! Start-up ([`start`]) never redirects after a failure, so no loop is
//! possible; when it could not reach the provider at all, the next sign-in
//! ("Try again" in `auth-error`) runs it again before signing in.

use std::rc::Rc;
use std::time::Duration;

use contract::routes;
use leptos::prelude::*;
use oidc_login::tabs::{TabChannel, TabMessage};
use oidc_login::{ClientSettings, HistoryEntry, LoginError, OidcClient, Prompt, Session, browser};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// Where authentication stands.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthState {
    /// Not known yet (start-up, or a sign-in under way).
    Pending,
    /// Nobody is signed in.
    SignedOut,
    /// A user is signed in; the session's tokens are in memory only.
    SignedIn(Session),
    /// Signing in failed, or the session could not be renewed; shown in
    /// `auth-error` with a way to try again.
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

/// What start-up decided.
#[derive(Clone)]
pub enum Startup {
    /// Mount the app with this auth context, as start-up left it.
    Ready(Auth, Arrival),
    /// The browser is on its way to the provider (a silent sign-in); there
    /// is nothing to mount.
    Redirecting,
}

/// What this page load did to the session that the app's other tabs may
/// need to hear, once [`Auth::keep_alive`] has opened the tab channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// It finished a sign-in on `/callback`: the other tabs pick the new
    /// session up from the shared refresh token.
    CompletedSignIn,
    /// It restored a session, found none, or failed: nothing to tell.
    Settled,
}

/// Whether a guarded route visited signed out may start a sign-in by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AutoSignIn {
    /// It may (the usual case).
    Allowed,
    /// Not after a sign-out, here or in another tab, until someone signs in
    /// again: the provider session may still be alive for a moment, and an
    /// automatic sign-in would undo the sign-out.
    PausedBySignOut,
}

/// After a refresh failed for a passing reason (network), try again after this.
const REFRESH_RETRY: Duration = Duration::from_secs(20);

/// The auth state and the client that changes it, provided as context.
#[derive(Clone, Copy)]
pub struct Auth {
    /// Where authentication stands; every view derives from it.
    pub state: RwSignal<AuthState>,
    /// Whether a guarded route may start a sign-in by itself.
    auto_sign_in: RwSignal<AutoSignIn>,
    /// The provider as configured; kept to discover it again when start-up
    /// could not reach it.
    settings: StoredValue<ClientSettings, LocalStorage>,
    /// The discovered provider; `None` until discovery succeeds.
    client: StoredValue<Option<OidcClient>, LocalStorage>,
    tabs: StoredValue<Option<Rc<TabChannel>>, LocalStorage>,
}

impl Auth {
    /// An auth context in `state` for the provider `settings` names, not
    /// discovered yet: [`start`] discovers it, or else the first sign-in does.
    pub fn new(state: AuthState, settings: ClientSettings) -> Auth {
        Auth {
            state: RwSignal::new(state),
            auto_sign_in: RwSignal::new(AutoSignIn::Allowed),
            settings: StoredValue::new_local(settings),
            client: StoredValue::new_local(None),
            tabs: StoredValue::new_local(None),
        }
    }

    /// The discovered client, discovering the provider first when start-up
    /// could not.
    async fn client(self) -> Result<OidcClient, LoginError> {
        match self.client.get_value() {
            Some(client) => Ok(client),
            None => self.discover().await,
        }
    }

    /// Fetches the provider's discovery document (again) and keeps the client.
    async fn discover(self) -> Result<OidcClient, LoginError> {
        let client = OidcClient::discover(self.settings.get_value()).await?;
        self.client.set_value(Some(client.clone()));
        Ok(client)
    }

    /// Starts a sign-in that returns to `return_to` (the user asked for it:
    /// "Sign in", or "Try again" after a failure). When the provider could
    /// not be reached (start-up never discovered it, or the last failure was
    /// a network one), this runs start-up again first — discovery, then the
    /// stored session — and only goes to the provider if it answered and
    /// nobody is signed in then; so "Try again" against a provider that is
    /// still down keeps the app on screen with the reason. A failure to even
    /// start becomes the `Failed` state.
    pub fn sign_in(self, return_to: String) {
        leptos::task::spawn_local(async move {
            let unreachable = self.state.with_untracked(|s| matches!(s, AuthState::Failed(LoginError::Network(_))));
            let client = match self.client.get_value() {
                Some(client) if !unreachable => client,
                _ => match self.start_again().await {
                    Some(client) => client,
                    None => return,
                },
            };
            if let Err(err) = client.sign_in(&return_to, Prompt::Default, HistoryEntry::Keep).await {
                self.state.set(AuthState::Failed(err));
            }
        });
    }

    /// Start-up again, after it could not reach the provider: `Pending`
    /// while it runs, then signed in (a stored session), `Failed` (the
    /// provider is still unreachable), or the client to sign in with.
    /// Discovery runs even with a client: it is what shows the provider is
    /// back before the browser is sent there.
    async fn start_again(self) -> Option<OidcClient> {
        // A retry is already under way (the banner's button was clicked twice).
        if self.state.with_untracked(|s| matches!(s, AuthState::Pending)) {
            return None;
        }
        self.state.set(AuthState::Pending);
        let restored = match self.discover().await {
            Ok(client) => client.restore().await.map(|session| (client, session)),
            Err(err) => Err(err),
        };
        match restored {
            Ok((client, None)) => Some(client),
            Ok((_, Some(session))) => {
                self.state.set(AuthState::SignedIn(session));
                None
            }
            Err(err) => {
                self.state.set(AuthState::Failed(err));
                None
            }
        }
    }

    /// Starts a sign-in by itself (a guarded route visited signed out),
    /// replacing the current history entry so Back does not return to the
    /// guarded URL and start it again.
    /// Returns whether it started one (it does not after a sign-out).
    pub fn sign_in_automatically(self, return_to: String) -> bool {
        if self.auto_sign_in.get_untracked() == AutoSignIn::PausedBySignOut {
            return false;
        }
        let Some(client) = self.client.get_value() else { return false };
        self.state.set(AuthState::Pending);
        leptos::task::spawn_local(async move {
            if let Err(err) = client.sign_in(&return_to, Prompt::Default, HistoryEntry::Replace).await {
                self.state.set(AuthState::Failed(err));
            }
        });
        true
    }

    /// Signs out here, in the app's other tabs, and at the provider.
    pub fn sign_out(self) {
        let session = self.state.with_untracked(|s| s.session().cloned());
        self.auto_sign_in.set(AutoSignIn::PausedBySignOut);
        self.state.set(AuthState::SignedOut);
        self.tell_other_tabs(TabMessage::SignedOut);
        let Some(client) = self.client.get_value() else { return };
        leptos::task::spawn_local(async move {
            if let Err(err) = client.sign_out(session.as_ref()).await {
                self.state.set(AuthState::Failed(err));
            }
        });
    }

    /// The access token to send to the API, when signed in. Not tracked:
    /// requests read it when they are made.
    pub fn access_token(self) -> Option<String> {
        self.state.with_untracked(|s| s.session().map(|s| s.access_token.clone()))
    }

    /// Renews the session now. `true` when a fresh session is in place; on a
    /// refused refresh the state becomes "session expired" (no redirect).
    pub async fn refresh(self) -> bool {
        let (Some(client), Some(current)) =
            (self.client.get_value(), self.state.with_untracked(|s| s.session().cloned()))
        else {
            return false;
        };
        match client.refresh(&current).await {
            Ok(session) => {
                // Another change (sign-out) may have happened while waiting.
                if self.state.with_untracked(|s| s.session().is_some()) {
                    self.state.set(AuthState::SignedIn(session));
                    return true;
                }
                false
            }
            Err(err @ LoginError::Network(_)) => {
                leptos::logging::warn!("session refresh failed, will retry: {err}");
                set_timeout(
                    move || {
                        leptos::task::spawn_local(async move {
                            self.refresh().await;
                        })
                    },
                    REFRESH_RETRY,
                );
                false
            }
            Err(err) => {
                self.state.set(AuthState::Failed(err));
                false
            }
        }
    }

    fn tell_other_tabs(self, message: TabMessage) {
        self.tabs.with_value(|tabs| {
            if let Some(tabs) = tabs {
                tabs.post(message);
            }
        });
    }

    /// Keeps the session alive and in step with the other tabs, for as long
    /// as the app runs: the refresh timer, the visibility check, and the
    /// tab channel, which then hears of `arrival`. Called once, under the
    /// app's reactive owner. Works before discovery too: a session that a
    /// retried start-up or another tab brings is kept alive the same way.
    pub fn keep_alive(self, arrival: Arrival) {
        // Renew shortly before the access token expires. The timer is reset
        // whenever the session changes.
        Effect::new(move |_| {
            let Some(renew_at) = self.state.with(|s| s.session().map(Session::renew_at)) else { return };
            let delay = (renew_at - browser::now_seconds()).max(0);
            let timer = set_timeout_with_handle(
                move || {
                    leptos::task::spawn_local(async move {
                        self.refresh().await;
                    })
                },
                Duration::from_secs(delay.unsigned_abs()),
            );
            if let Ok(timer) = timer {
                on_cleanup(move || timer.clear());
            }
        });

        // Timers are throttled or frozen in background tabs and during sleep:
        // re-check expiry when the tab is seen again.
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            let on_visible = Closure::<dyn FnMut()>::new(move || {
                let visible = web_sys::window()
                    .and_then(|w| w.document())
                    .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
                let due =
                    self.state.with_untracked(|s| s.session().is_some_and(|s| s.renew_at() <= browser::now_seconds()));
                if visible && due {
                    leptos::task::spawn_local(async move {
                        self.refresh().await;
                    });
                }
            });
            let _ = document.add_event_listener_with_callback("visibilitychange", on_visible.as_ref().unchecked_ref());
            // The listener lives as long as the page.
            on_visible.forget();
        }

        // Sign-in and sign-out in the app's other tabs.
        let client_id = self.settings.with_value(|s| s.client_id.clone());
        if let Some(mut channel) = TabChannel::open(&client_id) {
            channel.listen(move |message| self.hear(message));
            self.tabs.set_value(Some(Rc::new(channel)));
        }
        if arrival == Arrival::CompletedSignIn {
            self.tell_other_tabs(TabMessage::SignedIn);
        }
    }

    /// What another tab said.
    fn hear(self, message: TabMessage) {
        match message {
            TabMessage::SignedOut => {
                self.auto_sign_in.set(AutoSignIn::PausedBySignOut);
                // The other tab has already ended the session at the
                // provider; this only clears what this origin keeps.
                if let Some(client) = self.client.get_value() {
                    client.forget_local_session();
                }
                self.state.set(AuthState::SignedOut);
            }
            TabMessage::SignedIn if self.state.with_untracked(|s| s.session().is_none()) => {
                leptos::task::spawn_local(async move {
                    // Discovery too, when this tab's start-up could not reach
                    // the provider: the other tab just did.
                    let Ok(client) = self.client().await else { return };
                    if let Ok(Some(session)) = client.restore().await {
                        self.auto_sign_in.set(AutoSignIn::Allowed);
                        self.state.set(AuthState::SignedIn(session));
                    }
                });
            }
            TabMessage::SignedIn => {}
        }
    }
}

/// Reads the auth context.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// Discovers the provider; finishes the sign-in when this page is the
/// callback; otherwise restores the session from the refresh token, or tries
/// a silent sign-in when this browser signed in before. Never redirects after
/// a failure, so no loop is possible.
pub async fn start(settings: ClientSettings) -> Startup {
    let auth = Auth::new(AuthState::Pending, settings);
    let (state, arrival) = match settle(auth).await {
        Some(settled) => settled,
        None => return Startup::Redirecting,
    };
    auth.state.set(state);
    Startup::Ready(auth, arrival)
}

/// Start-up's decision for `auth`: the state to mount in, or `None` when the
/// browser is leaving for the provider.
async fn settle(auth: Auth) -> Option<(AuthState, Arrival)> {
    let Ok(location) = browser::window().map(|w| w.location()) else {
        return Some((AuthState::SignedOut, Arrival::Settled));
    };
    let path = location.pathname().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    let client = match auth.client().await {
        Ok(client) => client,
        Err(err) => {
            if path == routes::CALLBACK {
                // The code cannot be redeemed now: keep it out of history.
                let _ = browser::replace_url(routes::CALLBACK);
            }
            return Some((AuthState::Failed(err), Arrival::Settled));
        }
    };
    if path == routes::CALLBACK {
        return Some(finish_sign_in(&client, &search).await);
    }
    match client.restore().await {
        Ok(Some(session)) => return Some((AuthState::SignedIn(session), Arrival::Settled)),
        Ok(None) => {}
        Err(err) => return Some((AuthState::Failed(err), Arrival::Settled)),
    }
    if !client.has_session_hint() {
        return Some((AuthState::SignedOut, Arrival::Settled));
    }
    let here = format!("{path}{search}");
    match client.sign_in(&here, Prompt::None, HistoryEntry::Keep).await {
        Ok(()) => None,
        Err(err) => Some((AuthState::Failed(err), Arrival::Settled)),
    }
}

/// Finishes the sign-in this callback URL answers, and drops the code and
/// state from the address bar and from history, so Back or a reload never
/// replays them.
async fn finish_sign_in(client: &OidcClient, query: &str) -> (AuthState, Arrival) {
    let result = client.complete_sign_in(query).await;
    match result.outcome {
        Ok(session) => {
            let _ = browser::replace_url(&result.return_to);
            (AuthState::SignedIn(session), Arrival::CompletedSignIn)
        }
        // A callback that matches no attempt is most often Back or a
        // reload landing on an old callback URL (or the provider's SSO
        // answering a page from history). If this browser still holds a
        // session, that was harmless: carry on signed in.
        Err(LoginError::StateMismatch) if let Ok(Some(session)) = client.restore().await => {
            let _ = browser::replace_url(routes::HOME);
            (AuthState::SignedIn(session), Arrival::Settled)
        }
        Err(err) if result.prompt.is_silent() && err.needs_interaction() => {
            // The provider session is gone: simply signed out.
            client.forget_session_hint();
            let _ = browser::replace_url(&result.return_to);
            (AuthState::SignedOut, Arrival::Settled)
        }
        Err(err) => {
            let _ = browser::replace_url(routes::CALLBACK);
            (AuthState::Failed(err), Arrival::Settled)
        }
    }
}
