//! The project's robot accounts tab.

use leptos::prelude::*;

use super::{CurrentProject, ProjectAccess};
use crate::components::robots::{RobotAccounts, RobotRights, RobotScope};

/// The project's robots; controls follow the caller's `robot:*` permissions in the project.
#[component]
pub fn RobotsTab() -> impl IntoView {
    let CurrentProject(project) = expect_context::<CurrentProject>();
    let access = expect_context::<ProjectAccess>();
    let rights = Signal::derive(move || RobotRights {
        create: access.allows("robot", "create"),
        update: access.allows("robot", "update"),
        delete: access.allows("robot", "delete"),
    });
    let scope = RobotScope::Project {
        id: project.project_id,
        name: project.name.clone(),
    };
    view! { <RobotAccounts scope=scope rights=rights /> }
}
