//! Shared views of work in progress: the grey rows of a loading list, and
//! the status line that announces what the last action did.

use leptos::prelude::*;

/// Where a user's action (create, delete, change roles) stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ActionStatus {
    /// Nothing done yet.
    #[default]
    Idle,
    /// Sent, no answer yet; the message says what is under way.
    Pending(String),
    /// Done; the message says what changed.
    Done(String),
    /// Refused or failed; the message says why.
    Failed(String),
}

impl ActionStatus {
    /// Whether an answer is awaited (to disable a second submit).
    pub fn is_pending(&self) -> bool {
        matches!(self, ActionStatus::Pending(_))
    }
}

/// The status of the last action, announced to assistive technology.
#[component]
pub fn StatusLine(
    /// The action's status; nothing shows while idle.
    #[prop(into)]
    status: Signal<ActionStatus>,
) -> impl IntoView {
    // One shape of message for every status, with the class saying which:
    // one view type to build and update rather than one per status.
    let message = move || {
        status.with(|status| match status {
            ActionStatus::Idle => None,
            ActionStatus::Pending(message) => Some(("muted", message.clone())),
            ActionStatus::Done(message) => Some(("", message.clone())),
            ActionStatus::Failed(message) => Some(("alert", message.clone())),
        })
    };
    view! {
        <p class="status-line" role="status" aria-live="polite">
            {move || message().map(|(class, message)| view! { <span class=class>{message}</span> })}
        </p>
    }
}

/// Grey rows while a list loads.
#[component]
pub fn Skeleton() -> impl IntoView {
    view! {
        <div class="skeleton" role="status" aria-live="polite" aria-label="Loading">
            {(0..5).map(|_| view! { <div class="skeleton-row"></div> }).collect_view()}
        </div>
    }
}
