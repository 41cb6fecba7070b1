//! The top bar (user, sign-out) and the side navigation.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::app::Session;
use crate::components::search::GlobalSearch;

/// Product name, the signed-in user and the sign-out button.
#[component]
pub fn TopBar() -> impl IntoView {
    let session = expect_context::<Session>();
    let navigate = use_navigate();
    let username = move || session.user.read().as_ref().map(|u| u.username.clone());
    let sign_out = move |_| {
        session.sign_out();
        navigate("/", Default::default());
    };
    view! {
        <header class="topbar">
            <A href="/projects" attr:class="brand">"Berth"</A>
            <GlobalSearch />
            <span class="spacer"></span>
            <span class="user" data-testid="current-user">{username}</span>
            <A href="/account">"Account"</A>
            <button class="secondary" on:click=sign_out>"Sign out"</button>
        </header>
    }
}

/// Links to the sections; administration only for system administrators.
#[component]
pub fn SideNav() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <nav class="sidenav" aria-label="Sections">
            <A href="/projects">"Projects"</A>
            <Show when=move || session.is_admin()>
                <p class="section">"Administration"</p>
                <A href="/admin/users">"Users"</A>
                <A href="/admin/groups">"Groups"</A>
                <A href="/admin/robots">"System robots"</A>
                <A href="/admin/labels">"Labels"</A>
                <A href="/admin/registries">"Registries"</A>
                <A href="/admin/audit-logs">"Audit logs"</A>
                <A href="/admin/configuration">"Configuration"</A>
                <A href="/admin/gc">"Garbage collection"</A>
                <A href="/admin/jobs">"Job service"</A>
                <A href="/admin/system">"System info"</A>
            </Show>
        </nav>
    }
}
