//! `<Can>`: renders its children only when the user holds a permission.

use leptos::prelude::*;
use permissions::Permission;

use crate::capabilities::{CapabilityState, use_capabilities};

/// Shows `children` when the signed-in user holds `perm`, and `fallback`
/// otherwise. While permissions are pending nothing authorized renders.
#[component]
pub fn Can(
    /// The permission the children need.
    perm: Permission,
    /// What to show instead (nothing by default).
    #[prop(optional, into)]
    fallback: ViewFn,
    /// What the permission unlocks.
    children: ChildrenFn,
) -> impl IntoView {
    let store = use_capabilities();
    let allowed = Memo::new(move |_| store.state.with(|s| s.allows(&perm)));
    view! {
        <Show when=move || allowed.get() fallback=fallback>
            {children()}
        </Show>
    }
}

/// Whether the current user holds `perm`, as a reactive boolean.
pub fn use_can(perm: Permission) -> Signal<bool> {
    let store = use_capabilities();
    Signal::derive(move || store.state.with(|s: &CapabilityState| s.allows(&perm)))
}
