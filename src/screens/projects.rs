//! The Project List (needs `read:project-list`; the route guard checks it,
//! and the API checks it again). "New project" needs `create:project` and
//! each row's "Delete" needs `delete:project`; the API enforces both.

use leptos::prelude::*;
use permissions::Permission;

use crate::api::{self, NewProject, Project};
use crate::auth::use_auth;
use crate::components::can::Can;
use crate::components::pager::{PagedList, Pager, StatusLine, use_paged_list};
use crate::config::AppConfig;
use crate::routes;

/// The Project List screen.
#[component]
pub fn ProjectsScreen() -> impl IntoView {
    let auth = use_auth();
    let config = expect_context::<AppConfig>();
    let PagedList { items: projects, page, total, version } = use_paged_list::<Project>("/projects");
    let status = RwSignal::new(None::<Result<String, String>>);
    let creating = RwSignal::new(false);
    let delete_config = config.clone();
    let on_delete = Callback::new(move |project: Project| {
        let config = delete_config.clone();
        leptos::task::spawn_local(async move {
            match api::delete_project(auth, &config, project.id).await {
                Ok(()) => {
                    status.set(Some(Ok(format!("Deleted “{}”.", project.name))));
                    version.update(|v| *v += 1);
                }
                Err(err) => status.set(Some(Err(format!("Could not delete “{}”: {err}", project.name)))),
            }
        });
    });
    let on_created = Callback::new(move |project: Project| {
        creating.set(false);
        status.set(Some(Ok(format!("Created “{}”.", project.name))));
        version.update(|v| *v += 1);
    });
    view! {
        <section class="panel" data-testid="page-projects">
            <div class="section-head">
                <h1>"Projects"</h1>
                <Can perm=Permission::CreateProject disabled_with_reason=true label="action: New project">
                    <button
                        class="button primary"
                        data-testid="project-create"
                        aria-expanded=move || creating.get().to_string()
                        on:click=move |_| creating.update(|c| *c = !*c)
                    >
                        "New project"
                    </button>
                </Can>
            </div>
            <Show when=move || creating.get()>
                <NewProjectForm config=config.clone() on_created=on_created />
            </Show>
            <StatusLine status=status />
            {move || match projects.get() {
                None => view! { <Skeleton /> }.into_any(),
                Some(Err(err)) => view! { <p class="alert" role="alert">{err.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p class="muted">"No projects here yet."</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="table">
                        <thead>
                            <tr>
                                <th>"Name"</th><th>"Description"</th><th>"Status"</th><th>"Owner"</th><th>"Created"</th>
                                <th><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.items.into_iter().map(|p| view! { <ProjectRow project=p on_delete=on_delete /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
            <Pager base=routes::PROJECTS page=page total=total />
        </section>
    }
}

/// One row, with its Delete action (asks for confirmation in place).
#[component]
fn ProjectRow(
    /// The project.
    project: Project,
    /// Called when the user confirms the deletion.
    on_delete: Callback<Project>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let for_delete = StoredValue::new(project.clone());
    view! {
        <tr data-testid="project-row" data-project=project.id>
            <td class="strong">{project.name.clone()}</td>
            <td>{project.description.clone()}</td>
            <td><span class=format!("status status-{}", project.status)>{project.status.clone()}</span></td>
            <td>{project.owner.clone().unwrap_or_else(|| "—".into())}</td>
            <td>{project.created_at.clone()}</td>
            <td class="actions">
                <Can perm=Permission::DeleteProject>
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! {
                            <button class="button danger-outline" data-testid="project-delete" on:click=move |_| confirming.set(true)>
                                "Delete"
                            </button>
                        }
                    >
                        <button
                            class="button danger"
                            data-testid="project-delete-confirm"
                            on:click=move |_| on_delete.run(for_delete.get_value())
                        >
                            "Confirm delete"
                        </button>
                        <button class="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </Show>
                </Can>
            </td>
        </tr>
    }
}

/// The "New project" form.
#[component]
fn NewProjectForm(
    /// The app's configuration (for the API's address).
    config: AppConfig,
    /// Called with the created project.
    on_created: Callback<Project>,
) -> impl IntoView {
    let auth = use_auth();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let config = config.clone();
        let project = NewProject { name: name.get_untracked(), description: description.get_untracked() };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::create_project(auth, &config, &project).await {
                Ok(created) => on_created.run(created),
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="form" on:submit=submit data-testid="project-form">
            <label>"Name" <input required maxlength="80" data-testid="project-name" bind:value=name /></label>
            <label>"Description" <input maxlength="500" data-testid="project-description" bind:value=description /></label>
            <button class="button primary" type="submit" data-testid="project-submit" disabled=move || busy.get()>"Create"</button>
            {move || error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
        </form>
    }
}

/// Grey rows while the page loads.
#[component]
pub fn Skeleton() -> impl IntoView {
    view! {
        <div class="skeleton" role="status" aria-live="polite" aria-label="Loading">
            {(0..5).map(|_| view! { <div class="skeleton-row"></div> }).collect_view()}
        </div>
    }
}
