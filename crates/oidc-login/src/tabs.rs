//! Tells the app's other tabs about sign-in and sign-out (BroadcastChannel).

use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::json::{self, Fields};

/// A message between tabs. Never carries a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabMessage {
    /// Someone signed in (or renewed the session) in another tab.
    SignedIn,
    /// Someone signed out in another tab: sign out here too.
    SignedOut,
}

impl TabMessage {
    /// The message's `type`.
    fn name(self) -> &'static str {
        match self {
            TabMessage::SignedIn => "signed-in",
            TabMessage::SignedOut => "signed-out",
        }
    }

    /// The message as posted: `{"type":"signed-in"}`.
    pub fn to_json(self) -> String {
        json::to_string(&json::object([("type", Value::String(self.name().to_owned()))]))
    }

    /// The message `text` is, if it is one.
    pub fn parse(text: &str) -> Option<TabMessage> {
        let message = json::parse(text).ok()?;
        let kind = Fields::of(&message).ok()?.string("type").ok()?;
        [TabMessage::SignedIn, TabMessage::SignedOut].into_iter().find(|m| m.name() == kind)
    }
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
                && let Some(message) = TabMessage::parse(&text)
            {
                on_message(message);
            }
        });
        self.channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        self._listener = Some(listener);
    }

    /// Tells the other tabs.
    pub fn post(&self, message: TabMessage) {
        let _ = self.channel.post_message(&JsValue::from_str(&message.to_json()));
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_and_nothing_else_is_one() {
        for message in [TabMessage::SignedIn, TabMessage::SignedOut] {
            assert_eq!(TabMessage::parse(&message.to_json()), Some(message));
        }
        assert_eq!(TabMessage::SignedOut.to_json(), r#"{"type":"signed-out"}"#);
        for other in ["", "{}", r#"{"type":"signed-up"}"#, r#"{"type":1}"#, r#"["signed-in"]"#] {
            assert_eq!(TabMessage::parse(other), None, "{other}");
        }
    }
}
