//! `<Can>`: renders its children by permission — shown, hidden, or shown
//! disabled with the reason.

use leptos::prelude::*;
use permissions::{Permission, Requirement};

use crate::capabilities::{CapabilityState, use_capabilities};
use crate::components::inspector::register_guard;

/// What `<Can>` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Pending,
    Allowed,
    Denied(String),
}

/// Shows `children` when the signed-in user meets the requirement made of
/// `perm`, `all_of`, `any_of` and `not`; otherwise `fallback` (or, with
/// `disabled_with_reason`, the children disabled beside the reason). While
/// permissions are pending only `pending` renders, so nothing authorized
/// flashes before the permissions are known.
#[component]
pub fn Can(
    /// One permission the children need.
    #[prop(optional, into)]
    perm: Option<Permission>,
    /// Every one of these is needed.
    #[prop(optional)]
    all_of: Vec<Permission>,
    /// At least one of these is needed.
    #[prop(optional)]
    any_of: Vec<Permission>,
    /// Invert the requirement: show the children to those who do *not* meet it.
    #[prop(optional)]
    not: bool,
    /// Shown when the requirement is not met (nothing by default).
    #[prop(optional, into)]
    fallback: ViewFn,
    /// Shown while permissions are pending (nothing by default).
    #[prop(optional, into)]
    pending: ViewFn,
    /// Instead of hiding the children, render them disabled with a visible
    /// reason (for actions the user should know exist).
    #[prop(optional)]
    disabled_with_reason: bool,
    /// A name for the permissions inspector (unlisted when absent).
    #[prop(optional, into)]
    label: Option<String>,
    /// What the requirement unlocks.
    children: ChildrenFn,
) -> impl IntoView {
    let mut requirement = Requirement { all_of, any_of, negate: not };
    requirement.all_of.extend(perm);
    let needs = requirement.to_string();
    let store = use_capabilities();
    let decision = Memo::new(move |_| {
        store.state.with(|state| match state {
            CapabilityState::Pending => Decision::Pending,
            CapabilityState::Anonymous => Decision::Denied("sign in first".to_owned()),
            CapabilityState::Ready(caps) if requirement.is_met_by(caps) => Decision::Allowed,
            CapabilityState::Ready(_) => Decision::Denied(requirement.to_string()),
        })
    });
    if let Some(label) = label {
        let verdict = Signal::derive(move || match decision.get() {
            Decision::Pending => "pending".to_owned(),
            Decision::Allowed => "shown".to_owned(),
            Decision::Denied(why) if disabled_with_reason => format!("disabled: {why}"),
            Decision::Denied(why) => format!("hidden: {why}"),
        });
        register_guard(label, needs, verdict);
    }
    move || match decision.get() {
        Decision::Pending => pending.run(),
        Decision::Allowed => children().into_any(),
        Decision::Denied(reason) if disabled_with_reason => view! {
            <span class="can-disabled">
                <fieldset disabled class="can-disabled-controls">{children()}</fieldset>
                <small class="reason" data-testid="disabled-reason">{reason}</small>
            </span>
        }
        .into_any(),
        Decision::Denied(_) => fallback.run(),
    }
}

/// Whether the current user holds `perm`, as a reactive boolean.
pub fn use_can(perm: Permission) -> Signal<bool> {
    let store = use_capabilities();
    Signal::derive(move || store.state.with(|s| s.allows(&perm)))
}
