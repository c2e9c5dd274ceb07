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

/// The span of one HTTP request, for tower-http's `TraceLayer`
/// (`.make_span_with(server_kit::request_span)`): the method and the path,
/// never the query string.
///
/// tower-http's default span records the whole URI, and queries carry
/// credentials by design: the authorization code on `/callback`, the ID
/// token as `id_token_hint` on the provider's logout. No token may reach a
/// log line (the e2e layer greps the logs for them), so the query is left
/// out, as are the headers (`Authorization`, cookies).
pub fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_span_names_the_path_and_not_the_query() {
        use std::sync::{Arc, Mutex};
        use tracing::field::{Field, Visit};
        use tracing::span::{Attributes, Id, Record};
        use tracing::{Event, Metadata, Subscriber};

        /// Collects every field value of the spans created while it is the default.
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
                span.record(&mut Collect(&mut self.0.lock().unwrap()));
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
        assert!(fields.contains("path=/v2/logout"), "{fields}");
        assert!(fields.contains("method=GET"), "{fields}");
        assert!(!fields.contains("id_token_hint") && !fields.contains("eyJ"), "{fields}");
    }
}
