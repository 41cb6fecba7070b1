//! The projects list: search, paging and the create dialog.

mod create;

use berth_api_types::{ProjectRole, permission};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::app::Session;
use crate::components::error::error_fallback;
use crate::components::pager::Pager;
use crate::format;
use create::CreateProjectDialog;

const PAGE_SIZE: u64 = 15;

/// Projects the user can see, filtered by name on the server.
#[component]
pub fn ProjectsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let (query, set_query) = signal(String::new());
    let page = RwSignal::new(1u64);
    let reload = RwSignal::new(0u32);
    let projects = LocalResource::new(move || {
        reload.track();
        let (query, page) = (query.get(), page.get());
        async move { api::list_projects(&query, page, PAGE_SIZE).await }
    });
    let total = Signal::derive(move || projects.get().and_then(Result::ok).map_or(0, |p| p.total));
    let can_create = move || {
        let restriction = session
            .info
            .read()
            .as_ref()
            .and_then(|i| i.project_creation_restriction.clone());
        permission::can_create_projects(session.is_admin(), restriction.as_deref())
    };
    let dialog_open = RwSignal::new(false);
    view! {
        <section>
            <h1>"Projects"</h1>
            <div class="toolbar">
                <Show when=can_create>
                    <button on:click=move |_| dialog_open.set(true)>"+ New project"</button>
                </Show>
                <span class="spacer"></span>
                <input
                    type="search"
                    placeholder="Search projects"
                    aria-label="Search projects"
                    prop:value=query
                    on:input=move |ev| {
                        set_query.set(event_target_value(&ev));
                        page.set(1);
                    }
                />
            </div>
            <CreateProjectDialog open=dialog_open on_created=Callback::new(move |()| reload.update(|n| *n += 1)) />
            <Suspense fallback=|| view! { <p class="notice">"Loading projects…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        projects.await.map(|page| view! { <ProjectTable projects=page.items /> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <Pager page=page page_size=PAGE_SIZE total=total />
        </section>
    }
}

/// One row per project.
#[component]
fn ProjectTable(
    /// The projects of the current page.
    projects: Vec<berth_api_types::Project>,
) -> impl IntoView {
    if projects.is_empty() {
        return view! { <p class="notice">"No projects match."</p> }.into_any();
    }
    let rows = projects
        .into_iter()
        .map(|p| {
            let role = p
                .current_user_role_id
                .and_then(ProjectRole::from_id)
                .map_or("—", ProjectRole::label);
            let access = if p.is_public() { "Public" } else { "Private" };
            let href = format!("/projects/{}", p.name);
            let key = p.name.clone();
            view! {
                <tr data-project=key>
                    <td><A href=href>{p.name}</A></td>
                    <td>{access}</td>
                    <td>{role}</td>
                    <td class="num">{p.repo_count}</td>
                    <td>{format::time(&p.creation_time)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table>
            <thead>
                <tr>
                    <th>"Project name"</th>
                    <th>"Access level"</th>
                    <th>"Role"</th>
                    <th class="num">"Repositories"</th>
                    <th>"Creation time"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
