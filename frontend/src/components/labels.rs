//! Label management: the global labels or a project's, with create and delete.

use berth_api_types::{Label, NewLabel};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::error::{ActionError, error_fallback};
use crate::components::pager::Pager;

const PAGE_SIZE: u64 = 15;

/// The labels of `project_id` (or the global ones); controls only when `can_edit`.
#[component]
pub fn LabelManager(
    /// The project, or `None` for global labels.
    project_id: Option<i64>,
    /// Whether to show the create form and delete buttons.
    #[prop(into)]
    can_edit: Signal<bool>,
) -> impl IntoView {
    let page = RwSignal::new(1u64);
    let reload = RwSignal::new(0u32);
    let labels = LocalResource::new(move || {
        reload.track();
        let page = page.get();
        async move { api::project_config::list_labels(project_id, page, PAGE_SIZE).await }
    });
    let total = Signal::derive(move || labels.get().and_then(Result::ok).map_or(0, |p| p.total));
    let (error, set_error) = signal(None::<ApiError>);
    let done = Callback::new(move |result: Result<(), ApiError>| {
        set_error.set(result.err());
        reload.update(|n| *n += 1);
    });
    view! {
        <Show when=move || can_edit.get()>
            <NewLabelForm project_id=project_id on_done=done />
        </Show>
        <ActionError error=error />
        <Suspense fallback=|| view! { <p class="notice">"Loading labels…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    labels
                        .await
                        .map(|p| view! { <LabelTable labels=p.items can_edit=can_edit on_done=done /> })
                })}
            </ErrorBoundary>
        </Suspense>
        <Pager page=page page_size=PAGE_SIZE total=total />
    }
}

#[component]
fn NewLabelForm(project_id: Option<i64>, on_done: Callback<Result<(), ApiError>>) -> impl IntoView {
    let (name, set_name) = signal(String::new());
    let (color, set_color) = signal(String::from("#0b64c0"));
    let (description, set_description) = signal(String::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let label = NewLabel {
            name: name.get_untracked().trim().to_owned(),
            description: description.get_untracked(),
            color: color.get_untracked(),
            scope: if project_id.is_some() { "p" } else { "g" }.into(),
            project_id,
        };
        spawn_local(async move {
            let result = api::project_config::create_label(&label).await;
            if result.is_ok() {
                set_name.set(String::new());
                set_description.set(String::new());
            }
            on_done.run(result);
        });
    };
    view! {
        <form class="toolbar" aria-label="New label" on:submit=submit>
            <input
                name="label_name"
                placeholder="Label name"
                aria-label="Label name"
                required
                prop:value=name
                on:input=move |ev| set_name.set(event_target_value(&ev))
            />
            <input
                type="color"
                aria-label="Label color"
                prop:value=color
                on:input=move |ev| set_color.set(event_target_value(&ev))
            />
            <input
                placeholder="Description"
                aria-label="Label description"
                prop:value=description
                on:input=move |ev| set_description.set(event_target_value(&ev))
            />
            <button type="submit">"+ New label"</button>
        </form>
    }
}

#[component]
fn LabelTable(
    labels: Vec<Label>,
    can_edit: Signal<bool>,
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    if labels.is_empty() {
        return view! { <p class="notice">"No labels."</p> }.into_any();
    }
    let rows = labels
        .into_iter()
        .map(|l| {
            let id = l.id;
            let delete = move |_| {
                spawn_local(
                    async move { on_done.run(api::project_config::delete_label(id).await) },
                );
            };
            view! {
                <tr data-label=l.name.clone()>
                    <td>
                        <span class="label-chip" style=format!("border-color:{}", l.color)>
                            {l.name.clone()}
                        </span>
                    </td>
                    <td>{l.description.clone()}</td>
                    <td>
                        <Show when=move || can_edit.get()>
                            <button class="danger" on:click=delete>"Delete"</button>
                        </Show>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="labels">
            <thead><tr><th>"Label"</th><th>"Description"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
