//! Account settings of the signed-in user: password (local accounts), the CLI secret for
//! docker, helm and scripts, and personal access tokens.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;
use crate::api::account::{self, AccessToken, NewToken};
use crate::app::Session;
use crate::components::error::{ActionError, error_fallback};
use crate::format;

/// The scopes a token can be given, with what each allows.
const SCOPES: [(&str, &str); 4] = [
    ("registry:pull", "Pull images"),
    ("registry:push", "Push and delete images"),
    ("api:read", "Read the REST API"),
    ("api:write", "Change things through the REST API"),
];

/// The page; every section works on the signed-in user.
#[component]
pub fn AccountPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let user_id = move || session.user.read().as_ref().map_or(0, |u| u.user_id);
    view! {
        <section>
            <h1>"Account settings"</h1>
            <CliSecret user_id=user_id() />
            <Tokens user_id=user_id() />
            <ChangePassword user_id=user_id() />
        </section>
    }
}

/// A secret shown once, with a note that it will not be shown again.
#[component]
fn ShownOnce(
    /// The secret just made, if any.
    value: ReadSignal<Option<String>>,
    /// The test id of the code element.
    test_id: &'static str,
) -> impl IntoView {
    move || {
        value.get().map(|v| {
            view! {
                <div class="notice">
                    <p>"Copy it now: it will not be shown again."</p>
                    <code data-testid=test_id>{v}</code>
                </div>
            }
        })
    }
}

/// Whether a CLI secret exists; regenerate (shows the new one once) or revoke it.
#[component]
fn CliSecret(
    /// The signed-in user's id.
    user_id: i64,
) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let status = LocalResource::new(move || {
        reload.track();
        account::cli_secret_status(user_id)
    });
    let (shown, set_shown) = signal(None::<String>);
    let (error, set_error) = signal(None::<ApiError>);
    let regenerate = move |_| {
        spawn_local(async move {
            match account::regenerate_cli_secret(user_id).await {
                Ok(secret) => {
                    set_error.set(None);
                    set_shown.set(Some(secret));
                    reload.update(|n| *n += 1);
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    let revoke = move |_| {
        spawn_local(async move {
            match account::revoke_cli_secret(user_id).await {
                Ok(()) => {
                    set_error.set(None);
                    set_shown.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="card">
            <h2>"CLI secret"</h2>
            <p class="muted">
                "Use it as the password for docker login, helm registry login and scripts. It keeps "
                "working when your identity provider session ends."
            </p>
            <Suspense fallback=|| view! { <p class="notice">"Loading…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        status.await.map(|s| {
                            let text = match (s.has_secret, s.created_at) {
                                (true, Some(at)) => format!("Set on {}.", format::time(&at)),
                                _ => "No CLI secret yet.".to_owned(),
                            };
                            view! { <p data-testid="cli-secret-status">{text}</p> }
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
            <ShownOnce value=shown test_id="cli-secret" />
            <ActionError error=error />
            <div class="actions">
                <button on:click=regenerate>"Generate new secret"</button>
                <button class="secondary" on:click=revoke>"Revoke"</button>
            </div>
        </div>
    }
}

/// The token list, the creation form (the token shows once) and revocation.
#[component]
fn Tokens(
    /// The signed-in user's id.
    user_id: i64,
) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let tokens = LocalResource::new(move || {
        reload.track();
        account::list_tokens(user_id)
    });
    let (shown, set_shown) = signal(None::<String>);
    let (error, set_error) = signal(None::<ApiError>);
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("30".to_owned());
    let projects = RwSignal::new(String::new());
    let chosen = RwSignal::new(vec!["registry:pull".to_owned()]);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let expires_at = match days.get_untracked().trim() {
            "" | "0" => None,
            text => match text.parse::<f64>() {
                Ok(n) if n > 0.0 => Some(in_days(n)),
                _ => {
                    set_error.set(Some(ApiError::Invalid(
                        "expiry must be a number of days (0 for never)".into(),
                    )));
                    return;
                }
            },
        };
        let listed: Vec<String> = projects
            .get_untracked()
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let new = NewToken {
            name: name.get_untracked().trim().to_owned(),
            scopes: chosen.get_untracked(),
            projects: (!listed.is_empty()).then_some(listed),
            expires_at,
        };
        spawn_local(async move {
            match account::create_token(user_id, &new).await {
                Ok(token) => {
                    set_error.set(None);
                    set_shown.set(Some(token));
                    name.set(String::new());
                    reload.update(|n| *n += 1);
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    let on_revoke = Callback::new(move |token_id: i64| {
        spawn_local(async move {
            match account::revoke_token(user_id, token_id).await {
                Ok(()) => reload.update(|n| *n += 1),
                Err(e) => set_error.set(Some(e)),
            }
        });
    });
    let scope_boxes = SCOPES
        .iter()
        .map(|(scope, label)| {
            let scope = (*scope).to_owned();
            let checked = {
                let scope = scope.clone();
                move || chosen.read().contains(&scope)
            };
            let toggle = move |ev| {
                let on = event_target_checked(&ev);
                chosen.update(|list| {
                    list.retain(|s| *s != scope);
                    if on {
                        list.push(scope.clone());
                    }
                });
            };
            view! {
                <label class="check">
                    <input type="checkbox" prop:checked=checked on:change=toggle />
                    {*label}
                </label>
            }
        })
        .collect_view();
    view! {
        <div class="card">
            <h2>"Personal access tokens"</h2>
            <p class="muted">
                "A token is a password with a name, an expiry and a scope; it can only narrow what "
                "you may do."
            </p>
            <Suspense fallback=|| view! { <p class="notice">"Loading tokens…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        tokens.await.map(|list| view! { <TokenTable tokens=list on_revoke=on_revoke /> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <form on:submit=submit>
                <label>
                    "Token name"
                    <input
                        name="token-name"
                        required
                        prop:value=name
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </label>
                <fieldset>
                    <legend>"Scopes"</legend>
                    {scope_boxes}
                </fieldset>
                <label>
                    "Projects (comma-separated; empty for all)"
                    <input
                        name="token-projects"
                        prop:value=projects
                        on:input=move |ev| projects.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Expires in days (0 for never)"
                    <input
                        name="token-days"
                        prop:value=days
                        on:input=move |ev| days.set(event_target_value(&ev))
                    />
                </label>
                <ShownOnce value=shown test_id="new-token" />
                <ActionError error=error />
                <button type="submit">"Create token"</button>
            </form>
        </div>
    }
}

/// An RFC 3339 time `days` from now.
fn in_days(days: f64) -> String {
    let now = js_sys::Date::now();
    let then = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(now + days * 86_400_000.0));
    then.to_iso_string().into()
}

#[component]
fn TokenTable(
    /// The user's tokens.
    tokens: Vec<AccessToken>,
    /// Called with a token's id to revoke it.
    on_revoke: Callback<i64>,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted">"No tokens yet."</p> }.into_any();
    }
    let rows = tokens
        .into_iter()
        .map(|t| {
            let id = t.id;
            let expiry = match (&t.expires_at, t.expired) {
                (_, true) => "expired".to_owned(),
                (Some(at), false) => format::time(at),
                (None, false) => "never".to_owned(),
            };
            let key = t.name.clone();
            view! {
                <tr data-token=key>
                    <td>{t.name}</td>
                    <td>{t.scopes.join(", ")}</td>
                    <td>{t.projects.map_or_else(|| "all".to_owned(), |p| p.join(", "))}</td>
                    <td>{expiry}</td>
                    <td>{t.last_used_at.as_deref().map_or_else(|| "never".to_owned(), format::time)}</td>
                    <td>
                        <button class="secondary" on:click=move |_| on_revoke.run(id)>
                            "Revoke"
                        </button>
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
                    <th>"Scopes"</th>
                    <th>"Projects"</th>
                    <th>"Expires"</th>
                    <th>"Last used"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Changes a local account's password (users of an identity provider have none).
#[component]
fn ChangePassword(
    /// The signed-in user's id.
    user_id: i64,
) -> impl IntoView {
    let old = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let (error, set_error) = signal(None::<ApiError>);
    let (done, set_done) = signal(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        set_done.set(false);
        spawn_local(async move {
            match account::change_password(user_id, &old.get_untracked(), &new.get_untracked())
                .await
            {
                Ok(()) => {
                    set_error.set(None);
                    set_done.set(true);
                    old.set(String::new());
                    new.set(String::new());
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="card" on:submit=submit>
            <h2>"Password"</h2>
            <p class="muted">
                "For local accounts. Changing it signs you out everywhere."
            </p>
            <label>
                "Current password"
                <input
                    type="password"
                    name="old-password"
                    autocomplete="current-password"
                    required
                    prop:value=old
                    on:input=move |ev| old.set(event_target_value(&ev))
                />
            </label>
            <label>
                "New password"
                <input
                    type="password"
                    name="new-password"
                    autocomplete="new-password"
                    required
                    prop:value=new
                    on:input=move |ev| new.set(event_target_value(&ev))
                />
            </label>
            <ActionError error=error />
            <Show when=move || done.get()>
                <p class="notice">"Password changed. Sign in again with the new one."</p>
            </Show>
            <button type="submit">"Change password"</button>
        </form>
    }
}
