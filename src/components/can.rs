//! `<Can>`: renders its children by permission — shown, hidden, or shown
//! disabled with the reason.

use leptos::prelude::*;
use permissions::{Permission, Requirement};

use crate::capabilities::{Decision, use_capabilities};
use crate::components::inspector::register_guard;

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
    fallback: Option<ViewFn>,
    /// Shown while permissions are pending (nothing by default).
    #[prop(optional, into)]
    pending: Option<ViewFn>,
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
    // Shared with every element that asks the same requirement: a page of
    // thousands of `<Can>` follows a change in one pass (see the store).
    let decision = use_capabilities().decide(requirement.clone());
    let requirement = StoredValue::new(requirement);
    let reason = move |decision: Decision| requirement.with_value(|r| decision.reason(r));
    if let Some(label) = label {
        let needs = requirement.with_value(ToString::to_string);
        let refused = if disabled_with_reason { "disabled" } else { "hidden" };
        let verdict = Signal::derive(move || match decision.get() {
            Decision::Pending => "pending".to_owned(),
            Decision::Allowed => "shown".to_owned(),
            denied => format!("{refused}: {}", reason(denied).unwrap_or_default()),
        });
        register_guard(label, needs, verdict);
    }
    // `None` for "nothing": one placeholder node, where an empty view
    // would take two (its own and the type-erased view's), to create,
    // insert and remove again on every flip of a long list.
    move || match decision.get() {
        Decision::Pending => pending.as_ref().map(ViewFn::run),
        Decision::Allowed => Some(children()),
        denied if disabled_with_reason => Some(
            view! {
                <span class="can-disabled">
                    <fieldset disabled class="can-disabled-controls">{children()}</fieldset>
                    <small class="reason" data-testid="disabled-reason">{reason(denied)}</small>
                </span>
            }
            .into_any(),
        ),
        Decision::SignInFirst | Decision::Denied => fallback.as_ref().map(ViewFn::run),
    }
}
