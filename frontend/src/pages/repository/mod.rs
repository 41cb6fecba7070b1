//! A repository (description, artifacts) and, below it, one artifact.
//!
//! Both live under `/projects/{project}/repositories/{repository}`; an artifact's address adds
//! `/-/{reference}`. A repository path segment can never be `-`, so the split is unambiguous.

mod artifact;
mod artifacts;
mod description;
mod labels;
mod parts;
mod tags;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::components::error::error_fallback;
use crate::pages::project::CurrentProject;
use artifact::ArtifactPage;
use artifacts::ArtifactList;
use description::Description;

/// Chooses the repository or the artifact page from the rest of the address.
#[component]
pub fn RepositoryRoute() -> impl IntoView {
    let params = use_params_map();
    let rest = Memo::new(move |_| params.read().get("rest").unwrap_or_default());
    move || {
        let rest = rest.get();
        match rest.split_once("/-/") {
            Some((repository, reference)) => view! {
                <ArtifactPage repository=repository.to_owned() reference=reference.to_owned() />
            }
            .into_any(),
            None => view! { <RepositoryPage repository=rest /> }.into_any(),
        }
    }
}

/// The address of a repository's page.
pub fn repository_href(project: &str, repository: &str) -> String {
    format!("/projects/{project}/repositories/{repository}")
}

/// The address of an artifact's page.
pub fn artifact_href(project: &str, repository: &str, reference: &str) -> String {
    format!("{}/-/{reference}", repository_href(project, repository))
}

/// One repository: its description and its artifacts.
#[component]
fn RepositoryPage(
    /// The repository name without the project.
    repository: String,
) -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let project_name = StoredValue::new(project.name.clone());
    let name = StoredValue::new(repository);
    let reload = RwSignal::new(0u32);
    let found = LocalResource::new(move || {
        reload.track();
        async move {
            api::repositories::get_repository(&project_name.get_value(), &name.get_value()).await
        }
    });
    view! {
        <p class="crumbs">
            <A href=format!("/projects/{}/repositories", project_name.get_value())>"Repositories"</A>
            " / "
        </p>
        <h2 data-testid="repository-name">{format!("{}/{}", project_name.get_value(), name.get_value())}</h2>
        <Suspense fallback=|| view! { <p class="notice">"Loading repository…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    found
                        .await
                        .map(|r| {
                            view! {
                                <Description
                                    repository=name.get_value()
                                    text=r.description
                                    on_saved=Callback::new(move |()| reload.update(|n| *n += 1))
                                />
                            }
                        })
                })}
            </ErrorBoundary>
        </Suspense>
        <ArtifactList repository=name.get_value() />
    }
}
