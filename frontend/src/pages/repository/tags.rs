//! An artifact's tags: add and delete, for those allowed.

use berth_api_types::Tag;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::error::ActionError;
use crate::format;
use crate::pages::project::{CurrentProject, ProjectAccess};

/// The tags table, an "add tag" form (`tag:create`) and delete buttons (`tag:delete`).
#[component]
pub fn TagList(
    /// The repository name without the project.
    repository: String,
    /// The artifact's digest.
    digest: String,
    /// Its tags.
    tags: Vec<Tag>,
    /// Called after a tag was added or deleted.
    on_change: Callback<()>,
) -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let access = expect_context::<ProjectAccess>();
    let target = StoredValue::new((project.name.clone(), repository, digest));
    let (error, set_error) = signal(None::<ApiError>);
    let (name, set_name) = signal(String::new());
    let done = move |result: Result<(), ApiError>| match result {
        Ok(()) => {
            set_error.set(None);
            on_change.run(());
        }
        Err(e) => set_error.set(Some(e)),
    };
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let tag = name.get_untracked().trim().to_owned();
        let (project, repository, digest) = target.get_value();
        spawn_local(async move {
            done(api::repositories::add_tag(&project, &repository, &digest, tag).await);
        });
    };
    let rows = tags
        .into_iter()
        .map(|t| {
            let tag = t.name.clone();
            let delete = move |_| {
                let (project, repository, digest) = target.get_value();
                let tag = tag.clone();
                spawn_local(async move {
                    done(api::repositories::delete_tag(&project, &repository, &digest, &tag).await);
                });
            };
            view! {
                <tr data-tag=t.name.clone()>
                    <td>{t.name.clone()}</td>
                    <td>{format::time(&t.push_time)}</td>
                    <td>{if t.immutable { "immutable" } else { "" }}</td>
                    <td>
                        <Show when=move || access.allows("tag", "delete")>
                            <button class="danger" on:click=delete.clone()>"Delete tag"</button>
                        </Show>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3>"Tags"</h3>
        <Show when=move || access.allows("tag", "create")>
            <form class="toolbar" on:submit=add aria-label="Add tag">
                <input
                    name="tag_name"
                    placeholder="New tag"
                    aria-label="New tag"
                    required
                    prop:value=name
                    on:input=move |ev| set_name.set(event_target_value(&ev))
                />
                <button type="submit">"+ Add tag"</button>
            </form>
        </Show>
        <ActionError error=error />
        <table data-testid="tags">
            <thead><tr><th>"Tag"</th><th>"Pushed"</th><th></th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
