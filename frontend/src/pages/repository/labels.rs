//! Labels on an artifact: attach one of the project's or the global labels, detach.

use berth_api_types::Label;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::error::ActionError;
use crate::pages::project::{CurrentProject, ProjectAccess};

/// The attached labels; pickers for holders of `artifact-label:create` / `:delete`.
#[component]
pub fn ArtifactLabels(
    /// The repository name without the project.
    repository: String,
    /// The artifact's digest.
    digest: String,
    /// Labels attached now.
    labels: Vec<Label>,
    /// Called after a label was attached or detached.
    on_change: Callback<()>,
) -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let access = expect_context::<ProjectAccess>();
    let project_id = project.project_id;
    let target = StoredValue::new((project.name.clone(), repository, digest));
    let attached: Vec<i64> = labels.iter().map(|l| l.id).collect();
    let (error, set_error) = signal(None::<ApiError>);
    let done = move |result: Result<(), ApiError>| match result {
        Ok(()) => {
            set_error.set(None);
            on_change.run(());
        }
        Err(e) => set_error.set(Some(e)),
    };
    let available = LocalResource::new(move || api::repositories::labels_for(project_id));
    let chips = labels
        .into_iter()
        .map(|l| {
            let id = l.id;
            let detach = move |_| {
                let (project, repository, digest) = target.get_value();
                spawn_local(async move {
                    done(api::repositories::detach_label(&project, &repository, &digest, id).await);
                });
            };
            view! {
                <span class="label-chip" style=format!("border-color:{}", l.color) data-label=l.name.clone()>
                    {l.name.clone()}
                    <Show when=move || access.allows("artifact-label", "delete")>
                        <button class="icon" aria-label="Detach label" on:click=detach>"×"</button>
                    </Show>
                </span>
            }
        })
        .collect_view();
    let attach = move |ev: leptos::ev::Event| {
        let Ok(id) = event_target_value(&ev).parse::<i64>() else {
            return;
        };
        let (project, repository, digest) = target.get_value();
        spawn_local(async move {
            done(api::repositories::attach_label(&project, &repository, &digest, id).await);
        });
    };
    let attached = StoredValue::new(attached);
    view! {
        <h3>"Labels"</h3>
        <div class="toolbar">
            {chips}
            <Show when=move || access.allows("artifact-label", "create")>
                <Transition fallback=|| ()>
                    {move || {
                        available
                            .get()
                            .and_then(Result::ok)
                            .map(|all| {
                                let options = all
                                    .into_iter()
                                    .filter(|l| !attached.read_value().contains(&l.id))
                                    .map(|l| view! { <option value=l.id.to_string()>{l.name}</option> })
                                    .collect_view();
                                view! {
                                    <select aria-label="Attach label" on:change=attach>
                                        <option value="">"Attach label…"</option>
                                        {options}
                                    </select>
                                }
                            })
                    }}
                </Transition>
            </Show>
        </div>
        <ActionError error=error />
    }
}
