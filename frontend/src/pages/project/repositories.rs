//! The project's repositories tab: server-side search and paging.

use berth_api_types::Repository;
use leptos::prelude::*;
use leptos_router::components::A;

use super::CurrentProject;
use crate::api;
use crate::components::error::error_fallback;
use crate::components::pager::Pager;
use crate::format;

const PAGE_SIZE: u64 = 15;

/// Repositories of the current project, filtered by name on the server.
#[component]
pub fn RepositoriesTab() -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let name = StoredValue::new(project.name.clone());
    let (query, set_query) = signal(String::new());
    let page = RwSignal::new(1u64);
    let repositories = LocalResource::new(move || {
        let (query, page) = (query.get(), page.get());
        async move {
            api::repositories::list_repositories(&name.get_value(), &query, page, PAGE_SIZE).await
        }
    });
    let total = Signal::derive(move || {
        repositories
            .get()
            .and_then(Result::ok)
            .map_or(0, |p| p.total)
    });
    view! {
        <div class="toolbar">
            <span class="spacer"></span>
            <input
                type="search"
                placeholder="Search repositories"
                aria-label="Search repositories"
                prop:value=query
                on:input=move |ev| {
                    set_query.set(event_target_value(&ev));
                    page.set(1);
                }
            />
        </div>
        <Suspense fallback=|| view! { <p class="notice">"Loading repositories…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    repositories
                        .await
                        .map(|p| view! { <RepositoryTable project=name.get_value() repositories=p.items /> })
                })}
            </ErrorBoundary>
        </Suspense>
        <Pager page=page page_size=PAGE_SIZE total=total />
    }
}

/// One row per repository, linking to its page.
#[component]
fn RepositoryTable(
    /// The project's name.
    project: String,
    /// The repositories of the current page.
    repositories: Vec<Repository>,
) -> impl IntoView {
    if repositories.is_empty() {
        return view! { <p class="notice">"No repositories match. Push an image to create one."</p> }
            .into_any();
    }
    let rows = repositories
        .into_iter()
        .map(|r| {
            let href = format!("/projects/{project}/repositories/{}", r.short_name());
            let name = r.name.clone();
            view! {
                <tr data-repository=r.name.clone()>
                    <td><A href=href>{name}</A></td>
                    <td class="num">{r.artifact_count}</td>
                    <td class="num">{r.pull_count}</td>
                    <td>{format::time(&r.update_time)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table>
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th class="num">"Artifacts"</th>
                    <th class="num">"Pulls"</th>
                    <th>"Last modified"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
