//! Administration → garbage collection: run now (or as a dry run), the schedule, and the
//! history of runs with each run's progress and log.

use berth_api_types::admin::progress_pairs;
use berth_api_types::{GcRun, GcSchedule, Schedule};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::AdminsOnly;
use crate::api::{self, ApiError};
use crate::app::Session;
use crate::components::error::{ActionError, error_fallback};
use crate::components::job_log::JobLog;
use crate::components::pager::Pager;
use crate::format;

const PAGE_SIZE: u64 = 10;
const SCHEDULES: [&str; 5] = ["None", "Hourly", "Daily", "Weekly", "Custom"];

/// The garbage collection page.
#[component]
pub fn GcPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    let reload = RwSignal::new(0u32);
    let page = RwSignal::new(1u64);
    let runs = LocalResource::new(move || {
        reload.track();
        let page = page.get();
        async move { api::admin::gc_runs(page, PAGE_SIZE).await }
    });
    let total = Signal::derive(move || runs.get().and_then(Result::ok).map_or(0, |p| p.total));
    let schedule = LocalResource::new(api::admin::gc_schedule);
    let refresh = Callback::new(move |()| reload.update(|n| *n += 1));
    view! {
        <section>
            <h1>"Garbage collection"</h1>
            <RunNow on_started=refresh />
            <Suspense fallback=|| ()>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        schedule.await.map(|s| view! { <ScheduleForm current=s /> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <div class="toolbar">
                <h3>"History"</h3>
                <span class="spacer"></span>
                <button class="secondary" on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <Suspense fallback=|| view! { <p class="notice">"Loading runs…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        runs.await.map(|p| view! { <RunTable runs=p.items /> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <Pager page=page page_size=PAGE_SIZE total=total />
        </section>
    }
    .into_any()
}

/// "Dry run" and "Run GC now", with the untagged-artifacts option.
#[component]
fn RunNow(
    /// Called once a run is queued.
    on_started: Callback<()>,
) -> impl IntoView {
    let (untagged, set_untagged) = signal(false);
    let (error, set_error) = signal(None::<ApiError>);
    let run = move |dry_run: bool| {
        let body = GcSchedule::run_now(dry_run, untagged.get_untracked());
        spawn_local(async move {
            let result = api::admin::set_gc_schedule(&body).await;
            let ok = result.is_ok();
            set_error.set(result.err());
            if ok {
                on_started.run(());
            }
        });
    };
    view! {
        <div class="card">
            <div class="toolbar">
                <label class="check">
                    <input
                        type="checkbox"
                        aria-label="Delete untagged artifacts"
                        on:change=move |ev| set_untagged.set(event_target_checked(&ev))
                    />
                    "Delete untagged artifacts"
                </label>
                <span class="spacer"></span>
                <button class="secondary" on:click=move |_| run(true)>"Dry run"</button>
                <button on:click=move |_| run(false)>"Run GC now"</button>
            </div>
            <ActionError error=error />
        </div>
    }
}

/// The stored schedule: a type and, for `Custom`, a cron expression.
#[component]
fn ScheduleForm(
    /// The schedule as the server has it.
    current: GcSchedule,
) -> impl IntoView {
    let (kind, set_kind) = signal(current.schedule.kind.clone());
    let (cron, set_cron) = signal(current.schedule.cron.clone());
    let (error, set_error) = signal(None::<ApiError>);
    let saved = RwSignal::new(false);
    let parameters = StoredValue::new(current.parameters.clone());
    let save = move |_| {
        let body = GcSchedule {
            schedule: Schedule {
                kind: kind.get_untracked(),
                cron: cron.get_untracked(),
            },
            parameters: parameters.get_value(),
        };
        spawn_local(async move {
            let result = api::admin::set_gc_schedule(&body).await;
            saved.set(result.is_ok());
            set_error.set(result.err());
        });
    };
    view! {
        <div class="card">
            <div class="toolbar">
                <label>
                    "Schedule"
                    <select
                        aria-label="Schedule"
                        on:change=move |ev| {
                            set_kind.set(event_target_value(&ev));
                            saved.set(false);
                        }
                    >
                        {SCHEDULES
                            .map(|s| {
                                view! { <option value=s selected=move || kind.get() == s>{s}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <Show when=move || kind.get() == "Custom">
                    <label>
                        "Cron (six fields, seconds first)"
                        <input
                            aria-label="Cron"
                            placeholder="0 0 3 * * *"
                            prop:value=cron
                            on:input=move |ev| set_cron.set(event_target_value(&ev))
                        />
                    </label>
                </Show>
                <button on:click=save>"Save schedule"</button>
                <Show when=move || saved.get()>
                    <span class="muted" role="status">"Saved."</span>
                </Show>
            </div>
            <ActionError error=error />
        </div>
    }
}

#[component]
fn RunTable(
    /// The runs of the current page.
    runs: Vec<GcRun>,
) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p class="notice">"No garbage collection has run yet."</p> }.into_any();
    }
    let rows = runs
        .into_iter()
        .map(|r| {
            let id = r.id;
            let counters = progress_pairs(&r.progress)
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <tr data-gc=id.to_string()>
                    <td class="num">{id}</td>
                    <td>{r.job_kind.clone()}</td>
                    <td>{if r.dry_run() { "dry run" } else { "delete" }}</td>
                    <td data-testid="gc-status">{r.job_status.clone()}</td>
                    <td>{format::time(&r.creation_time)}</td>
                    <td>{format::time(&r.update_time)}</td>
                    <td class="small">{counters} <br /> {r.message.clone().unwrap_or_default()}</td>
                    <td><JobLog load=move || api::admin::gc_log(id) /></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="gc-runs">
            <thead>
                <tr>
                    <th class="num">"Id"</th>
                    <th>"Trigger"</th>
                    <th>"Mode"</th>
                    <th>"Status"</th>
                    <th>"Created"</th>
                    <th>"Updated"</th>
                    <th>"Progress"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
