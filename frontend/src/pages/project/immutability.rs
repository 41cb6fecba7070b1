//! The project's tag immutability rules: list, add (repository and tag patterns), delete.

use berth_api_types::ImmutableRule;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{CurrentProject, ProjectAccess};
use crate::api::{self, ApiError};
use crate::components::error::{ActionError, error_fallback};
use crate::components::patterns::PatternFields;

/// The rules; the form and delete buttons for holders of `immutable-tag:create` / `:delete`.
#[component]
pub fn ImmutabilityTab() -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let access = expect_context::<ProjectAccess>();
    let name = StoredValue::new(project.name.clone());
    let reload = RwSignal::new(0u32);
    let rules = LocalResource::new(move || {
        reload.track();
        async move { api::project_config::immutable_rules(&name.get_value()).await }
    });
    let (error, set_error) = signal(None::<ApiError>);
    let done = Callback::new(move |result: Result<(), ApiError>| {
        set_error.set(result.err());
        reload.update(|n| *n += 1);
    });
    let repositories = RwSignal::new(String::from("**"));
    let tags = RwSignal::new(String::new());
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let rule = ImmutableRule::protecting(&repositories.get_untracked(), &tags.get_untracked());
        spawn_local(async move {
            done.run(api::project_config::create_immutable_rule(&name.get_value(), &rule).await);
        });
    };
    view! {
        <p class="muted">"Tags matching a rule cannot be pushed again or deleted."</p>
        <Show when=move || access.allows("immutable-tag", "create")>
            <form class="toolbar" aria-label="New immutability rule" on:submit=add>
                <PatternFields repositories tags />
                <button type="submit">"+ Add rule"</button>
            </form>
        </Show>
        <ActionError error=error />
        <Suspense fallback=|| view! { <p class="notice">"Loading rules…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    rules.await.map(|list| view! { <RuleTable project=name.get_value() rules=list on_done=done /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn RuleTable(
    project: String,
    rules: Vec<ImmutableRule>,
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    let access = expect_context::<ProjectAccess>();
    if rules.is_empty() {
        return view! { <p class="notice">"No immutability rules."</p> }.into_any();
    }
    let project = StoredValue::new(project);
    let rows = rules
        .into_iter()
        .map(|r| {
            let id = r.id;
            let (repositories, tags) = r.patterns();
            let delete = move |_| {
                spawn_local(async move {
                    on_done.run(
                        api::project_config::delete_immutable_rule(&project.get_value(), id).await,
                    );
                });
            };
            view! {
                <tr data-rule=tags.clone()>
                    <td><code>{repositories}</code></td>
                    <td><code>{tags.clone()}</code></td>
                    <td>{if r.disabled { "Disabled" } else { "Enabled" }}</td>
                    <td>
                        <Show when=move || access.allows("immutable-tag", "delete")>
                            <button class="danger" on:click=delete>"Delete rule"</button>
                        </Show>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="immutable-rules">
            <thead><tr><th>"Repositories"</th><th>"Tags"</th><th>"State"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
