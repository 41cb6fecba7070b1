//! Project → webhooks: policies (events, target), enable/disable, and each policy's deliveries.

use berth_api_types::{WebhookPolicy, WebhookPolicyReq, WebhookTarget};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{CurrentProject, ProjectAccess};
use crate::api::{self, ApiError};
use crate::components::error::{ActionError, ErrorMessage, error_fallback};

/// The project's webhook policies.
#[component]
pub fn WebhooksTab() -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let access = expect_context::<ProjectAccess>();
    let name = StoredValue::new(project.name.clone());
    let reload = RwSignal::new(0u32);
    let policies = LocalResource::new(move || {
        reload.track();
        let name = name.get_value();
        async move { api::integration::list_webhooks(&name).await }
    });
    let (error, set_error) = signal(None::<ApiError>);
    let done = Callback::new(move |result: Result<(), ApiError>| {
        set_error.set(result.err());
        reload.update(|n| *n += 1);
    });
    view! {
        <section>
            <h2>"Webhooks"</h2>
            <Show when=move || access.allows("notification-policy", "create")>
                <NewPolicyForm project=name.get_value() on_done=done />
            </Show>
            <ActionError error=error />
            <Suspense fallback=|| view! { <p class="notice">"Loading webhooks…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        policies.await.map(|p| {
                            view! { <PolicyList project=name.get_value() policies=p.items on_done=done /> }
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn NewPolicyForm(project: String, on_done: Callback<Result<(), ApiError>>) -> impl IntoView {
    let project = StoredValue::new(project);
    let events = LocalResource::new(move || {
        let project = project.get_value();
        async move { api::integration::webhook_events(&project).await }
    });
    let chosen = RwSignal::new(Vec::<String>::new());
    let (name, set_name) = signal(String::new());
    let (address, set_address) = signal(String::new());
    let (kind, set_kind) = signal("http".to_owned());
    let (format, set_format) = signal("Default".to_owned());
    let (auth, set_auth) = signal(String::new());
    let (secret, set_secret) = signal(String::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let optional = |text: String| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let body = WebhookPolicyReq {
            name: Some(name.get_untracked().trim().to_owned()),
            enabled: Some(true),
            event_types: Some(chosen.get_untracked()),
            targets: Some(vec![WebhookTarget {
                kind: kind.get_untracked(),
                address: address.get_untracked().trim().to_owned(),
                auth_header: optional(auth.get_untracked()),
                skip_cert_verify: false,
                payload_format: format.get_untracked(),
                secret: optional(secret.get_untracked()),
            }]),
        };
        spawn_local(async move {
            let result = api::integration::create_webhook(&project.get_value(), &body).await;
            if result.is_ok() {
                set_name.set(String::new());
                set_address.set(String::new());
                set_auth.set(String::new());
                set_secret.set(String::new());
                chosen.set(Vec::new());
            }
            on_done.run(result);
        });
    };
    let boxes = move || {
        events
            .get()
            .and_then(Result::ok)
            .map(|e| e.event_type)
            .unwrap_or_default()
            .into_iter()
            .map(|event| {
                let value = event.clone();
                let toggle = move |ev| {
                    let on = event_target_checked(&ev);
                    let value = value.clone();
                    chosen.update(|c| {
                        c.retain(|e| *e != value);
                        if on {
                            c.push(value);
                        }
                    });
                };
                let shown = event.clone();
                let checked = move || chosen.read().contains(&shown);
                view! {
                    <label class="check">
                        <input type="checkbox" name="event" value=event.clone() prop:checked=checked on:change=toggle />
                        {event.clone()}
                    </label>
                }
            })
            .collect_view()
    };
    view! {
        <form class="card" aria-label="New webhook" on:submit=submit>
            <div class="row">
                <input placeholder="Name" aria-label="Webhook name" required prop:value=name
                    on:input=move |ev| set_name.set(event_target_value(&ev)) />
                <select aria-label="Target type" on:change=move |ev| set_kind.set(event_target_value(&ev))>
                    <option value="http" selected>"HTTP"</option>
                    <option value="slack">"Slack"</option>
                </select>
                <input placeholder="https://hooks.example.com/berth" aria-label="Endpoint URL" required
                    prop:value=address on:input=move |ev| set_address.set(event_target_value(&ev)) />
            </div>
            <div class="row">{boxes}</div>
            <div class="row">
                <select aria-label="Payload format" on:change=move |ev| set_format.set(event_target_value(&ev))>
                    <option value="Default" selected>"Default payload"</option>
                    <option value="CloudEvents">"CloudEvents"</option>
                </select>
                <input placeholder="Authorization header (optional)" aria-label="Auth header"
                    prop:value=auth on:input=move |ev| set_auth.set(event_target_value(&ev)) />
                <input type="password" placeholder="Signing secret (optional)" aria-label="Signing secret"
                    prop:value=secret on:input=move |ev| set_secret.set(event_target_value(&ev)) />
            </div>
            <div class="actions"><button type="submit">"+ New webhook"</button></div>
        </form>
    }
}

#[component]
fn PolicyList(
    project: String,
    policies: Vec<WebhookPolicy>,
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    if policies.is_empty() {
        return view! { <p class="notice">"No webhooks."</p> }.into_any();
    }
    let access = expect_context::<ProjectAccess>();
    policies
        .into_iter()
        .map(|p| {
            let project = StoredValue::new(project.clone());
            let id = p.id;
            let enabled = p.enabled;
            let toggle = move |_| {
                let body = WebhookPolicyReq {
                    enabled: Some(!enabled),
                    ..WebhookPolicyReq::default()
                };
                spawn_local(async move {
                    on_done.run(
                        api::integration::update_webhook(&project.get_value(), id, &body).await,
                    );
                });
            };
            let delete = move |_| {
                spawn_local(async move {
                    on_done.run(api::integration::delete_webhook(&project.get_value(), id).await);
                });
            };
            let targets = p
                .targets
                .iter()
                .map(|t| format!("{} {} ({})", t.kind, t.address, t.payload_format))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <article class="card" data-webhook=p.name.clone()>
                    <header class="row">
                        <strong>{p.name.clone()}</strong>
                        <span class="badge">{if enabled { "Enabled" } else { "Disabled" }}</span>
                        <span class="spacer"></span>
                        <Show when=move || access.allows("notification-policy", "update")>
                            <button class="secondary" on:click=toggle>
                                {if enabled { "Disable" } else { "Enable" }}
                            </button>
                        </Show>
                        <Show when=move || access.allows("notification-policy", "delete")>
                            <button class="danger" on:click=delete>"Delete"</button>
                        </Show>
                    </header>
                    <p>"Events: " {p.event_types.join(", ")}</p>
                    <p>"Sends to: " <code>{targets}</code></p>
                    <Deliveries project=project.get_value() id=id />
                </article>
            }
        })
        .collect_view()
        .into_any()
}

/// The latest deliveries of one policy, each with its log on demand.
#[component]
fn Deliveries(project: String, id: i64) -> impl IntoView {
    let project = StoredValue::new(project);
    let reload = RwSignal::new(0u32);
    let deliveries = LocalResource::new(move || {
        reload.track();
        let project = project.get_value();
        async move { api::integration::webhook_executions(&project, id).await }
    });
    let log = RwSignal::new(None::<Result<String, ApiError>>);
    view! {
        <details>
            <summary>"Deliveries"</summary>
            <button class="secondary" on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
            <Suspense fallback=|| view! { <p class="notice">"Loading deliveries…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        deliveries.await.map(|page| {
                            if page.items.is_empty() {
                                return view! { <p class="notice">"Nothing sent yet."</p> }.into_any();
                            }
                            let rows = page
                                .items
                                .into_iter()
                                .map(|d| {
                                    let eid = d.id;
                                    let show = move |_| {
                                        spawn_local(async move {
                                            let text = api::integration::webhook_execution_log(
                                                &project.get_value(),
                                                id,
                                                eid,
                                            )
                                            .await;
                                            log.set(Some(text));
                                        });
                                    };
                                    view! {
                                        <tr>
                                            <td>{d.creation_time.clone()}</td>
                                            <td>{d.event_type.clone()}</td>
                                            <td>{d.status.clone()}</td>
                                            <td>{d.attempts}</td>
                                            <td>{d.status_text.clone()}</td>
                                            <td><button class="secondary" on:click=show>"Log"</button></td>
                                        </tr>
                                    }
                                })
                                .collect_view();
                            view! {
                                <table>
                                    <thead><tr>
                                        <th>"Time"</th><th>"Event"</th><th>"Status"</th>
                                        <th>"Attempts"</th><th>"Outcome"</th><th></th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }
                            .into_any()
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
            {move || match log.get() {
                Some(Ok(text)) => Some(view! { <pre class="log">{text}</pre> }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorMessage error=e /> }.into_any()),
                None => None,
            }}
        </details>
    }
}
