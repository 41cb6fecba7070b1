//! The artifacts of a repository: server-side paging, newest push first.

use berth_api_types::Artifact;
use leptos::prelude::*;
use leptos_router::components::A;

use super::artifact_href;
use crate::api;
use crate::components::error::error_fallback;
use crate::components::pager::Pager;
use crate::format;
use crate::pages::project::CurrentProject;

const PAGE_SIZE: u64 = 15;

/// One page of artifacts with their tags, size and push time.
#[component]
pub fn ArtifactList(
    /// The repository name without the project.
    repository: String,
) -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let project = StoredValue::new(project.name.clone());
    let repository = StoredValue::new(repository);
    let page = RwSignal::new(1u64);
    let artifacts = LocalResource::new(move || {
        let page = page.get();
        async move {
            api::repositories::list_artifacts(
                &project.get_value(),
                &repository.get_value(),
                page,
                PAGE_SIZE,
            )
            .await
        }
    });
    let total = Signal::derive(move || artifacts.get().and_then(Result::ok).map_or(0, |p| p.total));
    view! {
        <h3>"Artifacts"</h3>
        <Suspense fallback=|| view! { <p class="notice">"Loading artifacts…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    artifacts
                        .await
                        .map(|p| {
                            view! {
                                <ArtifactTable
                                    project=project.get_value()
                                    repository=repository.get_value()
                                    artifacts=p.items
                                />
                            }
                        })
                })}
            </ErrorBoundary>
        </Suspense>
        <Pager page=page page_size=PAGE_SIZE total=total />
    }
}

#[component]
fn ArtifactTable(
    /// The project's name.
    project: String,
    /// The repository name without the project.
    repository: String,
    /// The artifacts of the current page.
    artifacts: Vec<Artifact>,
) -> impl IntoView {
    if artifacts.is_empty() {
        return view! { <p class="notice">"No artifacts."</p> }.into_any();
    }
    let rows = artifacts
        .into_iter()
        .map(|a| {
            let href = artifact_href(&project, &repository, &a.digest);
            let short = a.digest.chars().take(19).collect::<String>();
            let tags = a.tag_names();
            view! {
                <tr data-artifact=a.digest.clone()>
                    <td><A href=href><code>{short}</code></A></td>
                    <td class="tags">
                        {tags.into_iter().map(|t| view! { <span class="badge">{t}</span> }).collect_view()}
                    </td>
                    <td>{a.kind.clone()}</td>
                    <td class="num">{format::bytes(a.size)}</td>
                    <td>{format::time(&a.push_time)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="artifacts">
            <thead>
                <tr>
                    <th>"Digest"</th>
                    <th>"Tags"</th>
                    <th>"Type"</th>
                    <th class="num">"Size"</th>
                    <th>"Push time"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
