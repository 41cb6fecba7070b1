//! Administration pages, for system administrators only.

mod audit;
mod configuration;
mod gc;
mod groups;
mod jobs;
mod labels;
mod registries;
mod robots;
mod system;
mod users;

use leptos::prelude::*;

pub use audit::AuditLogsPage;
pub use configuration::ConfigurationPage;
pub use gc::GcPage;
pub use groups::GroupsPage;
pub use jobs::JobsPage;
pub use labels::GlobalLabelsPage;
pub use registries::RegistriesPage;
pub use robots::SystemRobotsPage;
pub use system::SystemPage;
pub use users::UsersPage;

/// Shown instead of an administration page to users who are not system administrators.
#[component]
fn AdminsOnly() -> impl IntoView {
    view! {
        <section>
            <h1>"Administration"</h1>
            <div class="alert" role="alert">
                <strong>"Only system administrators can open this page."</strong>
            </div>
        </section>
    }
}
