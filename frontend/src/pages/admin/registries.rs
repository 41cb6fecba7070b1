//! Administration → registries: the upstream endpoints proxy-cache projects pull through.

use berth_api_types::{NewRegistry, Registry, RegistryCredential, RegistryPing};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::AdminsOnly;
use crate::api::{self, ApiError};
use crate::app::Session;
use crate::components::error::{ActionError, error_fallback};
use crate::components::pager::Pager;

const PAGE_SIZE: u64 = 15;

/// Every registry endpoint, a form for a new one with a connection test.
#[component]
pub fn RegistriesPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    let page = RwSignal::new(1u64);
    let reload = RwSignal::new(0u32);
    let registries = LocalResource::new(move || {
        reload.track();
        let page = page.get();
        async move { api::integration::list_registries(page, PAGE_SIZE).await }
    });
    let total =
        Signal::derive(move || registries.get().and_then(Result::ok).map_or(0, |p| p.total));
    let (error, set_error) = signal(None::<ApiError>);
    let done = Callback::new(move |result: Result<(), ApiError>| {
        set_error.set(result.err());
        reload.update(|n| *n += 1);
    });
    view! {
        <section>
            <h1>"Registries"</h1>
            <p class="hint">
                "Upstream registries that proxy-cache projects pull through. Secrets are never shown again."
            </p>
            <NewRegistryForm on_done=done />
            <ActionError error=error />
            <Suspense fallback=|| view! { <p class="notice">"Loading registries…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        registries
                            .await
                            .map(|p| view! { <RegistryTable registries=p.items on_done=done /> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <Pager page=page page_size=PAGE_SIZE total=total />
        </section>
    }
    .into_any()
}

#[component]
fn NewRegistryForm(on_done: Callback<Result<(), ApiError>>) -> impl IntoView {
    let types = LocalResource::new(api::integration::registry_types);
    let (name, set_name) = signal(String::new());
    let (kind, set_kind) = signal("docker-registry".to_owned());
    let (url, set_url) = signal(String::new());
    let (key, set_key) = signal(String::new());
    let (secret, set_secret) = signal(String::new());
    let (insecure, set_insecure) = signal(false);
    let (verdict, set_verdict) = signal(None::<Result<(), ApiError>>);
    let credential = move || {
        let key = key.get_untracked().trim().to_owned();
        (!key.is_empty()).then(|| RegistryCredential {
            kind: Some("basic".into()),
            access_key: Some(key),
            access_secret: Some(secret.get_untracked()),
        })
    };
    let test = move |_| {
        let credential = credential();
        let body = RegistryPing {
            id: None,
            kind: Some(kind.get_untracked()),
            url: Some(url.get_untracked().trim().to_owned()),
            insecure: Some(insecure.get_untracked()),
            access_key: credential.as_ref().and_then(|c| c.access_key.clone()),
            access_secret: credential.and_then(|c| c.access_secret),
        };
        spawn_local(async move {
            set_verdict.set(Some(api::integration::ping_registry(&body).await));
        });
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = NewRegistry {
            name: name.get_untracked().trim().to_owned(),
            kind: kind.get_untracked(),
            url: url.get_untracked().trim().to_owned(),
            insecure: insecure.get_untracked(),
            credential: credential(),
        };
        spawn_local(async move {
            let result = api::integration::create_registry(&body).await;
            if result.is_ok() {
                set_name.set(String::new());
                set_url.set(String::new());
                set_key.set(String::new());
                set_secret.set(String::new());
                set_verdict.set(None);
            }
            on_done.run(result);
        });
    };
    let options = move || {
        types
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                let selected = t == kind.get_untracked();
                view! { <option value=t.clone() selected=selected>{t.clone()}</option> }
            })
            .collect_view()
    };
    view! {
        <form class="card" aria-label="New registry" on:submit=submit>
            <div class="row">
                <input placeholder="Name" aria-label="Registry name" required prop:value=name
                    on:input=move |ev| set_name.set(event_target_value(&ev)) />
                <select aria-label="Provider" on:change=move |ev| set_kind.set(event_target_value(&ev))>
                    {options}
                </select>
                <input placeholder="https://registry.example.com" aria-label="Registry URL" required
                    prop:value=url on:input=move |ev| set_url.set(event_target_value(&ev)) />
            </div>
            <div class="row">
                <input placeholder="Access key (optional)" aria-label="Access key" prop:value=key
                    on:input=move |ev| set_key.set(event_target_value(&ev)) />
                <input type="password" placeholder="Access secret" aria-label="Access secret"
                    prop:value=secret on:input=move |ev| set_secret.set(event_target_value(&ev)) />
                <label class="check">
                    <input type="checkbox" prop:checked=insecure
                        on:change=move |ev| set_insecure.set(event_target_checked(&ev)) />
                    "Skip TLS verification"
                </label>
            </div>
            <div class="actions">
                <button type="button" class="secondary" on:click=test>"Test connection"</button>
                <button type="submit">"+ New registry"</button>
            </div>
            {move || match verdict.get() {
                Some(Ok(())) => Some(view! {
                    <p class="ok" role="status">"The registry answered and accepted the credentials."</p>
                }.into_any()),
                Some(Err(e)) => Some(view! { <crate::components::error::ErrorMessage error=e /> }.into_any()),
                None => None,
            }}
        </form>
    }
}

#[component]
fn RegistryTable(
    registries: Vec<Registry>,
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    if registries.is_empty() {
        return view! { <p class="notice">"No registries yet."</p> }.into_any();
    }
    let rows = registries
        .into_iter()
        .map(|r| {
            let id = r.id;
            let delete = move |_| {
                spawn_local(
                    async move { on_done.run(api::integration::delete_registry(id).await) },
                );
            };
            let test = move |_| {
                let body = RegistryPing {
                    id: Some(id),
                    ..RegistryPing::default()
                };
                spawn_local(
                    async move { on_done.run(api::integration::ping_registry(&body).await) },
                );
            };
            let user = r
                .credential
                .access_key
                .clone()
                .unwrap_or_else(|| "anonymous".into());
            view! {
                <tr data-registry=r.name.clone()>
                    <td>{r.name.clone()}</td>
                    <td>{r.kind.clone()}</td>
                    <td><code>{r.url.clone()}</code></td>
                    <td>{user}</td>
                    <td class="actions">
                        <button class="secondary" on:click=test>"Test"</button>
                        <button class="danger" on:click=delete>"Delete"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="registries">
            <thead>
                <tr><th>"Name"</th><th>"Provider"</th><th>"URL"</th><th>"Signs in as"</th><th></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
