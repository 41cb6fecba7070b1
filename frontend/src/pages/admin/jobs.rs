//! Administration → job service: the queues (pause, resume) and the jobs (executions) with
//! status, attempts, progress, timings and logs.

use berth_api_types::admin::progress_pairs;
use berth_api_types::{Job, Queue};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::AdminsOnly;
use crate::api::{self, ApiError};
use crate::app::Session;
use crate::components::error::{ActionError, error_fallback};
use crate::components::job_log::JobLog;
use crate::components::pager::Pager;
use crate::format;

const PAGE_SIZE: u64 = 15;

/// The job service page.
#[component]
pub fn JobsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    let reload = RwSignal::new(0u32);
    let (job_type, set_job_type) = signal(String::new());
    let page = RwSignal::new(1u64);
    let queues = LocalResource::new(move || {
        reload.track();
        api::admin::queues()
    });
    let jobs = LocalResource::new(move || {
        reload.track();
        let (job_type, page) = (job_type.get(), page.get());
        async move { api::admin::jobs(&job_type, page, PAGE_SIZE).await }
    });
    let total = Signal::derive(move || jobs.get().and_then(Result::ok).map_or(0, |p| p.total));
    let (error, set_error) = signal(None::<ApiError>);
    let done = Callback::new(move |result: Result<(), ApiError>| {
        set_error.set(result.err());
        reload.update(|n| *n += 1);
    });
    view! {
        <section>
            <h1>"Job service"</h1>
            <ActionError error=error />
            <h3>"Queues"</h3>
            <Suspense fallback=|| view! { <p class="notice">"Loading queues…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        queues.await.map(|q| view! { <QueueTable queues=q on_done=done /> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <div class="toolbar">
                <h3>"Jobs"</h3>
                <span class="spacer"></span>
                <select
                    aria-label="Job type"
                    on:change=move |ev| {
                        set_job_type.set(event_target_value(&ev));
                        page.set(1);
                    }
                >
                    <option value="">"All types"</option>
                    {move || {
                        queues
                            .get()
                            .and_then(Result::ok)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|q| {
                                let label = q.job_type.clone();
                                view! { <option value=q.job_type>{label}</option> }
                            })
                            .collect_view()
                    }}
                </select>
                <button class="secondary" on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <Suspense fallback=|| view! { <p class="notice">"Loading jobs…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        jobs.await.map(|p| view! { <JobTable jobs=p.items on_done=done /> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <Pager page=page page_size=PAGE_SIZE total=total />
        </section>
    }
    .into_any()
}

#[component]
fn QueueTable(
    /// One queue per job type.
    queues: Vec<Queue>,
    /// Called with the outcome of each action.
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    let rows = queues
        .into_iter()
        .map(|q| {
            let kind = StoredValue::new(q.job_type.clone());
            let action = if q.paused { "resume" } else { "pause" };
            let act = move |_| {
                spawn_local(async move {
                    on_done.run(api::admin::act_on_queue(&kind.get_value(), action).await);
                });
            };
            view! {
                <tr data-queue=q.job_type.clone()>
                    <td>{q.job_type.clone()}</td>
                    <td class="num">{q.count}</td>
                    <td>{if q.paused { "Paused" } else { "Running" }}</td>
                    <td>
                        <button class="secondary" on:click=act>
                            {if q.paused { "Resume" } else { "Pause" }}
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="queues">
            <thead>
                <tr><th>"Job type"</th><th class="num">"Pending"</th><th>"State"</th><th></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn JobTable(
    /// The jobs of the current page.
    jobs: Vec<Job>,
    /// Called with the outcome of a stop.
    on_done: Callback<Result<(), ApiError>>,
) -> impl IntoView {
    if jobs.is_empty() {
        return view! { <p class="notice">"No jobs."</p> }.into_any();
    }
    let rows = jobs
        .into_iter()
        .map(|j| {
            let id = j.id;
            let running = matches!(j.status.as_str(), "Pending" | "Running" | "Scheduled");
            let counters = progress_pairs(&j.progress)
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let stop = move |_| {
                spawn_local(async move { on_done.run(api::admin::stop_job(id).await) });
            };
            let time = |t: &Option<String>| t.as_deref().map_or("—".to_owned(), format::time);
            view! {
                <tr data-job=id.to_string()>
                    <td class="num">{id}</td>
                    <td>{j.job_type.clone()}</td>
                    <td>{j.trigger.clone()}</td>
                    <td data-testid="job-status">{j.status.clone()}</td>
                    <td class="num">{format!("{}/{}", j.attempt, j.max_attempts)}</td>
                    <td>{time(&j.start_time)}</td>
                    <td>{time(&j.end_time)}</td>
                    <td class="small">{counters} <br /> {j.message.clone().unwrap_or_default()}</td>
                    <td class="row-actions">
                        {running.then(|| view! { <button class="danger" on:click=stop>"Stop"</button> })}
                        <JobLog load=move || api::admin::job_log(id) />
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="jobs">
            <thead>
                <tr>
                    <th class="num">"Id"</th>
                    <th>"Type"</th>
                    <th>"Trigger"</th>
                    <th>"Status"</th>
                    <th class="num">"Attempt"</th>
                    <th>"Started"</th>
                    <th>"Ended"</th>
                    <th>"Progress"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
