//! The project's configuration tab: its metadata switches.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{CurrentProject, ProjectAccess};
use crate::api::{self, ApiError};
use crate::components::error::{ActionError, error_fallback};

/// The boolean switches, with the words shown for them.
const SWITCHES: [(&str, &str); 6] = [
    ("public", "Public: anyone may pull"),
    (
        "enable_content_trust",
        "Content trust: pull only signed images (Notation)",
    ),
    (
        "enable_content_trust_cosign",
        "Content trust: pull only signed images (cosign)",
    ),
    ("auto_scan", "Scan images on push"),
    ("auto_sbom_generation", "Generate an SBOM on push"),
    ("reuse_sys_cve_allowlist", "Use the system CVE allowlist"),
];
const SEVERITIES: [&str; 5] = ["none", "low", "medium", "high", "critical"];

/// Loads the switches, then shows the form.
#[component]
pub fn ConfigurationTab() -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let name = StoredValue::new(project.name.clone());
    let current = LocalResource::new(move || async move {
        api::project_config::metadata(&name.get_value()).await
    });
    view! {
        <Suspense fallback=|| view! { <p class="notice">"Loading configuration…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    current.await.map(|m| view! { <ConfigurationForm project=name.get_value() stored=m /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn ConfigurationForm(
    /// The project's name.
    project: String,
    /// The switches as stored.
    stored: BTreeMap<String, String>,
) -> impl IntoView {
    let access = expect_context::<ProjectAccess>();
    let editable = move || access.allows("project", "update");
    let values = RwSignal::new(stored);
    let project = StoredValue::new(project);
    let (error, set_error) = signal(None::<ApiError>);
    let saved = RwSignal::new(false);
    let is_on = move |key: &str| values.read().get(key).is_some_and(|v| v == "true");
    let set = move |key: &str, value: String| {
        saved.set(false);
        values.update(|m| {
            m.insert(key.to_owned(), value);
        });
    };
    let save = move |_| {
        let metadata = values.get_untracked();
        spawn_local(async move {
            let result =
                api::project_config::update_metadata(&project.get_value(), &metadata).await;
            saved.set(result.is_ok());
            set_error.set(result.err());
        });
    };
    let switches = SWITCHES
        .map(|(key, label)| {
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        data-switch=key
                        prop:checked=move || is_on(key)
                        disabled=move || !editable()
                        on:change=move |ev| set(key, event_target_checked(&ev).to_string())
                    />
                    {label}
                </label>
            }
        })
        .collect_view();
    view! {
        <div class="card" data-testid="configuration">
            {switches}
            <div class="toolbar">
                <label class="check">
                    <input
                        type="checkbox"
                        data-switch="prevent_vul"
                        prop:checked=move || is_on("prevent_vul")
                        disabled=move || !editable()
                        on:change=move |ev| set("prevent_vul", event_target_checked(&ev).to_string())
                    />
                    "Prevent pulls of images with vulnerabilities of at least"
                </label>
                <select
                    aria-label="Severity"
                    disabled=move || !editable()
                    on:change=move |ev| set("severity", event_target_value(&ev))
                >
                    {SEVERITIES
                        .map(|s| {
                            let chosen = move || values.read().get("severity").is_some_and(|v| v == s);
                            view! { <option value=s selected=chosen>{s}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <ActionError error=error />
            <Show when=editable>
                <div class="actions">
                    <Show when=move || saved.get()>
                        <span class="muted" role="status">"Saved."</span>
                    </Show>
                    <button on:click=save>"Save configuration"</button>
                </div>
            </Show>
        </div>
    }
}
