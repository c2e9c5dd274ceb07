//! The Forbidden view, shown in place on a guarded route: the user is signed
//! in but lacks the permission. Never a sign-in loop.

use leptos::prelude::*;
use leptos_router::components::A;
use permissions::Permission;

/// The Forbidden view.
#[component]
pub fn ForbiddenScreen(
    /// The permission the screen needs.
    needs: Permission,
) -> impl IntoView {
    view! {
        <section class="panel center" data-testid="forbidden" role="alert">
            <h1>"You don't have access to this page"</h1>
            <p>
                "It needs the permission " <code>{needs.to_string()}</code>
                ", which your account does not hold. Ask an administrator if you need it."
            </p>
            <A href="/">"Back to the home page"</A>
        </section>
    }
}
