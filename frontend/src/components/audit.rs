//! Audit logs of a project or of the system: filters (user, operation, resource) and paging,
//! both applied on the server.

use berth_api_types::AuditLog;
use berth_api_types::admin::audit_query;
use leptos::prelude::*;

use crate::api;
use crate::components::error::error_fallback;
use crate::components::pager::Pager;
use crate::format;

const PAGE_SIZE: u64 = 20;
const OPERATIONS: [&str; 5] = ["create", "update", "delete", "pull", "login"];

/// The entries of `project` (by name), or every entry when `None`.
#[component]
pub fn AuditLogList(
    /// The project, or `None` for the system's log.
    project: Option<String>,
) -> impl IntoView {
    let project = StoredValue::new(project);
    let (username, set_username) = signal(String::new());
    let (operation, set_operation) = signal(String::new());
    let (resource, set_resource) = signal(String::new());
    let page = RwSignal::new(1u64);
    let entries = LocalResource::new(move || {
        let q = audit_query(&username.get(), &operation.get(), &resource.get());
        let page = page.get();
        async move { api::admin::audit_logs(project.get_value().as_deref(), &q, page, PAGE_SIZE).await }
    });
    let total = Signal::derive(move || entries.get().and_then(Result::ok).map_or(0, |p| p.total));
    view! {
        <form class="toolbar" aria-label="Filter audit logs" on:submit=|ev| ev.prevent_default()>
            <input
                type="search"
                placeholder="User"
                aria-label="Filter by user"
                prop:value=username
                on:input=move |ev| {
                    set_username.set(event_target_value(&ev));
                    page.set(1);
                }
            />
            <select
                aria-label="Filter by operation"
                on:change=move |ev| {
                    set_operation.set(event_target_value(&ev));
                    page.set(1);
                }
            >
                <option value="">"Any operation"</option>
                {OPERATIONS.map(|o| view! { <option value=o>{o}</option> }).collect_view()}
            </select>
            <input
                type="search"
                placeholder="Resource"
                aria-label="Filter by resource"
                prop:value=resource
                on:input=move |ev| {
                    set_resource.set(event_target_value(&ev));
                    page.set(1);
                }
            />
        </form>
        <Suspense fallback=|| view! { <p class="notice">"Loading audit logs…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    entries.await.map(|p| view! { <AuditTable entries=p.items /> })
                })}
            </ErrorBoundary>
        </Suspense>
        <Pager page=page page_size=PAGE_SIZE total=total />
    }
}

#[component]
fn AuditTable(
    /// The entries of the current page.
    entries: Vec<AuditLog>,
) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="notice">"No audit entries match."</p> }.into_any();
    }
    let rows = entries
        .into_iter()
        .map(|e| {
            view! {
                <tr data-audit=e.operation.clone()>
                    <td>{format::time(&e.op_time)}</td>
                    <td>{e.username.clone()}</td>
                    <td>{e.operation.clone()}</td>
                    <td>{e.resource_type.clone()}</td>
                    <td><code>{e.resource.clone()}</code></td>
                    <td>{if e.success { "ok" } else { "failed" }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table data-testid="audit-logs">
            <thead>
                <tr>
                    <th>"Time"</th>
                    <th>"User"</th>
                    <th>"Operation"</th>
                    <th>"Resource type"</th>
                    <th>"Resource"</th>
                    <th>"Result"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
