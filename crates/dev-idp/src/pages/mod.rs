//! The pages the provider shows people: the shared HTML shell and the
//! headers that keep every page from being framed, sniffed or cached, the
//! error page, and one module per other page.

mod confirm_sign_out;
mod sign_in;
mod signed_out;

pub(crate) use confirm_sign_out::confirm_sign_out_page;
pub(crate) use sign_in::{UserChoice, sign_in_page};
pub(crate) use signed_out::signed_out_page;

use std::sync::LazyLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// The one stylesheet, inline so the pages load nothing from anywhere.
const STYLE: &str = "\
:root{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;background:#f6f8fa}\
body{margin:0}\
.banner{background:#b42318;color:#fff;font-weight:700;text-align:center;padding:.75rem 1rem;letter-spacing:.02em}\
main{max-width:40rem;margin:2rem auto;padding:0 1rem}\
h1{font-size:1.5rem;margin:0 0 .5rem}\
p{line-height:1.5}\
.users{list-style:none;padding:0;margin:1.5rem 0;display:grid;gap:.5rem}\
.user{width:100%;display:grid;grid-template-columns:1fr auto;gap:.15rem 1rem;text-align:left;padding:.75rem 1rem;\
border:1px solid #d0d7de;border-radius:.5rem;background:#fff;font:inherit;cursor:pointer}\
.user:hover,.user:focus{border-color:#0969da;outline:2px solid #0969da33}\
.name{font-weight:600}\
.username{color:#57606a;font-family:ui-monospace,monospace}\
.roles{grid-column:2;grid-row:1/span 2;align-self:center;color:#57606a;font-size:.875rem}\
.cancel{font:inherit;padding:.5rem 1rem;border:1px solid #d0d7de;border-radius:.5rem;background:#fff;cursor:pointer}\
.error{border-left:4px solid #b42318;background:#fff;padding:.75rem 1rem}\
a{color:#0969da}";

/// The CSP source for [`STYLE`]: its hash, so no other inline style runs.
static STYLE_SOURCE: LazyLock<String> =
    LazyLock::new(|| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(STYLE.as_bytes()))));

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole document: the development-only banner, then `main_html`
/// (which the caller has escaped).
pub(crate) fn document(title: &str, main_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} · dev-idp</title><style>{STYLE}</style></head>\
         <body><div class=\"banner\" role=\"alert\" data-testid=\"dev-idp-banner\">\
         Development only — do not use in production</div><main>{main_html}</main></body></html>\n",
        title = escape(title),
    )
}

/// A page response. `form_targets` are the origins a form on the page may
/// submit to besides the provider itself (`'self'` alone lets a page post
/// to the provider only; none means no form at all); browsers apply
/// `form-action` to the redirect that follows a submission too, so the
/// sign-in page must list the client's origin.
pub(crate) fn response(status: StatusCode, html: String, form_targets: &[&str]) -> Response {
    let form_action = if form_targets.is_empty() {
        "'none'".to_owned()
    } else {
        let mut sources = vec!["'self'"];
        for target in form_targets {
            if !sources.contains(target) {
                sources.push(target);
            }
        }
        sources.join(" ")
    };
    let csp = format!(
        "default-src 'none'; style-src {}; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        *STYLE_SOURCE
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // Origins were validated as URL origins, so the header value is ASCII;
    // if it somehow were not, the fallback still forbids framing.
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")),
    );
    headers.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    headers.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page explaining an error, with nowhere to submit anything.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let main = format!(
        "<h1>{}</h1><p class=\"error\" data-testid=\"error-message\">{}</p>\
         <p>Return to the application and start again.</p>",
        escape(title),
        escape(message)
    );
    response(status, document(title, &main), &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn pages_cannot_be_framed() {
        let response = error_page(StatusCode::BAD_REQUEST, "Oops", "<script>");
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY");
        let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'none'"), "{csp}");
    }
}
