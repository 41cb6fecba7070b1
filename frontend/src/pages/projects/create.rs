//! The "new project" dialog: name, public flag, storage quota, and (for administrators) the
//! registry a proxy-cache project pulls through.

use berth_api_types::{ProjectMetadata, ProjectReq};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::app::Session;
use crate::components::dialog::Dialog;
use crate::components::error::ActionError;

/// Bytes per unit offered for the quota.
const UNITS: [(&str, i64); 3] = [("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40)];

/// Creates a project and calls `on_created` once the server accepted it.
#[component]
pub fn CreateProjectDialog(
    /// Whether the dialog shows.
    open: RwSignal<bool>,
    /// Called after the project was created.
    on_created: Callback<()>,
) -> impl IntoView {
    let (name, set_name) = signal(String::new());
    let (public, set_public) = signal(false);
    let (quota, set_quota) = signal(String::new());
    let (unit, set_unit) = signal(1i64 << 30);
    let (error, set_error) = signal(None::<ApiError>);
    let session = expect_context::<Session>();
    let (proxy, set_proxy) = signal(None::<i64>);
    let registries = LocalResource::new(move || {
        let admin = session.is_admin();
        async move {
            if admin {
                api::integration::list_registries(1, 100)
                    .await
                    .map(|p| p.items)
            } else {
                Ok(Vec::new())
            }
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let storage_limit = match quota.get_untracked().trim() {
            "" => -1,
            text => match text.parse::<f64>() {
                Ok(amount) if amount > 0.0 => (amount * unit.get_untracked() as f64) as i64,
                _ => {
                    set_error.set(Some(ApiError::Invalid(
                        "the quota must be a positive number, or empty for no limit".into(),
                    )));
                    return;
                }
            },
        };
        let req = ProjectReq {
            project_name: name.get_untracked().trim().to_owned(),
            metadata: Some(ProjectMetadata {
                public: Some(public.get_untracked().to_string()),
                retention_id: None,
            }),
            storage_limit: Some(storage_limit),
            registry_id: proxy.get_untracked(),
        };
        spawn_local(async move {
            match api::create_project(&req).await {
                Ok(()) => {
                    set_error.set(None);
                    set_name.set(String::new());
                    set_quota.set(String::new());
                    set_public.set(false);
                    set_proxy.set(None);
                    open.set(false);
                    on_created.run(());
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    view! {
        <Dialog title="New project" open=open>
            <form on:submit=submit>
                <label>
                    "Project name"
                    <input
                        name="project_name"
                        required
                        prop:value=name
                        on:input=move |ev| set_name.set(event_target_value(&ev))
                    />
                </label>
                <label class="check">
                    <input
                        type="checkbox"
                        name="public"
                        prop:checked=public
                        on:change=move |ev| set_public.set(event_target_checked(&ev))
                    />
                    "Public: anyone may pull without signing in"
                </label>
                <label>
                    "Storage quota (empty for no limit)"
                    <span class="row">
                        <input
                            name="quota"
                            inputmode="decimal"
                            prop:value=quota
                            on:input=move |ev| set_quota.set(event_target_value(&ev))
                        />
                        <select
                            name="quota_unit"
                            on:change=move |ev| {
                                let bytes = event_target_value(&ev).parse().unwrap_or(1 << 30);
                                set_unit.set(bytes);
                            }
                        >
                            {UNITS
                                .map(|(label, bytes)| {
                                    view! {
                                        <option value=bytes.to_string() selected={ bytes == 1 << 30 }>
                                            {label}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </span>
                </label>
                {move || {
                    let found = registries.get().and_then(Result::ok).unwrap_or_default();
                    (!found.is_empty()).then(|| {
                        let options = found
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <option value=r.id.to_string()>
                                        {format!("{} ({})", r.name, r.url)}
                                    </option>
                                }
                            })
                            .collect_view();
                        view! {
                            <label>
                                "Proxy cache of (read-only, pulls through this registry)"
                                <select
                                    name="registry"
                                    on:change=move |ev| {
                                        set_proxy.set(event_target_value(&ev).parse().ok());
                                    }
                                >
                                    <option value="" selected>"None: an ordinary project"</option>
                                    {options}
                                </select>
                            </label>
                        }
                    })
                }}
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
