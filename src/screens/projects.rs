//! The Project List (needs `read:project-list`; the route guard checks it,
//! and the API checks it again). "New project" needs `create:project` and
//! each row's "Delete" needs `delete:project`; the API enforces both.

use contract::api::{PROJECT_DESCRIPTION_MAX_CHARS, PROJECT_NAME_MAX_CHARS};
use contract::routes;
use contract::wire::{NewProject, Project, ProjectStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use permissions::Permission;

use crate::api::use_api;
use crate::components::can::Can;
use crate::components::list::{PagedTable, use_paged_list};
use crate::components::status::{ActionStatus, StatusLine};

/// The Project List screen.
#[component]
pub fn ProjectsScreen() -> impl IntoView {
    let api = use_api();
    let list = use_paged_list::<Project>();
    let status = RwSignal::new(ActionStatus::Idle);
    let creating = RwSignal::new(false);
    let on_delete = Callback::new(move |project: Project| {
        status.set(ActionStatus::Pending(format!("Deleting “{}”…", project.name)));
        spawn_local(async move {
            status.set(match api.delete_project(project.id).await {
                Ok(()) => {
                    list.refetch();
                    ActionStatus::Done(format!("Deleted “{}”.", project.name))
                }
                Err(err) => ActionStatus::Failed(format!("Could not delete “{}”: {err}", project.name)),
            });
        });
    });
    let on_created = Callback::new(move |project: Project| {
        creating.set(false);
        status.set(ActionStatus::Done(format!("Created “{}”.", project.name)));
        list.refetch();
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
                <NewProjectForm on_created=on_created />
            </Show>
            <StatusLine status=status />
            <PagedTable
                list=list
                base=routes::PROJECTS
                empty="No projects here yet."
                head=|| view! {
                    <tr>
                        <th>"Name"</th><th>"Description"</th><th>"Status"</th><th>"Owner"</th><th>"Created"</th>
                        <th><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                }
                .into_any()
                row=Callback::new(move |project| view! { <ProjectRow project on_delete /> }.into_any())
            />
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
    let status: ProjectStatus = project.status;
    let for_delete = StoredValue::new(project.clone());
    view! {
        <tr data-testid="project-row" data-project=project.id>
            <td class="strong">{project.name}</td>
            <td>{project.description}</td>
            <td><span class=format!("status status-{status}")>{status.as_str()}</span></td>
            <td>{project.owner.unwrap_or_else(|| "—".into())}</td>
            <td>{project.created_at}</td>
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

/// The "New project" form. Its limits are the API's (`contract::api`), so
/// it never offers what the API would refuse.
#[component]
fn NewProjectForm(
    /// Called with the created project.
    on_created: Callback<Project>,
) -> impl IntoView {
    let api = use_api();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let status = RwSignal::new(ActionStatus::Idle);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let project = NewProject {
            name: name.get_untracked(),
            description: description.get_untracked(),
            status: ProjectStatus::default(),
        };
        status.set(ActionStatus::Pending(format!("Creating “{}”…", project.name)));
        spawn_local(async move {
            match api.create_project(&project).await {
                Ok(created) => {
                    status.set(ActionStatus::Idle);
                    on_created.run(created);
                }
                Err(err) => status.set(ActionStatus::Failed(err.to_string())),
            }
        });
    };
    view! {
        <form class="form" on:submit=submit data-testid="project-form">
            <label>
                "Name"
                <input required maxlength=PROJECT_NAME_MAX_CHARS.to_string() data-testid="project-name" bind:value=name />
            </label>
            <label>
                "Description"
                <input
                    maxlength=PROJECT_DESCRIPTION_MAX_CHARS.to_string()
                    data-testid="project-description"
                    bind:value=description
                />
            </label>
            <button class="button primary" type="submit" data-testid="project-submit" disabled=move || status.get().is_pending()>
                "Create"
            </button>
            <StatusLine status=status />
        </form>
    }
}
