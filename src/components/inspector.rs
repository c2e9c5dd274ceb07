//! The permissions inspector: why the UI shows, hides or disables what it
//! does. A panel (closed by default) with the raw claim, the parsed
//! permissions and their source, the parser's warnings, and every guarded
//! element on the page with what it needs and its verdict.

use leptos::prelude::*;

use crate::capabilities::{CapabilityState, use_capabilities};

/// One guarded element on the page.
#[derive(Clone)]
struct GuardEntry {
    id: u64,
    label: String,
    needs: String,
    verdict: Signal<String>,
}

/// Where guarded elements register themselves while mounted.
#[derive(Clone, Copy)]
pub struct InspectorRegistry {
    entries: RwSignal<Vec<GuardEntry>>,
    next_id: StoredValue<u64>,
}

/// Provides an empty registry (once, in the app shell).
pub fn provide_inspector() {
    provide_context(InspectorRegistry { entries: RwSignal::new(Vec::new()), next_id: StoredValue::new(0) });
}

/// Lists a guarded element in the inspector while the calling component is
/// mounted. Does nothing where no registry is provided (isolated tests).
pub fn register_guard(label: String, needs: String, verdict: Signal<String>) {
    let Some(registry) = use_context::<InspectorRegistry>() else { return };
    let id = registry.next_id.get_value();
    registry.next_id.set_value(id + 1);
    registry.entries.update(|entries| entries.push(GuardEntry { id, label, needs, verdict }));
    on_cleanup(move || registry.entries.update(|entries| entries.retain(|e| e.id != id)));
}

/// The toggle button and the panel.
#[component]
pub fn Inspector() -> impl IntoView {
    let open = RwSignal::new(false);
    let store = use_capabilities();
    let registry = expect_context::<InspectorRegistry>();
    let permissions = move || match store.state.get() {
        CapabilityState::Ready(caps) => caps.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
        CapabilityState::Pending => "(pending)".to_owned(),
        CapabilityState::Anonymous => "(signed out)".to_owned(),
    };
    view! {
        <button
            class="button inspector-toggle"
            data-testid="inspector-toggle"
            aria-expanded=move || open.get().to_string()
            aria-controls="inspector"
            on:click=move |_| open.update(|o| *o = !*o)
        >
            "Permissions inspector"
        </button>
        <Show when=move || open.get()>
            <aside id="inspector" class="panel inspector" data-testid="inspector" aria-label="Permissions inspector">
                <h2>"Permissions inspector"</h2>
                <dl>
                    <dt>"Source"</dt>
                    <dd data-testid="inspector-source">
                        {move || { let s = store.report.get().source; if s.is_empty() { "(none yet)".to_owned() } else { s } }}
                    </dd>
                    <dt>"Parsed permissions"</dt>
                    <dd data-testid="inspector-permissions">{permissions}</dd>
                    <dt>"Raw claim"</dt>
                    <dd><pre>{move || store.report.get().raw.unwrap_or_else(|| "(none)".to_owned())}</pre></dd>
                    <dt>"Warnings"</dt>
                    <dd>
                        {move || {
                            let warnings = store.report.get().warnings;
                            if warnings.is_empty() {
                                view! { <span class="muted">"none"</span> }.into_any()
                            } else {
                                view! {
                                    <ul>{warnings.into_iter().map(|w| view! { <li data-testid="inspector-warning">{w}</li> }).collect_view()}</ul>
                                }
                                .into_any()
                            }
                        }}
                    </dd>
                </dl>
                <h3>"Guarded on this page"</h3>
                <table class="table">
                    <thead><tr><th>"Element"</th><th>"Needs"</th><th>"Verdict"</th></tr></thead>
                    <tbody>
                        <For each=move || registry.entries.get() key=|e| e.id let:entry>
                            <tr data-testid="inspector-guard">
                                <td>{entry.label.clone()}</td>
                                <td><code>{entry.needs.clone()}</code></td>
                                <td>{move || entry.verdict.get()}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </aside>
        </Show>
    }
}
