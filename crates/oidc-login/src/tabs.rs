//! Tells the app's other tabs about sign-in and sign-out (BroadcastChannel).

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// A message between tabs. Never carries a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum TabMessage {
    /// Someone signed in (or renewed the session) in another tab.
    SignedIn,
    /// Someone signed out in another tab: sign out here too.
    SignedOut,
}

/// A BroadcastChannel per client. Other tabs receive what one posts; the
/// poster itself does not.
pub struct TabChannel {
    channel: web_sys::BroadcastChannel,
    // Kept alive as long as the channel listens.
    _listener: Option<Closure<dyn FnMut(web_sys::MessageEvent)>>,
}

impl TabChannel {
    /// Opens the channel of `client_id`; `None` where BroadcastChannel is
    /// unavailable (then tabs simply don't hear each other).
    pub fn open(client_id: &str) -> Option<TabChannel> {
        let channel = web_sys::BroadcastChannel::new(&format!("oidc-login.{client_id}")).ok()?;
        Some(TabChannel { channel, _listener: None })
    }

    /// Calls `on_message` for each well-formed message; others are ignored.
    pub fn listen(&mut self, mut on_message: impl FnMut(TabMessage) + 'static) {
        let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(message) = serde_json::from_str::<TabMessage>(&text)
            {
                on_message(message);
            }
        });
        self.channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        self._listener = Some(listener);
    }

    /// Tells the other tabs.
    pub fn post(&self, message: TabMessage) {
        if let Ok(text) = serde_json::to_string(&message) {
            let _ = self.channel.post_message(&JsValue::from_str(&text));
        }
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
