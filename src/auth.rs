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
//!
//! A reload of a tab that was signed in does not wait for the refresh: it
//! mounts at once in [`AuthState::Resuming`], rendering from the claims of
//! the last ID token this tab verified, and start-up runs behind it; its
//! verdict (the refreshed session, signed out, or the error) replaces that
//! state. API requests wait for the verdict ([`Auth::api_credentials`]).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use contract::routes;
use leptos::prelude::*;
use oidc_login::client::CallbackResult;
use oidc_login::tabs::{TabChannel, TabMessage};
use oidc_login::{
    ApiCredentials, ClientSettings, HistoryEntry, LoginError, OidcClient, Prompt, RememberedClaims, Session, browser,
};
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::chunk;
use crate::split::ChunkError;

/// Where authentication stands.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthState {
    /// Not known yet (start-up, or a sign-in under way).
    Pending,
    /// A reload of a signed-in tab, while the refresh that restores the
    /// session is in flight: signed in as the last ID token this tab
    /// verified says (its claims, unexpired). The UI may render from them —
    /// it only hides, the API decides — but there is no access token yet;
    /// the refresh's verdict replaces this state.
    Resuming(RememberedClaims),
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

    /// The claims the UI renders from: the session's ID token's, or while
    /// resuming, the remembered ones.
    pub fn claims(&self) -> Option<&Value> {
        match self {
            AuthState::SignedIn(session) => Some(&session.id_token.claims),
            AuthState::Resuming(remembered) => Some(&remembered.claims),
            _ => None,
        }
    }

    /// The signed-in user's name to show (also while resuming).
    pub fn user_name(&self) -> Option<&str> {
        match self {
            AuthState::SignedIn(session) => Some(session.id_token.display_name()),
            AuthState::Resuming(remembered) => Some(remembered.display_name()),
            _ => None,
        }
    }

    fn is_resuming(&self) -> bool {
        matches!(self, AuthState::Resuming(_))
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
    /// The tasks waiting for [`AuthState::Resuming`] to end.
    resume_waiters: StoredValue<Vec<Waker>, LocalStorage>,
    /// The last sign-out could not start: its code could not be downloaded
    /// (the user is still signed in, and may try again).
    pub sign_out_failed: RwSignal<bool>,
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
            resume_waiters: StoredValue::new_local(Vec::new()),
            sign_out_failed: RwSignal::new(false),
        }
    }

    /// Sets the state; every change of state here goes through this, so
    /// that whoever waits for a resume to end hears of it.
    fn set(self, state: AuthState) {
        let resuming = state.is_resuming();
        self.state.set(state);
        if !resuming {
            for waker in self.resume_waiters.try_update_value(std::mem::take).unwrap_or_default() {
                waker.wake();
            }
        }
    }

    /// Waits until the state is not [`AuthState::Resuming`] (at once when it is not).
    async fn resumed(self) {
        std::future::poll_fn(|cx| {
            if !self.state.with_untracked(AuthState::is_resuming) {
                return Poll::Ready(());
            }
            self.resume_waiters.update_value(|waiters| waiters.push(cx.waker().clone()));
            Poll::Pending
        })
        .await;
    }

    /// The discovered client, discovering the provider first when start-up
    /// could not.
    async fn client(self) -> Result<OidcClient, LoginError> {
        match self.client.get_value() {
            Some(client) => Ok(client),
            None => self.discover().await,
        }
    }

    /// Discovers the provider (from the remembered document while it lasts)
    /// and keeps the client.
    async fn discover(self) -> Result<OidcClient, LoginError> {
        self.keep_client(OidcClient::discover(self.settings.get_value()).await)
    }

    /// Discovers the provider again, asking it past every cache: after it
    /// could not be reached, its answer shows it is back.
    async fn rediscover(self) -> Result<OidcClient, LoginError> {
        self.keep_client(OidcClient::rediscover(self.settings.get_value()).await)
    }

    fn keep_client(self, discovered: Result<OidcClient, LoginError>) -> Result<OidcClient, LoginError> {
        let client = discovered?;
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
    /// start becomes the `Failed` state. Its code is a chunk of its own
    /// ([`user_sign_in_code`]), fetched at the first click.
    pub fn sign_in(self, return_to: String) {
        leptos::task::spawn_local(async move {
            match user_sign_in_code().await {
                Ok(sign_in) => sign_in(self, return_to).await,
                Err(ChunkError) => self.set(AuthState::Failed(not_downloaded())),
            }
        });
    }

    /// [`sign_in`](Self::sign_in), once its chunk is in.
    async fn user_sign_in(self, return_to: String) {
        let unreachable = self.state.with_untracked(|s| matches!(s, AuthState::Failed(LoginError::Network(_))));
        let client = match self.client.get_value() {
            Some(client) if !unreachable => client,
            _ => match self.start_again().await {
                Some(client) => client,
                None => return,
            },
        };
        if let Err(err) = sign_in(&client, &return_to, Prompt::Default, HistoryEntry::Keep).await {
            self.set(AuthState::Failed(err));
        }
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
        self.set(AuthState::Pending);
        let restored = match self.rediscover().await {
            Ok(client) => client.restore().await.map(|session| (client, session)),
            Err(err) => Err(err),
        };
        match restored {
            Ok((client, None)) => Some(client),
            Ok((_, Some(session))) => {
                self.set(AuthState::SignedIn(session));
                None
            }
            Err(err) => {
                self.set(AuthState::Failed(err));
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
        self.set(AuthState::Pending);
        leptos::task::spawn_local(async move {
            if let Err(err) = sign_in(&client, &return_to, Prompt::Default, HistoryEntry::Replace).await {
                self.set(AuthState::Failed(err));
            }
        });
        true
    }

    /// Signs out here, in the app's other tabs, and at the provider. While
    /// resuming it first waits for the refresh's verdict: the provider's
    /// session is ended with the refreshed ID token, and the refresh token
    /// that refresh stores is the one revoked.
    ///
    /// The calls to the provider are code in a chunk, fetched first: until
    /// it is in, nothing is forgotten, so a download that fails leaves the
    /// user signed in, told so ([`sign_out_failed`](Self::sign_out_failed)),
    /// and able to try again; never signed out here while the provider's
    /// session lives on, which a guarded route would silently resume.
    pub fn sign_out(self) {
        if self.state.with_untracked(AuthState::is_resuming) {
            leptos::task::spawn_local(async move {
                self.resumed().await;
                self.sign_out();
            });
            return;
        }
        // Never discovered: there is no provider session to end.
        let Some(client) = self.client.get_value() else { return self.end_local_session() };
        leptos::task::spawn_local(async move {
            let Ok(sign_out) = sign_out_code().await else {
                self.sign_out_failed.set(true);
                return;
            };
            self.sign_out_failed.set(false);
            // Signed out meanwhile, in another tab.
            if self.state.with_untracked(|s| matches!(s, AuthState::SignedOut)) {
                return;
            }
            let session = self.state.with_untracked(|s| s.session().cloned());
            self.end_local_session();
            if let Err(err) = sign_out(&client, session.as_ref()).await {
                self.set(AuthState::Failed(err));
            }
        });
    }

    /// The signed-out state here and in the app's other tabs, with automatic
    /// sign-ins paused.
    fn end_local_session(self) {
        self.auto_sign_in.set(AutoSignIn::PausedBySignOut);
        self.set(AuthState::SignedOut);
        self.tell_other_tabs(TabMessage::SignedOut);
    }

    /// What an API request `method` to `url` carries (the access token, and
    /// a DPoP proof for this request when the token is bound to a key), when
    /// signed in, once a resume has its verdict: a request made while the UI
    /// renders from remembered claims waits for the refreshed session rather
    /// than go without a token.
    pub async fn api_credentials(self, method: &str, url: &str) -> Option<Result<ApiCredentials, LoginError>> {
        self.resumed().await;
        let session = self.state.with_untracked(|s| s.session().cloned())?;
        Some(session.api_credentials(method, url).await)
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
                    self.set(AuthState::SignedIn(session));
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
                self.set(AuthState::Failed(err));
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
                self.set(AuthState::SignedOut);
            }
            // While resuming, the refresh under way picks up what the other
            // tab stored (it waits for the same lock).
            TabMessage::SignedIn if self.state.with_untracked(|s| s.session().is_none() && !s.is_resuming()) => {
                leptos::task::spawn_local(async move {
                    // Discovery too, when this tab's start-up could not reach
                    // the provider: the other tab just did.
                    let Ok(client) = self.client().await else { return };
                    if let Ok(Some(session)) = client.restore().await {
                        self.auto_sign_in.set(AutoSignIn::Allowed);
                        self.set(AuthState::SignedIn(session));
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
///
/// A reload of a tab that was signed in (this tab remembers the claims of
/// an unexpired ID token it verified, for the user whose refresh token is
/// still stored) is ready at once, [`AuthState::Resuming`], and the rest of
/// start-up runs behind it ([`Auth::resume`]).
pub async fn start(settings: ClientSettings) -> Startup {
    let on_callback = browser::window().is_ok_and(|w| w.location().pathname().is_ok_and(|p| p == routes::CALLBACK));
    let remembered = (!on_callback).then(|| OidcClient::remembered_claims(&settings)).flatten();
    let auth = Auth::new(AuthState::Pending, settings);
    if let Some(claims) = remembered {
        auth.set(AuthState::Resuming(claims));
        // On the browser's own queue: start-up may run before the app is
        // mounted, when Leptos' executor is not set up yet.
        wasm_bindgen_futures::spawn_local(auth.resume());
        return Startup::Ready(auth, Arrival::Settled);
    }
    let (state, arrival) = match settle(auth).await {
        Some(settled) => settled,
        None => return Startup::Redirecting,
    };
    auth.set(state);
    Startup::Ready(auth, arrival)
}

impl Auth {
    /// The rest of start-up behind [`AuthState::Resuming`]: its verdict
    /// replaces the remembered claims — the refreshed session, signed out,
    /// or the error (the login module forgets the claims unless the session
    /// was restored). When a silent sign-in takes the browser to the
    /// provider, the app shows nothing signed in meanwhile.
    async fn resume(self) {
        let settled = settle(self).await;
        if !self.state.with_untracked(AuthState::is_resuming) {
            // Another tab signed out meanwhile (nothing else leaves this
            // state): what the refresh stored goes too.
            if let (Some((AuthState::SignedIn(_), _)), Some(client)) = (&settled, self.client.get_value()) {
                client.forget_local_session();
            }
            return;
        }
        let state = settled.map_or(AuthState::Pending, |(state, _)| state);
        if state.session().is_none() {
            // The login module forgets them when a restore fails; this also
            // covers a provider that could not be discovered at all.
            self.settings.with_value(OidcClient::forget_remembered_claims);
        }
        self.set(state);
    }
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
    match sign_in(&client, &here, Prompt::None, HistoryEntry::Keep).await {
        Ok(()) => None,
        Err(err) => Some((AuthState::Failed(err), Arrival::Settled)),
    }
}

/// Finishes the sign-in this callback URL answers, and drops the code and
/// state from the address bar and from history, so Back or a reload never
/// replays them.
async fn finish_sign_in(client: &OidcClient, query: &str) -> (AuthState, Arrival) {
    let result = match callback_code().await {
        Ok(complete_sign_in) => complete_sign_in(client, query).await,
        Err(ChunkError) => {
            let _ = browser::replace_url(routes::CALLBACK);
            return (AuthState::Failed(not_downloaded()), Arrival::Settled);
        }
    };
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

/// What the sign-in code of a chunk answers, borrowing its arguments.
type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// [`OidcClient::sign_in`]: sends the browser to the provider.
type SignInCode = for<'a> fn(&'a OidcClient, &'a str, Prompt, HistoryEntry) -> Pending<'a, Result<(), LoginError>>;

/// [`Auth::sign_in`]: "Sign in" and "Try again".
type UserSignInCode = fn(Auth, String) -> Pending<'static, ()>;

chunk! {
    /// "Sign in" and "Try again" (start-up again when the provider could
    /// not be reached, then the redirect), in a chunk: a signed-in load
    /// offers neither.
    fn user_sign_in_code() -> UserSignInCode {
        Ok(|auth, return_to| Box::pin(auth.user_sign_in(return_to)))
    }
}

/// [`OidcClient::complete_sign_in`]: redeems the callback's code.
type CallbackCode = for<'a> fn(&'a OidcClient, &'a str) -> Pending<'a, CallbackResult>;

chunk! {
    /// The redirect to the provider (PKCE, the attempt's record, the
    /// authorization request), in a chunk: a signed-in load never runs it.
    fn sign_in_code() -> SignInCode {
        Ok(|client, return_to, prompt, history| Box::pin(client.sign_in(return_to, prompt, history)))
    }
}

chunk! {
    /// The callback's half of a sign-in (its query, the attempt, the code
    /// exchange), in a chunk: only `/callback` runs it.
    fn callback_code() -> CallbackCode {
        Ok(|client, query| Box::pin(client.complete_sign_in(query)))
    }
}

/// Starts fetching the callback's chunk, at start-up on `/callback`: beside
/// `/config.json` and discovery, so that the code exchange need not wait
/// for it. A chunk is fetched once however often it is asked for:
/// [`finish_sign_in`]'s own call joins this load.
pub fn preload_callback_code() {
    // On the browser's own queue: this runs before the app is mounted.
    wasm_bindgen_futures::spawn_local(async {
        // A failure is the callback's to report, when it asks again.
        let _ = callback_code().await;
    });
}

/// [`OidcClient::sign_out`]: revokes the refresh token and ends the
/// provider's session.
type SignOutCode = for<'a> fn(&'a OidcClient, Option<&'a Session>) -> Pending<'a, Result<(), LoginError>>;

chunk! {
    /// Sign-out's calls to the provider (the revocation, the end-session
    /// form), in a chunk: most page loads never sign out.
    fn sign_out_code() -> SignOutCode {
        Ok(|client, session| Box::pin(client.sign_out(session)))
    }
}

/// A chunk of the sign-in's code could not be fetched: a network failure,
/// which "Try again" retries.
fn not_downloaded() -> LoginError {
    LoginError::Network("the sign-in code could not be downloaded".into())
}

/// Sends the browser to the provider, once the sign-in's chunk is in.
async fn sign_in(
    client: &OidcClient,
    return_to: &str,
    prompt: Prompt,
    history: HistoryEntry,
) -> Result<(), LoginError> {
    let sign_in = sign_in_code().await.map_err(|ChunkError| not_downloaded())?;
    sign_in(client, return_to, prompt, history).await
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    //! Resuming, in Chromium: a reload of a signed-in tab mounts at once from
    //! the remembered claims without waiting for the provider, the verdict
    //! replaces them, and API requests wait for it.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::cell::RefCell;

    use oidc_login::id_token::IdToken;
    use oidc_login::{claims_cache, refresh};
    use serde_json::json;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// Settings of a client of its own, for a provider nobody answers for (port 9 of loopback).
    fn settings(client_id: &str) -> ClientSettings {
        let origin = browser::origin().unwrap();
        ClientSettings::for_origin(&origin, "http://127.0.0.1:9/resume-test".to_owned(), client_id.to_owned())
    }

    fn claims() -> Value {
        json!({ "sub": "u1", "name": "Jhon Smith", "https://ns/permissions": ["read:user-list"] })
    }

    /// A tab that signed in as u1 before this reload: its refresh token and its remembered claims, as the
    /// login module stores them.
    fn signed_in_before(settings: &ClientSettings) {
        let local = web_sys::window().unwrap().local_storage().unwrap().unwrap();
        local.set_item(&refresh::storage_key(&settings.client_id), r#"{"refresh_token":"rt","subject":"u1"}"#).unwrap();
        let kept = json!({
            "issuer": settings.issuer, "subject": "u1", "expires_at": browser::now_seconds() + 600, "claims": claims(),
        });
        let session = web_sys::window().unwrap().session_storage().unwrap().unwrap();
        session.set_item(&claims_cache::storage_key(&settings.client_id), &kept.to_string()).unwrap();
    }

    /// Lets the browser run other tasks for a moment.
    async fn tick() {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10).unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
    }

    async fn wait_until(what: &str, condition: impl Fn() -> bool) {
        let deadline = js_sys::Date::now() + 10_000.0;
        while !condition() {
            assert!(js_sys::Date::now() < deadline, "timed out waiting until {what}");
            tick().await;
        }
    }

    #[wasm_bindgen_test]
    async fn a_reload_mounts_at_once_from_the_remembered_claims_and_the_verdict_replaces_them() {
        let settings = settings("resume-start");
        signed_in_before(&settings);
        let Startup::Ready(auth, Arrival::Settled) = start(settings.clone()).await else {
            panic!("a resume must mount the app")
        };
        // Mounted before the provider was asked anything.
        auth.state.with_untracked(|s| {
            assert!(s.is_resuming(), "{s:?}");
            assert_eq!(s.user_name(), Some("Jhon Smith"));
            assert_eq!(s.claims(), Some(&claims()));
            // Nor a token: API requests read theirs from the session (`api_credentials`).
            assert!(s.session().is_none(), "a remembered claim set is not a session");
        });
        // The provider cannot be reached: the verdict is that error, and the claims are forgotten.
        wait_until("the verdict", || auth.state.with_untracked(|s| !s.is_resuming())).await;
        auth.state.with_untracked(|s| assert!(matches!(s, AuthState::Failed(LoginError::Network(_))), "{s:?}"));
        assert_eq!(OidcClient::remembered_claims(&settings), None);
        let session = web_sys::window().unwrap().session_storage().unwrap().unwrap();
        assert_eq!(session.get_item(&claims_cache::storage_key(&settings.client_id)).unwrap(), None);
        let local = web_sys::window().unwrap().local_storage().unwrap().unwrap();
        local.remove_item(&refresh::storage_key(&settings.client_id)).unwrap();
    }

    #[wasm_bindgen_test]
    async fn without_remembered_claims_start_up_waits_for_the_provider() {
        let settings = settings("resume-none");
        let Startup::Ready(auth, Arrival::Settled) = start(settings).await else { panic!("start-up must mount") };
        auth.state.with_untracked(|s| assert!(matches!(s, AuthState::Failed(LoginError::Network(_))), "{s:?}"));
    }

    #[wasm_bindgen_test]
    async fn api_requests_wait_for_the_verdict() {
        let remembered = RememberedClaims { claims: claims(), subject: "u1".into(), expires_at: i64::MAX };
        let auth = Auth::new(AuthState::Resuming(remembered), settings("resume-wait"));
        let token: Rc<RefCell<Option<Option<String>>>> = Rc::default();
        let seen = token.clone();
        wasm_bindgen_futures::spawn_local(async move {
            *seen.borrow_mut() = Some(bearer(auth).await);
        });
        for _ in 0..5 {
            tick().await;
        }
        assert_eq!(*token.borrow(), None, "the request went ahead while resuming");
        let id_token = IdToken { raw: "h.p.s".into(), claims: claims(), subject: "u1".into(), expires_at: i64::MAX };
        auth.set(AuthState::SignedIn(Session {
            id_token,
            access_token: "at".into(),
            access_token_received_at: 0,
            access_token_expires_at: i64::MAX,
            dpop: None,
        }));
        wait_until("the request to have its token", || token.borrow().is_some()).await;
        assert_eq!(*token.borrow(), Some(Some("Bearer at".to_owned())));
        // Outside a resume nothing waits.
        assert_eq!(bearer(auth).await.as_deref(), Some("Bearer at"));
        auth.set(AuthState::SignedOut);
        assert_eq!(bearer(auth).await, None);
    }

    /// The `Authorization` header of a request made now.
    async fn bearer(auth: Auth) -> Option<String> {
        auth.api_credentials("GET", "/api/v1/projects").await.map(|c| c.unwrap().authorization)
    }
}
