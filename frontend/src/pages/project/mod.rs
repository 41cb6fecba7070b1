//! One project: its header, tabs and the tab pages.

mod configuration;
mod immutability;
mod labels;
mod logs;
mod members;
mod repositories;
mod retention;
mod robots;
mod summary;
mod webhooks;

use berth_api_types::{Permissions, Project, permission};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::app::Session;
use crate::components::error::error_fallback;
pub use configuration::ConfigurationTab;
pub use immutability::ImmutabilityTab;
pub use labels::LabelsTab;
pub use logs::LogsTab;
pub use members::MembersTab;
pub use repositories::RepositoriesTab;
pub use retention::RetentionTab;
pub use robots::RobotsTab;
pub use summary::SummaryTab;
pub use webhooks::WebhooksTab;

/// The project the open tab belongs to, provided by [`ProjectPage`].
#[derive(Clone)]
pub struct CurrentProject(pub Project);

/// What the signed-in account may do in the current project
/// (`GET /users/current/permissions`); empty until loaded, so controls appear only once allowed.
#[derive(Clone, Copy)]
pub struct ProjectAccess(RwSignal<Permissions>);

impl ProjectAccess {
    /// Whether `action` on `resource` is held in the project.
    pub fn allows(&self, resource: &str, action: &str) -> bool {
        self.0.read().allows(resource, action)
    }
}

/// Loads the project named in the address, then shows its tabs and the open one.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let name = Signal::derive(move || params.read().get("name").unwrap_or_default());
    let project = LocalResource::new(move || {
        let name = name.get();
        async move { api::get_project(&name).await }
    });
    view! {
        <Suspense fallback=|| view! { <p class="notice">"Loading project…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    project.await.map(|p| view! { <ProjectFrame project=p /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// Header and tabs around the open tab.
#[component]
fn ProjectFrame(
    /// The loaded project.
    project: Project,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let base = format!("/projects/{}", project.name);
    let repositories_href = format!("{base}/repositories");
    let members_href = format!("{base}/members");
    let robots_href = format!("{base}/robots");
    let logs_href = format!("{base}/logs");
    let labels_href = format!("{base}/labels");
    let configuration_href = format!("{base}/configuration");
    let immutability_href = format!("{base}/immutability");
    let retention_href = format!("{base}/retention");
    let webhooks_href = format!("{base}/webhooks");
    let show_members =
        permission::can_list_members(session.is_admin(), &project.current_user_role_ids);
    let access_level = if project.is_public() {
        "Public"
    } else {
        "Private"
    };
    let title = project.name.clone();
    let access = ProjectAccess(RwSignal::new(Permissions::default()));
    let scope = project.name.clone();
    spawn_local(async move {
        if let Ok(held) = api::robots::project_permissions(&scope).await {
            access.0.set(held);
        }
    });
    provide_context(access);
    provide_context(CurrentProject(project));
    view! {
        <section>
            <p class="crumbs"><A href="/projects">"Projects"</A> " / "</p>
            <h1>{title} <span class="badge">{access_level}</span></h1>
            <nav class="tabs" aria-label="Project sections">
                <A href=base.clone() exact=true>"Summary"</A>
                <Show when=move || access.allows("repository", "list")>
                    <A href=repositories_href.clone()>"Repositories"</A>
                </Show>
                <Show when=move || show_members>
                    <A href=members_href.clone()>"Members"</A>
                </Show>
                <Show when=move || access.allows("robot", "list")>
                    <A href=robots_href.clone()>"Robot accounts"</A>
                </Show>
                <Show when=move || access.allows("label", "list")>
                    <A href=labels_href.clone()>"Labels"</A>
                </Show>
                <Show when=move || access.allows("metadata", "read")>
                    <A href=configuration_href.clone()>"Configuration"</A>
                </Show>
                <Show when=move || access.allows("tag-retention", "list")>
                    <A href=retention_href.clone()>"Tag retention"</A>
                </Show>
                <Show when=move || access.allows("immutable-tag", "list")>
                    <A href=immutability_href.clone()>"Immutability"</A>
                </Show>
                <Show when=move || access.allows("notification-policy", "list")>
                    <A href=webhooks_href.clone()>"Webhooks"</A>
                </Show>
                <Show when=move || access.allows("log", "list")>
                    <A href=logs_href.clone()>"Logs"</A>
                </Show>
            </nav>
            <Outlet />
        </section>
    }
}
