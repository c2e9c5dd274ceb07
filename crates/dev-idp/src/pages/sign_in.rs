//! The sign-in page: one button per demo user, and a cancel button.
//!
//! There are no passwords; choosing a user is signing in as them. The page
//! carries the authorization request in hidden fields, which the POST
//! handler re-validates in full (and the CSRF token binds).

use axum::http::StatusCode;
use axum::response::Response;

use super::{document, escape, response};

/// A user as the page offers them.
#[derive(Debug, Clone)]
pub(crate) struct UserChoice {
    pub(crate) username: String,
    pub(crate) name: String,
    pub(crate) roles: Vec<String>,
}

/// The sign-in page. `hidden` are the form's hidden fields; `client_origin`
/// is where the form's response redirects to (it must be allowed by CSP).
pub(crate) fn sign_in_page(users: &[UserChoice], hidden: &[(&str, &str)], client_origin: &str) -> Response {
    let mut main = String::from(
        "<h1>Sign in to permission-spa</h1>\
         <p>Choose a demo user. There is no password: this provider exists only for local \
         development and automated tests.</p><form method=\"post\" action=\"authorize\">",
    );
    for (name, value) in hidden {
        main.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value)));
    }
    main.push_str("<ul class=\"users\">");
    for user in users {
        let roles = if user.roles.is_empty() { "no roles".to_owned() } else { user.roles.join(", ") };
        main.push_str(&format!(
            "<li><button type=\"submit\" class=\"user\" name=\"username\" value=\"{username}\" \
             data-testid=\"signin-{username}\"><span class=\"name\">{name}</span>\
             <span class=\"username\">{username}</span><span class=\"roles\">{roles}</span></button></li>",
            username = escape(&user.username),
            name = escape(&user.name),
            roles = escape(&roles),
        ));
    }
    main.push_str(
        "</ul><button type=\"submit\" class=\"cancel\" name=\"cancel\" value=\"1\" \
         data-testid=\"signin-cancel\">Cancel</button></form>",
    );
    response(StatusCode::OK, document("Sign in", &main), &[client_origin])
}
