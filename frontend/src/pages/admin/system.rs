//! Administration → system info: version, settings and component health.

use berth_api_types::{GeneralInfo, Health};
use leptos::prelude::*;

use super::AdminsOnly;
use crate::api;
use crate::app::Session;
use crate::components::error::error_fallback;

/// What `/systeminfo` and `/health` report.
#[component]
pub fn SystemPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    let info = LocalResource::new(api::system_info);
    let health = LocalResource::new(api::health);
    view! {
        <section>
            <h1>"System info"</h1>
            <Suspense fallback=|| view! { <p class="notice">"Loading…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        info.await.map(|i| view! { <InfoList info=i /> })
                    })}
                </ErrorBoundary>
                <h2>"Health"</h2>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        health.await.map(|h| view! { <HealthTable health=h /> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
    .into_any()
}

#[component]
fn InfoList(
    /// The server's general information.
    info: GeneralInfo,
) -> impl IntoView {
    let unset = || "not set".to_owned();
    let facts = [
        ("Version", info.harbor_version),
        ("Authentication", info.auth_mode),
        (
            "Project creation",
            info.project_creation_restriction.unwrap_or_else(unset),
        ),
        (
            "Self-registration",
            if info.self_registration { "on" } else { "off" }.to_owned(),
        ),
        ("External URL", info.external_url.unwrap_or_else(unset)),
        (
            "Storage",
            info.registry_storage_provider_name.unwrap_or_else(unset),
        ),
        (
            "Read-only",
            if info.read_only == Some(true) {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
        ),
        ("Server time", info.current_time),
    ];
    view! {
        <dl class="facts" data-testid="system-info">
            {facts
                .into_iter()
                .map(|(term, value)| view! { <dt>{term}</dt><dd>{value}</dd> })
                .collect_view()}
        </dl>
    }
}

#[component]
fn HealthTable(
    /// Overall and per-component status.
    health: Health,
) -> impl IntoView {
    view! {
        <p>"Overall: " <b data-testid="health">{health.status}</b></p>
        <table>
            <thead>
                <tr>
                    <th>"Component"</th>
                    <th>"Status"</th>
                    <th>"Error"</th>
                </tr>
            </thead>
            <tbody>
                {health
                    .components
                    .into_iter()
                    .map(|c| {
                        view! {
                            <tr>
                                <td>{c.name}</td>
                                <td>{c.status}</td>
                                <td>{c.error.unwrap_or_default()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
