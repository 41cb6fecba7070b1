//! Administration → user groups: paged list, create a local group, delete.

use berth_api_types::UserGroup;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::AdminsOnly;
use crate::api::{self, ApiError};
use crate::app::Session;
use crate::components::error::{ActionError, error_fallback};
use crate::components::pager::Pager;

const PAGE_SIZE: u64 = 15;

/// Every user group.
#[component]
pub fn GroupsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    let page = RwSignal::new(1u64);
    let reload = RwSignal::new(0u32);
    let groups = LocalResource::new(move || {
        reload.track();
        let page = page.get();
        async move { api::groups::list_groups(page, PAGE_SIZE).await }
    });
    let total = Signal::derive(move || groups.get().and_then(Result::ok).map_or(0, |p| p.total));
    let (error, set_error) = signal(None::<ApiError>);
    let done = Callback::new(move |result: Result<(), ApiError>| {
        set_error.set(result.err());
        reload.update(|n| *n += 1);
    });
    let (name, set_name) = signal(String::new());
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        let group = name.get_untracked().trim().to_owned();
        spawn_local(async move {
            let result = api::groups::create_group(group).await;
            if result.is_ok() {
                set_name.set(String::new());
            }
            done.run(result);
        });
    };
    view! {
        <section>
            <h1>"User groups"</h1>
            <form class="toolbar" aria-label="New group" on:submit=create>
                <input
                    placeholder="Group name"
                    aria-label="Group name"
                    required
                    prop:value=name
                    on:input=move |ev| set_name.set(event_target_value(&ev))
                />
                <button type="submit">"+ New group"</button>
            </form>
            <ActionError error=error />
            <Suspense fallback=|| view! { <p class="notice">"Loading groups…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        groups.await.map(|p| view! { <GroupTable groups=p.items on_done=done /> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <Pager page=page page_size=PAGE_SIZE total=total />
        </section>
    }
    .into_any()
}

#[component]
fn GroupTable(groups: Vec<UserGroup>, on_done: Callback<Result<(), ApiError>>) -> impl IntoView {
    if groups.is_empty() {
        return view! { <p class="notice">"No user groups."</p> }.into_any();
    }
    let rows = groups
        .into_iter()
        .map(|g| {
            let id = g.id;
            let kind = match g.group_type {
                1 => "LDAP",
                3 => "OIDC",
                _ => "Local",
            };
            let delete = move |_| {
                spawn_local(async move { on_done.run(api::groups::delete_group(id).await) });
            };
            view! {
                <tr data-group=g.group_name.clone()>
                    <td>{g.group_name.clone()}</td>
                    <td>{kind}</td>
                    <td><button class="danger" on:click=delete>"Delete"</button></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="groups">
            <thead><tr><th>"Name"</th><th>"Type"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
