//! Administration → configuration: the settings that can change at run time, one row each.

use berth_api_types::ConfigItem;
use berth_api_types::admin::typed_setting;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use super::AdminsOnly;
use crate::api::{self, ApiError};
use crate::app::Session;
use crate::components::error::{ActionError, error_fallback};

/// The editable settings.
#[component]
pub fn ConfigurationPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    let settings = LocalResource::new(api::admin::configurations);
    view! {
        <section>
            <h1>"Configuration"</h1>
            <p class="muted">
                "Settings that can change while Berth runs; the rest come from the configuration file."
            </p>
            <Suspense fallback=|| view! { <p class="notice">"Loading configuration…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        settings
                            .await
                            .map(|all| {
                                let rows = all
                                    .into_iter()
                                    .filter(|(_, item)| item.editable)
                                    .map(|(key, item)| view! { <SettingRow key=key item=item /> })
                                    .collect_view();
                                view! {
                                    <table data-testid="settings">
                                        <thead><tr><th>"Setting"</th><th>"Value"</th><th></th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                }
                            })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
    .into_any()
}

/// One setting with an input fitting its type and a save button.
#[component]
fn SettingRow(key: String, item: ConfigItem) -> impl IntoView {
    let current = StoredValue::new(item.value.clone());
    let shown = match &item.value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let (text, set_text) = signal(shown);
    let (error, set_error) = signal(None::<ApiError>);
    let saved = RwSignal::new(false);
    let name = StoredValue::new(key.clone());
    let is_bool = item.value.is_boolean();
    let save = move |_| {
        let Some(value) = typed_setting(&current.get_value(), &text.get_untracked()) else {
            set_error.set(Some(ApiError::Invalid(format!(
                "{} needs a number",
                name.get_value()
            ))));
            return;
        };
        spawn_local(async move {
            let result = api::admin::set_configuration(&name.get_value(), value.clone()).await;
            if result.is_ok() {
                current.set_value(value);
            }
            saved.set(result.is_ok());
            set_error.set(result.err());
        });
    };
    let input = if is_bool {
        view! {
            <input
                type="checkbox"
                aria-label=key.clone()
                prop:checked=move || text.get() == "true"
                on:change=move |ev| {
                    set_text.set(event_target_checked(&ev).to_string());
                    saved.set(false);
                }
            />
        }
        .into_any()
    } else {
        view! {
            <input
                aria-label=key.clone()
                prop:value=text
                on:input=move |ev| {
                    set_text.set(event_target_value(&ev));
                    saved.set(false);
                }
            />
        }
        .into_any()
    };
    view! {
        <tr data-setting=key.clone()>
            <td><code>{key.clone()}</code></td>
            <td>{input} <ActionError error=error /></td>
            <td class="row-actions">
                <Show when=move || saved.get()>
                    <span class="muted" role="status">"Saved."</span>
                </Show>
                <button class="secondary" on:click=save>"Save"</button>
            </td>
        </tr>
    }
}
