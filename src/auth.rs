//! The SPA's side of the login module: the auth state every view reads, and
//! the actions that change it.
//!
//! [`AuthState`] lives in one signal, provided as context. It is the single
//! source of every auth change: the capability store derives from it, and so
//! do the header, the guards and the API client's token. Everything that can
//! change it — sign-in, the refresh timer, a tab becoming visible again,
//! another tab signing in or out, an API 401 — goes through [`Auth`].

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use oidc_login::tabs::{TabChannel, TabMessage};
use oidc_login::{LoginError, OidcClient, Session, browser};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// Where authentication stands.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthState {
    /// Not known yet (start-up, or a silent sign-in under way).
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

/// After a refresh failed for a passing reason (network), try again after this.
const REFRESH_RETRY: Duration = Duration::from_secs(20);

/// The auth state and the client that changes it, provided as context.
#[derive(Clone, Copy)]
pub struct Auth {
    pub state: RwSignal<AuthState>,
    /// Whether a guarded route may start a sign-in by itself. Off after a
    /// sign-out (here or in another tab): the provider session may still be
    /// alive for a moment, and an automatic sign-in would undo the sign-out.
    auto_sign_in: RwSignal<bool>,
    client: StoredValue<Option<OidcClient>, LocalStorage>,
    tabs: StoredValue<Option<Rc<TabChannel>>, LocalStorage>,
}

impl Auth {
    /// Makes the auth context for `state`; `client` is `None` when discovery failed.
    pub fn new(state: AuthState, client: Option<OidcClient>) -> Auth {
        Auth {
            state: RwSignal::new(state),
            auto_sign_in: RwSignal::new(true),
            client: StoredValue::new_local(client),
            tabs: StoredValue::new_local(None),
        }
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

    /// Starts a sign-in by itself (a guarded route visited signed out),
    /// replacing the current history entry so Back does not return to the
    /// guarded URL and start it again.
    /// Returns whether it started one (it does not after a sign-out).
    pub fn sign_in_automatically(self, return_to: String) -> bool {
        if !self.auto_sign_in.get_untracked() {
            return false;
        }
        let Some(client) = self.client.get_value() else { return false };
        self.state.set(AuthState::Pending);
        leptos::task::spawn_local(async move {
            if let Err(err) = client.sign_in_with(&return_to, None, true).await {
                self.state.set(AuthState::Failed(err));
            }
        });
        true
    }

    /// Signs out here, in the app's other tabs, and at the provider.
    pub fn sign_out(self) {
        let session = self.state.with_untracked(|s| s.session().cloned());
        self.auto_sign_in.set(false);
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
    /// tab channel. Called once, under the app's reactive owner.
    pub fn keep_alive(self) {
        let Some(client) = self.client.get_value() else { return };

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
                Duration::from_secs(delay as u64),
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
        if let Some(mut channel) = TabChannel::open(&client.settings().client_id) {
            let client = client.clone();
            channel.listen(move |message| match message {
                TabMessage::SignedOut => {
                    self.auto_sign_in.set(false);
                    client.forget_local_session();
                    self.state.set(AuthState::SignedOut);
                }
                TabMessage::SignedIn => {
                    if self.state.with_untracked(|s| s.session().is_none()) {
                        let client = client.clone();
                        leptos::task::spawn_local(async move {
                            if let Ok(Some(session)) = client.restore().await {
                                self.auto_sign_in.set(true);
                                self.state.set(AuthState::SignedIn(session));
                            }
                        });
                    }
                }
            });
            self.tabs.set_value(Some(Rc::new(channel)));
        }
        if self.state.with_untracked(|s| s.session().is_some()) && just_signed_in() {
            self.tell_other_tabs(TabMessage::SignedIn);
        }
    }
}

/// Whether this page load finished an interactive sign-in (so other tabs
/// should hear of it). Set by [`start`].
fn just_signed_in() -> bool {
    JUST_SIGNED_IN.with(|flag| flag.replace(false))
}

thread_local! {
    static JUST_SIGNED_IN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
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
/// callback; otherwise restores the session from the refresh token, or tries
/// a silent sign-in when this browser signed in before. Never redirects after
/// a failure, so no loop is possible.
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
                JUST_SIGNED_IN.with(|flag| flag.set(true));
                AuthState::SignedIn(session)
            }
            // A callback that matches no attempt is most often Back or a
            // reload landing on an old callback URL (or the provider's SSO
            // answering a page from history). If this browser still holds a
            // session, that was harmless: carry on signed in.
            Err(LoginError::StateMismatch) if let Ok(Some(session)) = client.restore().await => {
                let _ = browser::replace_url("/");
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

    match client.restore().await {
        Ok(Some(session)) => return Startup::Ready(Auth::new(AuthState::SignedIn(session), Some(client))),
        Ok(None) => {}
        Err(err) => return Startup::Ready(Auth::new(AuthState::Failed(err), Some(client))),
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
