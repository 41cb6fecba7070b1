//! Administration → audit logs of the whole system.

use leptos::prelude::*;

use super::AdminsOnly;
use crate::app::Session;
use crate::components::audit::AuditLogList;

/// Every audit entry, filtered and paged on the server.
#[component]
pub fn AuditLogsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    view! {
        <section>
            <h1>"Audit logs"</h1>
            <AuditLogList project=None />
        </section>
    }
    .into_any()
}
