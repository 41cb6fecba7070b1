//! The project's labels tab.

use leptos::prelude::*;

use super::{CurrentProject, ProjectAccess};
use crate::components::labels::LabelManager;

/// The project's own labels; create and delete for holders of `label:create` / `label:delete`.
#[component]
pub fn LabelsTab() -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let access = expect_context::<ProjectAccess>();
    let can_edit = Signal::derive(move || access.allows("label", "create"));
    view! { <LabelManager project_id=Some(project.project_id) can_edit=can_edit /> }
}
