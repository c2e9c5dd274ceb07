//! The "signed out" page, for a logout with nowhere registered to return to.

use axum::http::StatusCode;
use axum::response::Response;

use super::{document, escape, response};

/// The page shown after a logout whose `post_logout_redirect_uri` is
/// missing or not registered (`unregistered` names the refused one).
pub(crate) fn signed_out_page(unregistered: Option<&str>) -> Response {
    let note = match unregistered {
        Some(uri) => format!(
            "<p class=\"error\">The post_logout_redirect_uri {} is not registered, so you stay here.</p>",
            escape(&format!("{uri:?}"))
        ),
        None => String::new(),
    };
    let main = format!(
        "<h1 data-testid=\"signed-out\">You are signed out</h1>\
         <p>Your development-provider session has ended. You can close this tab.</p>{note}"
    );
    response(StatusCode::OK, document("Signed out", &main), &[])
}
