//! The project's summary tab: repositories, storage quota and members by role.

use berth_api_types::{ProjectSummary, Quota};
use leptos::prelude::*;

use super::CurrentProject;
use crate::api;
use crate::components::error::error_fallback;
use crate::format;

/// Counts and quota of the current project.
#[component]
pub fn SummaryTab() -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let name = project.name.clone();
    let summary = LocalResource::new(move || {
        let name = name.clone();
        async move { api::project_summary(&name).await }
    });
    view! {
        <Suspense fallback=|| view! { <p class="notice">"Loading summary…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    summary.await.map(|s| view! { <SummaryCards summary=s /> })
                })}
            </ErrorBoundary>
        </Suspense>
        <dl class="facts">
            <dt>"Owner"</dt>
            <dd>{project.owner_name.clone()}</dd>
            <dt>"Created"</dt>
            <dd>{format::time(&project.creation_time)}</dd>
        </dl>
    }
}

#[component]
fn SummaryCards(
    /// What the server counted.
    summary: ProjectSummary,
) -> impl IntoView {
    let members = [
        ("Project admins", summary.project_admin_count),
        ("Maintainers", summary.maintainer_count),
        ("Developers", summary.developer_count),
        ("Guests", summary.guest_count),
        ("Limited guests", summary.limited_guest_count),
    ];
    view! {
        <div class="cards">
            <div class="card stat" data-testid="repo-count">
                <span class="value">{summary.repo_count}</span>
                <span class="label">"Repositories"</span>
            </div>
            {summary.quota.map(|q| view! { <QuotaCard quota=q /> })}
            <div class="card">
                <h3>"Members"</h3>
                <ul class="plain">
                    {members
                        .map(|(label, count)| view! { <li>{label} ": " <b>{count}</b></li> })
                        .collect_view()}
                </ul>
            </div>
        </div>
    }
}

#[component]
fn QuotaCard(
    /// Used and allowed storage.
    quota: Quota,
) -> impl IntoView {
    let (used, hard) = (quota.used.storage, quota.hard.storage);
    let percent = (hard > 0).then(|| (used as f64 / hard as f64 * 100.0).min(100.0));
    view! {
        <div class="card" data-testid="quota">
            <h3>"Storage quota"</h3>
            <p>{format::bytes(used)} " of " {format::bytes(hard)}</p>
            {percent
                .map(|p| {
                    view! {
                        <div class="bar" role="progressbar" aria-valuenow=format!("{p:.0}")>
                            <div style=format!("width:{p:.1}%")></div>
                        </div>
                    }
                })}
        </div>
    }
}
