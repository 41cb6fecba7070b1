//! Administration → users: the list and the "new user" dialog.

use berth_api_types::{User, UserCreationReq};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::AdminsOnly;
use crate::api::{self, ApiError};
use crate::app::Session;
use crate::components::dialog::Dialog;
use crate::components::error::{ActionError, error_fallback};
use crate::components::pager::Pager;
use crate::format;

const PAGE_SIZE: u64 = 15;

/// Every local account, paged on the server.
#[component]
pub fn UsersPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    let page = RwSignal::new(1u64);
    let reload = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        reload.track();
        let page = page.get();
        async move { api::list_users(page, PAGE_SIZE).await }
    });
    let total = Signal::derive(move || users.get().and_then(Result::ok).map_or(0, |p| p.total));
    let dialog_open = RwSignal::new(false);
    view! {
        <section>
            <h1>"Users"</h1>
            <div class="toolbar">
                <button on:click=move |_| dialog_open.set(true)>"+ New user"</button>
            </div>
            <CreateUserDialog open=dialog_open on_created=Callback::new(move |()| reload.update(|n| *n += 1)) />
            <Suspense fallback=|| view! { <p class="notice">"Loading users…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        users.await.map(|page| view! { <UserTable users=page.items /> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <Pager page=page page_size=PAGE_SIZE total=total />
        </section>
    }
    .into_any()
}

#[component]
fn UserTable(
    /// The users of the current page.
    users: Vec<User>,
) -> impl IntoView {
    let rows = users
        .into_iter()
        .map(|u| {
            let key = u.username.clone();
            view! {
                <tr data-user=key>
                    <td>{u.username}</td>
                    <td>{if u.sysadmin_flag { "Yes" } else { "No" }}</td>
                    <td>{u.email}</td>
                    <td>{u.realname}</td>
                    <td>{format::time(&u.creation_time)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table>
            <thead>
                <tr>
                    <th>"Username"</th>
                    <th>"Administrator"</th>
                    <th>"Email"</th>
                    <th>"Name"</th>
                    <th>"Created"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// A text field bound to a signal.
#[component]
fn Field(
    /// The label.
    label: &'static str,
    /// The input's name and type.
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = false)] required: bool,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input
                name=name
                type=kind
                required=required
                prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

/// Creates a local account; the server enforces the password policy.
#[component]
fn CreateUserDialog(
    /// Whether the dialog shows.
    open: RwSignal<bool>,
    /// Called after the user was created.
    on_created: Callback<()>,
) -> impl IntoView {
    let fields: [RwSignal<String>; 5] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let [username, email, realname, password, confirm] = fields;
    let (error, set_error) = signal(None::<ApiError>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if password.get_untracked() != confirm.get_untracked() {
            set_error.set(Some(ApiError::Invalid("the two passwords differ".into())));
            return;
        }
        let req = UserCreationReq {
            username: username.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
            email: email.get_untracked().trim().to_owned(),
            realname: realname.get_untracked().trim().to_owned(),
            comment: String::new(),
        };
        spawn_local(async move {
            match api::create_user(&req).await {
                Ok(()) => {
                    set_error.set(None);
                    fields.iter().for_each(|f| f.set(String::new()));
                    open.set(false);
                    on_created.run(());
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    view! {
        <Dialog title="New user" open=open>
            <form on:submit=submit>
                <Field label="Username" name="username" required=true value=username />
                <Field label="Email" name="email" kind="email" value=email />
                <Field label="Full name" name="realname" value=realname />
                <Field label="Password" name="password" kind="password" required=true value=password />
                <Field label="Confirm password" name="confirm" kind="password" required=true value=confirm />
                <ActionError error=error />
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit">"Create"</button>
                </div>
            </form>
        </Dialog>
    }
}
