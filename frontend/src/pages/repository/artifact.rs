//! One artifact: digest, size, pull command, platforms, tags, labels, layers, build history
//! and accessories.

use berth_api_types::Artifact;
use berth_api_types::artifact::Reference;
use berth_api_types::artifact::pull_command;
use leptos::prelude::*;
use leptos_router::components::A;

use super::labels::ArtifactLabels;
use super::parts::{Accessories, BuildHistory, Layers};
use super::tags::TagList;
use super::{artifact_href, repository_href};
use crate::api;
use crate::components::error::error_fallback;
use crate::format;
use crate::pages::project::CurrentProject;

/// Loads the artifact named by `reference` and shows everything about it.
#[component]
pub fn ArtifactPage(
    /// The repository name without the project.
    repository: String,
    /// A digest or tag.
    reference: String,
) -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let project = StoredValue::new(project.name.clone());
    let repository = StoredValue::new(repository);
    let reference = StoredValue::new(reference);
    let reload = RwSignal::new(0u32);
    let artifact = LocalResource::new(move || {
        reload.track();
        async move {
            api::repositories::get_artifact(
                &project.get_value(),
                &repository.get_value(),
                &reference.get_value(),
            )
            .await
        }
    });
    let changed = Callback::new(move |()| reload.update(|n| *n += 1));
    view! {
        <p class="crumbs">
            <A href=format!("/projects/{}/repositories", project.get_value())>"Repositories"</A>
            " / "
            <A href=repository_href(&project.get_value(), &repository.get_value())>
                {repository.get_value()}
            </A>
            " / "
        </p>
        <Suspense fallback=|| view! { <p class="notice">"Loading artifact…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    artifact
                        .await
                        .map(|a| {
                            view! {
                                <ArtifactDetail
                                    repository=repository.get_value()
                                    artifact=a
                                    on_change=changed
                                />
                            }
                        })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn ArtifactDetail(
    /// The repository name without the project.
    repository: String,
    /// The loaded artifact.
    artifact: Artifact,
    /// Called after a tag or label changed.
    on_change: Callback<()>,
) -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let host = window().location().host().unwrap_or_default();
    let full_name = format!("{}/{repository}", project.name);
    let command = pull_command(&host, &full_name, &artifact);
    let digest = artifact.digest.clone();
    let platforms = (!artifact.references.is_empty()).then(|| {
        view! {
            <Platforms project=project.name.clone() repository=repository.clone() references=artifact.references.clone() />
        }
    });
    let has_layers = artifact.has_addition("layers");
    let has_history = artifact.has_addition("build_history");
    view! {
        <h2 data-testid="artifact-digest"><code>{digest.clone()}</code></h2>
        <dl class="facts">
            <dt>"Type"</dt>
            <dd>{artifact.kind.clone()}</dd>
            <dt>"Media type"</dt>
            <dd><code>{artifact.manifest_media_type.clone()}</code></dd>
            <dt>"Size"</dt>
            <dd data-testid="artifact-size">{format::bytes(artifact.size)}</dd>
            <dt>"Pushed"</dt>
            <dd>{format::time(&artifact.push_time)}</dd>
            <dt>"Last pulled"</dt>
            <dd>{artifact.pull_time.as_deref().map_or("never".to_owned(), format::time)}</dd>
        </dl>
        <PullCommand command=command />
        <TagList
            repository=repository.clone()
            digest=digest.clone()
            tags=artifact.tags.clone().unwrap_or_default()
            on_change=on_change
        />
        <ArtifactLabels
            repository=repository.clone()
            digest=digest.clone()
            labels=artifact.labels.clone().unwrap_or_default()
            on_change=on_change
        />
        {platforms}
        {has_layers.then(|| view! { <Layers repository=repository.clone() digest=digest.clone() /> })}
        {has_history.then(|| view! { <BuildHistory repository=repository.clone() digest=digest.clone() /> })}
        <Accessories accessories=artifact.accessories.clone().unwrap_or_default() />
    }
}

/// The pull command with a button copying it to the clipboard.
#[component]
fn PullCommand(
    /// The command line.
    command: String,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = command.clone();
    let copy = move |_| {
        let promise = window().navigator().clipboard().write_text(&text);
        drop(promise);
        copied.set(true);
    };
    view! {
        <div class="toolbar pull">
            <code data-testid="pull-command">{command}</code>
            <button class="secondary" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy pull command" }}
            </button>
        </div>
    }
}

/// The children of an index with their platforms, each linking to its page.
#[component]
fn Platforms(
    /// The project's name.
    project: String,
    /// The repository name without the project.
    repository: String,
    /// The index's children.
    references: Vec<Reference>,
) -> impl IntoView {
    let rows = references
        .into_iter()
        .map(|r| {
            let platform = r.platform.as_ref().map_or("—".to_owned(), |p| p.label());
            let href = artifact_href(&project, &repository, &r.child_digest);
            view! {
                <tr>
                    <td>{platform}</td>
                    <td><A href=href><code>{r.child_digest.clone()}</code></A></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3>"Platforms"</h3>
        <table data-testid="platforms">
            <thead><tr><th>"Platform"</th><th>"Digest"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
