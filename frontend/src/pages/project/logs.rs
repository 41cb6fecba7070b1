//! The project's audit log tab.

use leptos::prelude::*;

use super::CurrentProject;
use crate::components::audit::AuditLogList;

/// The project's audit entries, filtered and paged on the server.
#[component]
pub fn LogsTab() -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    view! { <AuditLogList project=Some(project.name.clone()) /> }
}
