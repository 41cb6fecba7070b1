//! One project: its header, tabs and the tab pages.

mod members;
mod summary;

use berth_api_types::{Project, permission};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::app::Session;
use crate::components::error::error_fallback;
pub use members::MembersTab;
pub use summary::SummaryTab;

/// The project the open tab belongs to, provided by [`ProjectPage`].
#[derive(Clone)]
pub struct CurrentProject(pub Project);

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
    let show_members =
        permission::can_list_members(session.is_admin(), &project.current_user_role_ids);
    let access = if project.is_public() {
        "Public"
    } else {
        "Private"
    };
    let title = project.name.clone();
    provide_context(CurrentProject(project));
    view! {
        <section>
            <p class="crumbs"><A href="/projects">"Projects"</A> " / "</p>
            <h1>{title} <span class="badge">{access}</span></h1>
            <nav class="tabs" aria-label="Project sections">
                <A href=base.clone() exact=true>"Summary"</A>
                <Show when=move || show_members>
                    <A href=format!("{base}/members")>"Members"</A>
                </Show>
            </nav>
            <Outlet />
        </section>
    }
}
