//! The sign-out confirmation: shown when a logout request cannot prove it
//! comes from the application this browser is signed in to (see
//! `endpoints::end_session`), so that another site cannot sign people out.

use axum::http::StatusCode;
use axum::response::Response;

use super::{document, escape, response};

/// The confirmation for the signed-in `name` (`username`). `hidden` are the
/// form's hidden fields; `return_origin` is where the confirmed sign-out
/// redirects to, if anywhere (it must be allowed by CSP).
pub(crate) fn confirm_sign_out_page(
    name: &str,
    username: &str,
    hidden: &[(&str, &str)],
    return_origin: Option<&str>,
) -> Response {
    let mut main = format!(
        "<h1 data-testid=\"sign-out-confirmation\">Sign out of the development provider?</h1>\
         <p>You are signed in as <strong>{}</strong> (<span class=\"username\">{}</span>). \
         Something asked to sign you out without showing that it is the application you signed in to.</p>\
         <form method=\"post\" action=\"logout\">",
        escape(name),
        escape(username),
    );
    for (field, value) in hidden {
        main.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(field), escape(value)));
    }
    main.push_str(
        "<button type=\"submit\" class=\"cancel\" data-testid=\"confirm-sign-out\">Sign out</button></form>\
         <p>If you did not ask to sign out, close this tab: you stay signed in.</p>",
    );
    let targets: Vec<&str> = return_origin.into_iter().collect();
    let targets = if targets.is_empty() { vec!["'self'"] } else { targets };
    response(StatusCode::OK, document("Sign out?", &main), &targets)
}
