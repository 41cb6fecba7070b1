//! Parts of an image read from its additions and accessories: layers, build history, and the
//! signatures and SBOMs attached to it.

use berth_api_types::{Accessory, HistoryEntry, Layer};
use leptos::prelude::*;

use crate::api;
use crate::components::error::error_fallback;
use crate::format;
use crate::pages::project::CurrentProject;

/// The image's layers with their sizes (the `layers` addition).
#[component]
pub fn Layers(
    /// The repository name without the project.
    repository: String,
    /// The artifact's digest.
    digest: String,
) -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let target = StoredValue::new((project.name.clone(), repository, digest));
    let layers = LocalResource::new(move || {
        let (project, repository, digest) = target.get_value();
        async move { api::repositories::layers(&project, &repository, &digest).await }
    });
    view! {
        <h3>"Layers"</h3>
        <Suspense fallback=|| view! { <p class="notice">"Loading layers…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    layers.await.map(|list| view! { <LayerTable layers=list /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn LayerTable(
    /// The layers, in order.
    layers: Vec<Layer>,
) -> impl IntoView {
    let total: i64 = layers.iter().map(|l| l.size).sum();
    let count = layers.len();
    let rows = layers
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            view! {
                <tr data-layer=l.digest.clone()>
                    <td class="num">{i + 1}</td>
                    <td><code>{l.digest.clone()}</code></td>
                    <td><code>{l.media_type.clone()}</code></td>
                    <td class="num">{format::bytes(l.size)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="layers">
            <thead><tr><th class="num">"#"</th><th>"Digest"</th><th>"Media type"</th><th class="num">"Size"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="muted">{format!("{count} layers, {} compressed", format::bytes(total))}</p>
    }
}

/// The steps that built the image (the `build_history` addition).
#[component]
pub fn BuildHistory(
    /// The repository name without the project.
    repository: String,
    /// The artifact's digest.
    digest: String,
) -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let target = StoredValue::new((project.name.clone(), repository, digest));
    let history = LocalResource::new(move || {
        let (project, repository, digest) = target.get_value();
        async move { api::repositories::build_history(&project, &repository, &digest).await }
    });
    view! {
        <h3>"Build history"</h3>
        <Suspense fallback=|| view! { <p class="notice">"Loading build history…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    history.await.map(|steps| view! { <HistoryTable steps=steps /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn HistoryTable(
    /// The steps, oldest first.
    steps: Vec<HistoryEntry>,
) -> impl IntoView {
    if steps.is_empty() {
        return view! { <p class="muted" data-testid="history">"The image config records no build history."</p> }
            .into_any();
    }
    let rows = steps
        .into_iter()
        .map(|s| {
            view! {
                <tr>
                    <td>{s.created.as_deref().map(format::time).unwrap_or_default()}</td>
                    <td><code>{s.created_by.unwrap_or_default()}</code></td>
                    <td>{if s.empty_layer { "no layer" } else { "" }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="history">
            <thead><tr><th>"Created"</th><th>"Command"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Signatures, SBOMs and other accessories.
#[component]
pub fn Accessories(
    /// The artifact's accessories.
    accessories: Vec<Accessory>,
) -> impl IntoView {
    if accessories.is_empty() {
        return view! {
            <h3>"Accessories"</h3>
            <p class="muted" data-testid="accessories">"No signatures or SBOMs."</p>
        }
        .into_any();
    }
    let rows = accessories
        .into_iter()
        .map(|a| {
            view! {
                <tr>
                    <td>{a.kind.clone()}</td>
                    <td><code>{a.digest.clone()}</code></td>
                    <td class="num">{format::bytes(a.size)}</td>
                    <td>{format::time(&a.creation_time)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3>"Accessories"</h3>
        <table data-testid="accessories">
            <thead><tr><th>"Type"</th><th>"Digest"</th><th class="num">"Size"</th><th>"Created"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
