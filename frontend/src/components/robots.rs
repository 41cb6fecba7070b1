//! Robot accounts of a project or of the system: list with paging, create with a permission
//! picker built from the server's catalogue, the secret shown once, refresh, disable, delete.

use berth_api_types::{PermissionCatalogue, Robot, RobotAccess, RobotCreate, RobotPermission};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::dialog::Dialog;
use crate::components::error::{ActionError, error_fallback};
use crate::components::pager::Pager;
use crate::format;

const PAGE_SIZE: u64 = 15;

/// Where robots live: one project (by id and name) or the system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RobotScope {
    Project { id: i64, name: String },
    System,
}

/// What the caller may do with robots here.
#[derive(Clone, Copy, Debug, Default)]
pub struct RobotRights {
    pub create: bool,
    pub update: bool,
    pub delete: bool,
}

/// The robot list with its controls.
#[component]
pub fn RobotAccounts(
    /// Project or system robots.
    scope: RobotScope,
    /// Which controls to show.
    #[prop(into)]
    rights: Signal<RobotRights>,
) -> impl IntoView {
    let scope = StoredValue::new(scope);
    let page = RwSignal::new(1u64);
    let reload = RwSignal::new(0u32);
    let robots = LocalResource::new(move || {
        reload.track();
        let page = page.get();
        let project_id = match scope.get_value() {
            RobotScope::Project { id, .. } => Some(id),
            RobotScope::System => None,
        };
        async move { api::robots::list_robots(project_id, page, PAGE_SIZE).await }
    });
    let total = Signal::derive(move || robots.get().and_then(Result::ok).map_or(0, |p| p.total));
    let dialog_open = RwSignal::new(false);
    let secret = RwSignal::new(None::<(String, String)>);
    let (error, set_error) = signal(None::<ApiError>);
    let done = Callback::new(move |result: Result<(), ApiError>| {
        set_error.set(result.err());
        reload.update(|n| *n += 1);
    });
    view! {
        <div class="toolbar">
            <Show when=move || rights.get().create>
                <button on:click=move |_| dialog_open.set(true)>"+ New robot account"</button>
            </Show>
        </div>
        <NewRobotDialog
            scope=scope.get_value()
            open=dialog_open
            on_created=Callback::new(move |shown: (String, String)| {
                secret.set(Some(shown));
                reload.update(|n| *n += 1);
            })
        />
        <SecretNotice secret=secret />
        <ActionError error=error />
        <Suspense fallback=|| view! { <p class="notice">"Loading robot accounts…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    robots
                        .await
                        .map(|p| {
                            view! { <RobotTable robots=p.items rights=rights secret=secret on_done=done /> }
                        })
                })}
            </ErrorBoundary>
        </Suspense>
        <Pager page=page page_size=PAGE_SIZE total=total />
    }
}

/// A robot's new secret, shown once with its name until dismissed.
#[component]
fn SecretNotice(
    /// `(robot name, secret)` to show.
    secret: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    move || {
        secret.get().map(|(name, value)| {
            view! {
                <div class="card secret" role="status">
                    <p>
                        "Secret of " <b data-testid="robot-name">{name}</b>
                        ". Copy it now: it is not shown again."
                    </p>
                    <code data-testid="robot-secret">{value}</code>
                    <button class="secondary" on:click=move |_| secret.set(None)>"Done"</button>
                </div>
            }
        })
    }
}

#[component]
fn RobotTable(
    /// The robots of the current page.
    robots: Vec<Robot>,
    /// Which controls to show.
    rights: Signal<RobotRights>,
    /// Receives a refreshed secret.
    secret: RwSignal<Option<(String, String)>>,
    /// Called with the outcome of each change.
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    if robots.is_empty() {
        return view! { <p class="notice">"No robot accounts."</p> }.into_any();
    }
    let rows = robots
        .into_iter()
        .map(|r| view! { <RobotRow robot=r rights=rights secret=secret on_done=on_done /> })
        .collect_view();
    view! {
        <table data-testid="robots">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Status"</th>
                    <th>"Permissions"</th>
                    <th>"Expires"</th>
                    <th>"Description"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn RobotRow(
    robot: Robot,
    rights: Signal<RobotRights>,
    secret: RwSignal<Option<(String, String)>>,
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    let id = robot.id;
    let disabled = robot.disable;
    let name = StoredValue::new(robot.name.clone());
    let grants: usize = robot.permissions.iter().map(|p| p.access.len()).sum();
    let expires = if robot.expires_at < 0 {
        "never".to_owned()
    } else {
        format::epoch(robot.expires_at)
    };
    let refresh = move |_| {
        spawn_local(async move {
            match api::robots::refresh_secret(id).await {
                Ok(value) => {
                    secret.set(Some((name.get_value(), value)));
                    on_done.run(Ok(()));
                }
                Err(e) => on_done.run(Err(e)),
            }
        });
    };
    let toggle = move |_| {
        spawn_local(async move { on_done.run(api::robots::set_disabled(id, !disabled).await) });
    };
    let delete = move |_| {
        spawn_local(async move { on_done.run(api::robots::delete_robot(id).await) });
    };
    view! {
        <tr data-robot=robot.name.clone()>
            <td>{robot.name.clone()}</td>
            <td>{if disabled { "Disabled" } else { "Enabled" }}</td>
            <td>{format!("{grants} permissions")}</td>
            <td>{expires}</td>
            <td>{robot.description.clone()}</td>
            <td class="row-actions">
                <Show when=move || rights.get().update>
                    <button class="secondary" on:click=refresh>"Refresh secret"</button>
                    <button class="secondary" on:click=toggle>
                        {if disabled { "Enable" } else { "Disable" }}
                    </button>
                </Show>
                <Show when=move || rights.get().delete>
                    <button class="danger" on:click=delete>"Delete"</button>
                </Show>
            </td>
        </tr>
    }
}

/// Name, description, lifetime and the permission picker.
#[component]
fn NewRobotDialog(
    /// Project or system robot.
    scope: RobotScope,
    /// Whether the dialog shows.
    open: RwSignal<bool>,
    /// Called with `(name, secret)` of the created robot.
    on_created: Callback<(String, String)>,
) -> impl IntoView {
    let scope = StoredValue::new(scope);
    let (name, set_name) = signal(String::new());
    let (description, set_description) = signal(String::new());
    let (days, set_days) = signal(String::from("30"));
    let chosen = RwSignal::new(Vec::<RobotAccess>::new());
    let (error, set_error) = signal(None::<ApiError>);
    let catalogue = LocalResource::new(api::robots::permission_catalogue);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let duration = days.get_untracked().trim().parse::<i64>().unwrap_or(-1);
        let access = chosen.get_untracked();
        let (level, permissions) = match scope.get_value() {
            RobotScope::Project { name, .. } => (
                "project",
                vec![RobotPermission {
                    kind: "project".into(),
                    namespace: name,
                    access,
                }],
            ),
            RobotScope::System => (
                "system",
                vec![RobotPermission {
                    kind: "system".into(),
                    namespace: "/".into(),
                    access,
                }],
            ),
        };
        let req = RobotCreate {
            name: name.get_untracked().trim().to_owned(),
            description: description.get_untracked(),
            level: level.into(),
            duration,
            permissions,
        };
        spawn_local(async move {
            match api::robots::create_robot(&req).await {
                Ok(created) => {
                    set_error.set(None);
                    set_name.set(String::new());
                    chosen.set(Vec::new());
                    open.set(false);
                    on_created.run((created.name, created.secret));
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    let system = matches!(scope.get_value(), RobotScope::System);
    view! {
        <Dialog title="New robot account" open=open>
            <form on:submit=submit>
                <label>
                    "Name"
                    <input
                        name="robot_name"
                        required
                        prop:value=name
                        on:input=move |ev| set_name.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Description"
                    <input
                        name="robot_description"
                        prop:value=description
                        on:input=move |ev| set_description.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Expires after (days, -1 for never)"
                    <input
                        name="robot_days"
                        type="number"
                        prop:value=days
                        on:input=move |ev| set_days.set(event_target_value(&ev))
                    />
                </label>
                <Suspense fallback=|| view! { <p class="notice">"Loading permissions…"</p> }>
                    <ErrorBoundary fallback=error_fallback>
                        {move || Suspend::new(async move {
                            catalogue
                                .await
                                .map(|c| view! { <PermissionPicker catalogue=c system=system chosen=chosen /> })
                        })}
                    </ErrorBoundary>
                </Suspense>
                <ActionError error=error />
                <div class="actions">
                    <button type="submit">"Create robot"</button>
                </div>
            </form>
        </Dialog>
    }
}

/// One checkbox per `(resource, action)` of the catalogue, grouped by resource.
#[component]
fn PermissionPicker(
    /// What the server allows robots to hold.
    catalogue: PermissionCatalogue,
    /// System catalogue rather than the project one.
    system: bool,
    /// The chosen grants.
    chosen: RwSignal<Vec<RobotAccess>>,
) -> impl IntoView {
    let groups = if system {
        catalogue.system_resources()
    } else {
        catalogue.project_resources()
    };
    let rows = groups
        .into_iter()
        .map(|(resource, actions)| {
            let boxes = actions
                .into_iter()
                .map(|action| {
                    let grant = RobotAccess {
                        resource: resource.clone(),
                        action: action.clone(),
                    };
                    let key = format!("{resource}:{action}");
                    let toggle = move |ev: leptos::ev::Event| {
                        let on = event_target_checked(&ev);
                        let grant = grant.clone();
                        chosen.update(|list| {
                            list.retain(|g| *g != grant);
                            if on {
                                list.push(grant);
                            }
                        });
                    };
                    view! {
                        <label class="check">
                            <input type="checkbox" data-permission=key on:change=toggle />
                            {action}
                        </label>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th>{resource}</th>
                    <td class="checks">{boxes}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <fieldset class="permissions">
            <legend>"Permissions"</legend>
            <table>
                <tbody>{rows}</tbody>
            </table>
        </fieldset>
    }
}
