//! The project's members tab: list, add a user, change a role, remove.

use berth_api_types::{MemberUser, ProjectMember, ProjectMemberReq, ProjectRole, permission};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::CurrentProject;
use crate::api::{self, ApiError};
use crate::app::Session;
use crate::components::error::{ActionError, error_fallback};

/// Members of the current project; the editing controls only for those allowed to edit.
#[component]
pub fn MembersTab() -> impl IntoView {
    let session = expect_context::<Session>();
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let can_manage =
        permission::can_manage_members(session.is_admin(), &project.current_user_role_ids);
    let name = StoredValue::new(project.name.clone());
    let reload = RwSignal::new(0u32);
    let members = LocalResource::new(move || {
        reload.track();
        let name = name.get_value();
        async move { api::list_members(&name).await }
    });
    let (error, set_error) = signal(None::<ApiError>);
    let changed = Callback::new(move |result: Result<(), ApiError>| {
        set_error.set(result.err());
        reload.update(|n| *n += 1);
    });
    view! {
        {can_manage.then(|| view! { <AddMember project=name.get_value() on_done=changed /> })}
        <ActionError error=error />
        <Suspense fallback=|| view! { <p class="notice">"Loading members…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    members
                        .await
                        .map(|list| {
                            view! {
                                <MemberTable
                                    project=name.get_value()
                                    members=list
                                    can_manage=can_manage
                                    on_done=changed
                                />
                            }
                        })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// Username and role of a user to add.
#[component]
fn AddMember(
    /// The project's name.
    project: String,
    /// Called with the outcome of each attempt.
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    let project = StoredValue::new(project);
    let (username, set_username) = signal(String::new());
    let (role, set_role) = signal(ProjectRole::Developer.id());
    let (group, set_group) = signal(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let name = username.get_untracked().trim().to_owned();
        let role_id = role.get_untracked();
        let is_group = group.get_untracked();
        spawn_local(async move {
            let project = project.get_value();
            let result = if is_group {
                api::groups::add_group_member(&project, name, role_id).await
            } else {
                let req = ProjectMemberReq {
                    role_id,
                    member_user: MemberUser {
                        user_id: None,
                        username: Some(name),
                    },
                };
                api::add_member(&project, &req).await
            };
            if result.is_ok() {
                set_username.set(String::new());
            }
            on_done.run(result);
        });
    };
    view! {
        <form class="toolbar" on:submit=submit aria-label="Add member">
            <select
                aria-label="Member type"
                on:change=move |ev| set_group.set(event_target_value(&ev) == "group")
            >
                <option value="user">"User"</option>
                <option value="group">"Group"</option>
            </select>
            <input
                name="member_username"
                placeholder=move || if group.get() { "Group name" } else { "Username" }
                aria-label="Username"
                required
                prop:value=username
                on:input=move |ev| set_username.set(event_target_value(&ev))
            />
            <RolePicker selected=role on_pick=Callback::new(move |id| set_role.set(id)) />
            <button type="submit">"+ Add member"</button>
        </form>
    }
}

/// A select over the five roles.
#[component]
fn RolePicker(
    /// The role id shown as chosen.
    #[prop(into)]
    selected: Signal<i32>,
    /// Called with the chosen role id.
    on_pick: Callback<i32>,
) -> impl IntoView {
    view! {
        <select
            aria-label="Role"
            on:change=move |ev| {
                if let Ok(id) = event_target_value(&ev).parse() {
                    on_pick.run(id);
                }
            }
        >
            {ProjectRole::ALL
                .map(|r| {
                    view! {
                        <option value=r.id().to_string() selected=move || selected.get() == r.id()>
                            {r.label()}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// One row per member, with role picker and remove button when editing is allowed.
#[component]
fn MemberTable(
    /// The project's name.
    project: String,
    /// Its members.
    members: Vec<ProjectMember>,
    /// Whether to show editing controls.
    can_manage: bool,
    /// Called with the outcome of each change.
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let me = session.user.read_untracked().as_ref().map(|u| u.user_id);
    let project = StoredValue::new(project);
    let rows = members
        .into_iter()
        .map(|m| {
            let id = m.id;
            let role_label =
                ProjectRole::from_id(m.role_id).map_or(m.role_name.clone(), |r| r.label().into());
            let is_me = m.entity_type == "u" && Some(m.entity_id) == me;
            let editable = can_manage && !is_me;
            let kind = if m.entity_type == "g" {
                "Group"
            } else {
                "User"
            };
            let change = Callback::new(move |role_id: i32| {
                spawn_local(async move {
                    on_done.run(api::change_member_role(&project.get_value(), id, role_id).await);
                });
            });
            let remove = move |_| {
                spawn_local(async move {
                    on_done.run(api::remove_member(&project.get_value(), id).await);
                });
            };
            view! {
                <tr data-member=m.entity_name.clone()>
                    <td>{m.entity_name.clone()}</td>
                    <td>{kind}</td>
                    <td>
                        {if editable {
                            view! { <RolePicker selected=m.role_id on_pick=change /> }.into_any()
                        } else {
                            view! { <span>{role_label}</span> }.into_any()
                        }}
                    </td>
                    <td>
                        {editable
                            .then(|| {
                                view! {
                                    <button class="danger" on:click=remove>"Remove"</button>
                                }
                            })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table>
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Type"</th>
                    <th>"Role"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
