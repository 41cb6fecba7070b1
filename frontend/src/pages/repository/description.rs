//! A repository's description: Markdown shown as sanitized HTML, editable by those allowed.

use berth_api_types::markdown;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::error::ActionError;
use crate::pages::project::{CurrentProject, ProjectAccess};

/// The rendered description and, for holders of `repository:update`, an editor.
#[component]
pub fn Description(
    /// The repository name without the project.
    repository: String,
    /// The stored Markdown.
    text: String,
    /// Called after a successful save.
    on_saved: Callback<()>,
) -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let access = expect_context::<ProjectAccess>();
    let project = StoredValue::new(project.name.clone());
    let repository = StoredValue::new(repository);
    let editing = RwSignal::new(false);
    let (draft, set_draft) = signal(text.clone());
    let (error, set_error) = signal(None::<ApiError>);
    let html = markdown::to_safe_html(&text);
    let empty = text.trim().is_empty();
    let save = move |_| {
        let description = draft.get_untracked();
        spawn_local(async move {
            let result = api::repositories::update_description(
                &project.get_value(),
                &repository.get_value(),
                description,
            )
            .await;
            match result {
                Ok(()) => {
                    editing.set(false);
                    on_saved.run(());
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="card description">
            <Show
                when=move || editing.get()
                fallback=move || {
                    view! {
                        {if empty {
                            view! { <p class="muted">"No description."</p> }.into_any()
                        } else {
                            view! { <div class="markdown" data-testid="description" inner_html=html.clone()></div> }
                                .into_any()
                        }}
                        <Show when=move || access.allows("repository", "update")>
                            <button class="secondary" on:click=move |_| editing.set(true)>
                                "Edit description"
                            </button>
                        </Show>
                    }
                }
            >
                <textarea
                    aria-label="Description (Markdown)"
                    rows="8"
                    prop:value=draft
                    on:input=move |ev| set_draft.set(event_target_value(&ev))
                ></textarea>
                <ActionError error=error />
                <div class="actions">
                    <button class="secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
                    <button on:click=save>"Save description"</button>
                </div>
            </Show>
        </div>
    }
}
