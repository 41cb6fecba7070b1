//! The app shell: who is signed in, the routes, and the frame around every page.

use berth_api_types::{GeneralInfo, User};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::api::{self, session};
use crate::components::nav::{SideNav, TopBar};
use crate::pages::account::AccountPage;
use crate::pages::admin::{
    AuditLogsPage, ConfigurationPage, GcPage, GlobalLabelsPage, GroupsPage, JobsPage,
    RegistriesPage, SystemPage, SystemRobotsPage, UsersPage,
};
use crate::pages::not_found::NotFound;
use crate::pages::project::{
    ConfigurationTab, ImmutabilityTab, LabelsTab, LogsTab, MembersTab, ProjectPage,
    RepositoriesTab, RetentionTab, RobotsTab, SummaryTab, WebhooksTab,
};
use crate::pages::projects::ProjectsPage;
use crate::pages::repository::RepositoryRoute;
use crate::pages::sign_in::SignIn;

/// The signed-in user and what the server told about itself; provided to every page.
#[derive(Clone, Copy)]
pub struct Session {
    pub user: RwSignal<Option<User>>,
    pub info: RwSignal<Option<GeneralInfo>>,
}

impl Session {
    /// Whether the signed-in user is a system administrator.
    pub fn is_admin(&self) -> bool {
        self.user.read().as_ref().is_some_and(|u| u.sysadmin_flag)
    }

    /// Keeps the user the server just accepted and loads the server's settings.
    pub fn signed_in(&self, user: User) {
        self.user.set(Some(user));
        let info = self.info;
        spawn_local(async move {
            if let Ok(found) = api::system_info().await {
                info.set(Some(found));
            }
        });
    }

    /// Forgets the user; the sign-in page shows next.
    pub fn sign_out(&self) {
        session::sign_out();
        self.user.set(None);
        self.info.set(None);
    }
}

/// The root component. Until a stored sign-in is checked it shows a short notice; without a
/// user every address shows the sign-in page, and after sign-in the page asked for.
#[component]
pub fn App() -> impl IntoView {
    let session = Session {
        user: RwSignal::new(None),
        info: RwSignal::new(None),
    };
    provide_context(session);
    let checked = RwSignal::new(!session::has_credentials());
    if !checked.get_untracked() {
        spawn_local(async move {
            match api::current_user().await {
                Ok(user) => session.signed_in(user),
                Err(_) => session::sign_out(),
            }
            checked.set(true);
        });
    }
    view! {
        <Router>
            <Show
                when=move || checked.get()
                fallback=|| view! { <p class="notice">"Loading Berth…"</p> }
            >
                <Show when=move || session.user.read().is_some() fallback=SignIn>
                    <Shell />
                </Show>
            </Show>
        </Router>
    }
}

/// The frame of a signed-in page: top bar, navigation and the routed content.
#[component]
fn Shell() -> impl IntoView {
    view! {
        <TopBar />
        <div class="layout">
            <SideNav />
            <main class="content">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/projects" /> } />
                    <Route path=path!("/projects") view=ProjectsPage />
                    <ParentRoute path=path!("/projects/:name") view=ProjectPage>
                        <Route path=path!("") view=SummaryTab />
                        <Route path=path!("members") view=MembersTab />
                        <Route path=path!("repositories") view=RepositoriesTab />
                        <Route path=path!("repositories/*rest") view=RepositoryRoute />
                        <Route path=path!("robots") view=RobotsTab />
                        <Route path=path!("logs") view=LogsTab />
                        <Route path=path!("labels") view=LabelsTab />
                        <Route path=path!("configuration") view=ConfigurationTab />
                        <Route path=path!("retention") view=RetentionTab />
                        <Route path=path!("immutability") view=ImmutabilityTab />
                        <Route path=path!("webhooks") view=WebhooksTab />
                    </ParentRoute>
                    <Route path=path!("/account") view=AccountPage />
                    <Route path=path!("/admin/users") view=UsersPage />
                    <Route path=path!("/admin/system") view=SystemPage />
                    <Route path=path!("/admin/robots") view=SystemRobotsPage />
                    <Route path=path!("/admin/audit-logs") view=AuditLogsPage />
                    <Route path=path!("/admin/gc") view=GcPage />
                    <Route path=path!("/admin/labels") view=GlobalLabelsPage />
                    <Route path=path!("/admin/groups") view=GroupsPage />
                    <Route path=path!("/admin/configuration") view=ConfigurationPage />
                    <Route path=path!("/admin/jobs") view=JobsPage />
                    <Route path=path!("/admin/registries") view=RegistriesPage />
                </Routes>
            </main>
        </div>
    }
}
