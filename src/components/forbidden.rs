//! The Forbidden view, shown in place by the route guard: the user is signed
//! in but lacks the permission. Never a sign-in loop.

use leptos::prelude::*;
use permissions::Permission;

use crate::components::notice::Notice;
use crate::location::Link;

/// The Forbidden view.
#[component]
pub fn Forbidden(
    /// The permission the screen needs.
    needs: Permission,
) -> impl IntoView {
    view! {
        <Notice testid="forbidden" title="You don't have access to this page" alert=true>
            <p>
                "It needs the permission " <code>{needs.to_string()}</code>
                ", which your account does not hold. Ask an administrator if you need it."
            </p>
            <Link href=contract::routes::HOME>"Back to the home page"</Link>
        </Notice>
    }
}
