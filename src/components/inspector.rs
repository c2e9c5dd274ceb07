//! The permissions inspector: why the UI shows, hides or disables what it
//! does. A panel (closed by default) with the raw claim, the parsed
//! permissions and their source, the parser's warnings, and every guarded
//! element on the page with what it needs and its verdict.

use leptos::prelude::*;

use crate::capabilities::{CapabilityState, use_capabilities};
use crate::chunk;
use crate::components::chunk::{Chunk, LoadChunk};

/// One guarded element on the page.
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

/// The toggle button, and the panel while open. The panel is built when
/// opened and dropped when closed, so a closed inspector follows nothing;
/// its code is a chunk of its own, fetched the first time it opens.
#[component]
pub fn Inspector() -> impl IntoView {
    let open = RwSignal::new(false);
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
        {move || open.get().then(|| view! { <Chunk what="the permissions inspector" load=load_panel /> })}
    }
}

chunk! {
    /// The panel, in a chunk of its own: most loads never open it.
    fn inspector_panel() {
        Ok(|| view! { <InspectorPanel /> }.into_any())
    }
}

fn load_panel() -> LoadChunk {
    Box::pin(inspector_panel())
}

/// The panel. Its changing parts are text signals and plain lists rather
/// than `<Show>`, `<For>` and views swapped whole: each of those is
/// compiled anew for every view it holds, and the panel is rarely open.
#[component]
fn InspectorPanel() -> impl IntoView {
    let store = use_capabilities();
    let registry = expect_context::<InspectorRegistry>();
    let report = store.report;
    let source = Signal::derive(move || {
        report.with(|r| if r.source.is_empty() { "(none yet)".to_owned() } else { r.source.clone() })
    });
    let permissions = Signal::derive(move || {
        store.state.with(|state| match state {
            CapabilityState::Ready(caps) => caps.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
            CapabilityState::Pending => "(pending)".to_owned(),
            CapabilityState::Anonymous => "(signed out)".to_owned(),
        })
    });
    let raw = Signal::derive(move || report.with(|r| r.raw.clone().unwrap_or_else(|| "(none)".to_owned())));
    let no_warnings =
        move || report.with(|r| r.warnings.is_empty()).then(|| view! { <span class="muted">"none"</span> });
    let warnings = move || {
        report.with(|r| {
            let warning = |w: &String| view! { <li data-testid="inspector-warning">{w.clone()}</li> };
            r.warnings.iter().map(warning).collect_view()
        })
    };
    let guards = move || registry.entries.with(|entries| entries.iter().map(guard_row).collect_view());
    view! {
        <aside id="inspector" class="panel inspector" data-testid="inspector" aria-label="Permissions inspector">
            <h2>"Permissions inspector"</h2>
            <dl>
                <dt>"Source"</dt>
                <dd data-testid="inspector-source">{source}</dd>
                <dt>"Parsed permissions"</dt>
                <dd data-testid="inspector-permissions">{permissions}</dd>
                <dt>"Raw claim"</dt>
                <dd><pre>{raw}</pre></dd>
                <dt>"Warnings"</dt>
                <dd>{no_warnings}<ul>{warnings}</ul></dd>
            </dl>
            <h3>"Guarded on this page"</h3>
            <table class="table">
                <thead><tr><th>"Element"</th><th>"Needs"</th><th>"Verdict"</th></tr></thead>
                <tbody>{guards}</tbody>
            </table>
        </aside>
    }
}

/// One guarded element's row; its verdict follows the element's decision.
fn guard_row(entry: &GuardEntry) -> impl IntoView + use<> {
    view! {
        <tr data-testid="inspector-guard">
            <td>{entry.label.clone()}</td>
            <td><code>{entry.needs.clone()}</code></td>
            <td>{entry.verdict}</td>
        </tr>
    }
}
