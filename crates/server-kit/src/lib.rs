//! Process plumbing shared by the servers (`api` and `dev-idp`): graceful
//! shutdown, and the span each request is logged under.
//!
//! Only what both binaries need and neither owns lives here; anything about
//! tokens, tables or HTTP routes belongs to the crate that serves it.

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what process managers and the
/// e2e harness send), for `axum::serve(..).with_graceful_shutdown(..)`.
///
/// A signal that cannot be listened for is logged and never resolves, so a
/// missing handler cannot stop the server by itself.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

/// Query parameters whose values are credentials: logged as `[redacted]`.
/// The authorization code, the ID token sent as `id_token_hint` to the
/// provider's logout, and the token parameters of RFC 6749 and RFC 6750 (a
/// client may put them in a query, however wrongly).
const CREDENTIAL_PARAMETERS: [&str; 7] =
    ["code", "id_token_hint", "access_token", "refresh_token", "id_token", "client_secret", "code_verifier"];

/// The span of one HTTP request, for tower-http's `TraceLayer`
/// (`.make_span_with(server_kit::request_span)`): tower-http's own span
/// (same target, name and fields, so `RUST_LOG=tower_http=debug` and the
/// tools that read the lines keep working), with the URI's credentials
/// redacted ([`redacted_uri`]).
///
/// tower-http's default span records the whole URI, and queries carry
/// credentials by design: the authorization code on a redirect URI, the ID
/// token as `id_token_hint` on the provider's logout. No token may reach a
/// log line (the e2e layer greps the logs for them). Headers
/// (`Authorization`, cookies) and bodies are never logged.
pub fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        target: "tower_http::trace::make_span",
        "request",
        method = %request.method(),
        uri = %redacted_uri(request.uri()),
        version = ?request.version(),
    )
}

/// `uri` with the value of every [`CREDENTIAL_PARAMETERS`] member of its
/// query replaced by `[redacted]`; the rest, order included, as it came.
pub fn redacted_uri(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else { return uri.path().to_owned() };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if CREDENTIAL_PARAMETERS.contains(&name) => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_query_are_redacted_and_the_rest_kept() {
        let uri = |s: &str| s.parse::<axum::http::Uri>().unwrap();
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
        assert_eq!(
            redacted_uri(&uri(&format!("/v2/logout?id_token_hint={jwt}&client_id=spa&post_logout_redirect_uri=x"))),
            "/v2/logout?id_token_hint=[redacted]&client_id=spa&post_logout_redirect_uri=x"
        );
        assert_eq!(
            redacted_uri(&uri("/callback?code=abc123&state=s&iss=i")),
            "/callback?code=[redacted]&state=s&iss=i"
        );
        assert_eq!(
            redacted_uri(&uri("/authorize?response_type=code&code_challenge=c&state=s")),
            "/authorize?response_type=code&code_challenge=c&state=s",
            "`response_type=code` and `code_challenge` are no credentials"
        );
        assert_eq!(
            redacted_uri(&uri("/x?access_token=t&refresh_token=r&a")),
            "/x?access_token=[redacted]&refresh_token=[redacted]&a"
        );
        assert_eq!(redacted_uri(&uri("/healthz")), "/healthz");
    }

    #[test]
    fn the_request_span_is_tower_http_s_with_the_uri_redacted() {
        use std::sync::{Arc, Mutex};
        use tracing::field::{Field, Visit};
        use tracing::span::{Attributes, Id, Record};
        use tracing::{Event, Metadata, Subscriber};

        /// Collects the target and every field value of the spans created while it is the default.
        struct Fields(Arc<Mutex<Vec<String>>>);
        struct Collect<'a>(&'a mut Vec<String>);
        impl Visit for Collect<'_> {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                self.0.push(format!("{}={value:?}", field.name()));
            }
        }
        impl Subscriber for Fields {
            fn enabled(&self, _: &Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, span: &Attributes<'_>) -> Id {
                let mut seen = self.0.lock().unwrap();
                seen.push(format!("target={}", span.metadata().target()));
                span.record(&mut Collect(&mut seen));
                Id::from_u64(1)
            }
            fn record(&self, _: &Id, _: &Record<'_>) {}
            fn record_follows_from(&self, _: &Id, _: &Id) {}
            fn event(&self, _: &Event<'_>) {}
            fn enter(&self, _: &Id) {}
            fn exit(&self, _: &Id) {}
        }

        let seen = Arc::new(Mutex::new(Vec::new()));
        let request =
            axum::http::Request::get("/v2/logout?id_token_hint=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln&x=1")
                .body(())
                .unwrap();
        tracing::subscriber::with_default(Fields(seen.clone()), || drop(request_span(&request)));
        let fields = seen.lock().unwrap().join(" ");
        assert!(fields.contains("target=tower_http::trace::make_span"), "{fields}");
        assert!(fields.contains("uri=/v2/logout?id_token_hint=[redacted]&x=1"), "{fields}");
        assert!(fields.contains("method=GET"), "{fields}");
        assert!(!fields.contains("eyJ"), "{fields}");
    }
}
