//! The project's tag retention policy: its rules, its schedule, and its runs (dry or real) with
//! each repository's outcome and log.

use berth_api_types::{
    RetentionExecution, RetentionPolicy, RetentionRule, RetentionTask, RetentionTemplate,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{CurrentProject, ProjectAccess};
use crate::api::{self, ApiError};
use crate::components::error::{ActionError, error_fallback};
use crate::components::job_log::JobLog;
use crate::components::patterns::PatternFields;
use crate::format;

/// The policy (created with its first rule) and, once it exists, its runs.
#[component]
pub fn RetentionTab() -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let project_id = project.project_id;
    let policy_id = RwSignal::new(
        project
            .metadata
            .retention_id
            .as_deref()
            .and_then(|id| id.parse::<i64>().ok()),
    );
    let reload = RwSignal::new(0u32);
    let templates = LocalResource::new(api::retention::metadata);
    let policy = LocalResource::new(move || {
        reload.track();
        let id = policy_id.get();
        async move {
            match id {
                Some(id) => api::retention::policy(id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let (error, set_error) = signal(None::<ApiError>);
    let save = Callback::new(move |changed: RetentionPolicy| {
        spawn_local(async move {
            let result = if changed.id == 0 {
                api::retention::create(&changed)
                    .await
                    .map(|id| policy_id.set(Some(id)))
            } else {
                api::retention::update(&changed).await
            };
            set_error.set(result.err());
            reload.update(|n| *n += 1);
        });
    });
    view! {
        <p class="muted">
            "A tag is kept when any rule keeps it. When the policy runs, every other tag in the "
            "repositories its rules name is deleted, and so is every untagged artifact no rule "
            "keeps. A dry run only reports what would go."
        </p>
        <ActionError error=error />
        <Suspense fallback=|| view! { <p class="notice">"Loading the retention policy…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let templates = templates.await?.templates;
                    let current = policy.await?;
                    Ok::<_, ApiError>(view! {
                        <PolicyView project_id templates current on_save=save />
                    })
                })}
            </ErrorBoundary>
        </Suspense>
        {move || policy_id.get().map(|id| view! { <Runs policy_id=id /> })}
    }
}

/// The rules with their delete buttons, the new-rule form and the schedule.
#[component]
fn PolicyView(
    project_id: i64,
    templates: Vec<RetentionTemplate>,
    current: Option<RetentionPolicy>,
    on_save: Callback<RetentionPolicy>,
) -> impl IntoView {
    let access = expect_context::<ProjectAccess>();
    let exists = current.is_some();
    let base =
        StoredValue::new(current.unwrap_or_else(|| RetentionPolicy::for_project(project_id)));
    let templates = StoredValue::new(templates);
    let rules = base.with_value(|p| p.rules.clone());
    let rows = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let (repositories, tags) = rule.patterns();
            let described = templates.with_value(|t| rule.describe(t));
            let key = described.clone();
            let remove = move |_| {
                let mut changed = base.get_value();
                changed.rules.remove(index);
                on_save.run(changed);
            };
            view! {
                <tr data-rule=key>
                    <td>{described}</td>
                    <td><code>{repositories}</code></td>
                    <td><code>{tags}</code></td>
                    <td>{if rule.keeps_untagged() { "Yes" } else { "No" }}</td>
                    <td>
                        <Show when=move || access.allows("tag-retention", "update")>
                            <button class="danger" on:click=remove>"Delete rule"</button>
                        </Show>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let table = if rules.is_empty() {
        view! { <p class="notice">"No retention rules: nothing is deleted."</p> }.into_any()
    } else {
        view! {
            <table data-testid="retention-rules">
                <thead>
                    <tr><th>"Keeps"</th><th>"Repositories"</th><th>"Tags"</th><th>"Untagged"</th><th></th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let may_add = move || {
        if exists {
            access.allows("tag-retention", "update")
        } else {
            access.allows("tag-retention", "create")
        }
    };
    view! {
        {table}
        <Show when=may_add>
            <RuleForm templates=templates.get_value() base on_save />
        </Show>
        <Show when=move || exists && access.allows("tag-retention", "update")>
            <ScheduleForm base on_save />
        </Show>
    }
}

/// Adds one rule to the policy (creating the policy with its first rule).
#[component]
fn RuleForm(
    templates: Vec<RetentionTemplate>,
    base: StoredValue<RetentionPolicy>,
    on_save: Callback<RetentionPolicy>,
) -> impl IntoView {
    let first = templates
        .first()
        .map(|t| t.rule_template.clone())
        .unwrap_or_default();
    let templates = StoredValue::new(templates);
    let (template, set_template) = signal(first);
    let (count, set_count) = signal(String::from("10"));
    let repositories = RwSignal::new(String::from("**"));
    let tags = RwSignal::new(String::from("**"));
    let (untagged, set_untagged) = signal(false);
    let chosen = move || {
        templates.with_value(|list| {
            list.iter()
                .find(|t| t.rule_template == template.get())
                .cloned()
        })
    };
    let needs_count = move || chosen().is_some_and(|t| !t.params.is_empty());
    let (invalid, set_invalid) = signal(None::<ApiError>);
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(chosen) = chosen() else {
            return;
        };
        let value = if chosen.params.is_empty() {
            None
        } else {
            match count.get_untracked().trim().parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    set_invalid.set(Some(ApiError::Decode(
                        "the count must be a whole number of zero or more".into(),
                    )));
                    return;
                }
            }
        };
        set_invalid.set(None);
        let rule = RetentionRule::new(
            &chosen,
            value,
            &repositories.get_untracked(),
            &tags.get_untracked(),
            untagged.get_untracked(),
        );
        let mut changed = base.get_value();
        changed.rules.push(rule);
        on_save.run(changed);
    };
    let options = templates.with_value(|list| {
        list.iter()
            .map(|t| {
                let value = t.rule_template.clone();
                let text = t.display_text.clone();
                view! { <option value=value>{text}</option> }
            })
            .collect_view()
    });
    view! {
        <form class="toolbar" aria-label="New retention rule" on:submit=add>
            <select
                aria-label="Rule template"
                prop:value=template
                on:change=move |ev| set_template.set(event_target_value(&ev))
            >
                {options}
            </select>
            <Show when=needs_count>
                <input
                    aria-label="Count"
                    inputmode="numeric"
                    size="4"
                    prop:value=count
                    on:input=move |ev| set_count.set(event_target_value(&ev))
                />
            </Show>
            <PatternFields repositories tags />
            <label>
                <input
                    type="checkbox"
                    prop:checked=untagged
                    on:change=move |ev| set_untagged.set(event_target_checked(&ev))
                />
                " Keep untagged artifacts"
            </label>
            <button type="submit">"+ Add rule"</button>
        </form>
        <ActionError error=invalid />
    }
}

/// The policy's cron schedule (six fields, seconds first; empty for none).
#[component]
fn ScheduleForm(
    base: StoredValue<RetentionPolicy>,
    on_save: Callback<RetentionPolicy>,
) -> impl IntoView {
    let (cron, set_cron) = signal(base.with_value(RetentionPolicy::cron));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut changed = base.get_value();
        changed.set_cron(&cron.get_untracked());
        on_save.run(changed);
    };
    view! {
        <form class="toolbar" aria-label="Retention schedule" on:submit=submit>
            <label>
                "Schedule (cron, seconds first; empty runs only when asked) "
                <input
                    aria-label="Cron"
                    placeholder="0 0 0 * * *"
                    prop:value=cron
                    on:input=move |ev| set_cron.set(event_target_value(&ev))
                />
            </label>
            <button type="submit" class="secondary">"Save schedule"</button>
        </form>
    }
}

/// Run buttons and the list of runs, newest first.
#[component]
fn Runs(policy_id: i64) -> impl IntoView {
    let access = expect_context::<ProjectAccess>();
    let reload = RwSignal::new(0u32);
    let runs = LocalResource::new(move || {
        reload.track();
        async move { api::retention::executions(policy_id).await }
    });
    let (error, set_error) = signal(None::<ApiError>);
    let start = move |dry_run: bool| {
        spawn_local(async move {
            set_error.set(api::retention::run(policy_id, dry_run).await.err());
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <div class="toolbar">
            <h3>"Runs"</h3>
            <span class="spacer"></span>
            <Show when=move || access.allows("tag-retention", "operate")>
                <button class="secondary" on:click=move |_| start(true)>"Dry run"</button>
                <button on:click=move |_| start(false)>"Run now"</button>
            </Show>
            <button class="secondary" on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
        </div>
        <ActionError error=error />
        <Suspense fallback=|| view! { <p class="notice">"Loading runs…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    runs.await.map(|list| view! { <RunTable policy_id runs=list /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn RunTable(policy_id: i64, runs: Vec<RetentionExecution>) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p class="notice">"No runs yet."</p> }.into_any();
    }
    let rows = runs
        .into_iter()
        .map(|run| {
            let open = RwSignal::new(false);
            let id = run.id;
            view! {
                <tr data-run=id.to_string() data-status=run.status.clone()>
                    <td>{id}</td>
                    <td>{run.status.clone()}</td>
                    <td>{if run.dry_run { "Dry run" } else { "Real" }}</td>
                    <td>{run.trigger.clone()}</td>
                    <td>{run.start_time.as_deref().map(format::time).unwrap_or_default()}</td>
                    <td>{run.message.clone().unwrap_or_default()}</td>
                    <td>
                        <button class="secondary" on:click=move |_| open.update(|o| *o = !*o)>
                            {move || if open.get() { "Hide repositories" } else { "Repositories" }}
                        </button>
                    </td>
                </tr>
                <Show when=move || open.get()>
                    <tr><td colspan="7"><TaskTable policy_id execution=id /></td></tr>
                </Show>
            }
        })
        .collect_view();
    view! {
        <table data-testid="retention-runs">
            <thead>
                <tr><th>"Run"</th><th>"Status"</th><th>"Kind"</th><th>"Trigger"</th><th>"Started"</th><th>"Result"</th><th></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// One run's repositories: how many tags each held and kept, with the log.
#[component]
fn TaskTable(policy_id: i64, execution: i64) -> impl IntoView {
    let tasks = LocalResource::new(move || api::retention::tasks(policy_id, execution));
    view! {
        <Suspense fallback=|| view! { <p class="notice">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    tasks.await.map(|list| task_rows(policy_id, execution, list))
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

fn task_rows(policy_id: i64, execution: i64, tasks: Vec<RetentionTask>) -> AnyView {
    if tasks.is_empty() {
        return view! { <p class="notice">"No repository was in scope."</p> }.into_any();
    }
    let rows = tasks
        .into_iter()
        .map(|task| {
            let id = task.id;
            view! {
                <tr data-repository=task.repository.clone()>
                    <td>{task.repository.clone()}</td>
                    <td>{task.status.clone()}</td>
                    <td>{task.total}</td>
                    <td>{task.retained}</td>
                    <td><JobLog load=move || api::retention::task_log(policy_id, execution, id) /></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="retention-tasks">
            <thead>
                <tr><th>"Repository"</th><th>"Status"</th><th>"Held"</th><th>"Kept"</th><th></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
