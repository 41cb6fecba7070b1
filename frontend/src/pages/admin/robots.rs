//! Administration → system robot accounts.

use leptos::prelude::*;

use super::AdminsOnly;
use crate::app::Session;
use crate::components::robots::{RobotAccounts, RobotRights, RobotScope};

/// System-level robots; every control, since only administrators reach this page.
#[component]
pub fn SystemRobotsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    let rights = RobotRights {
        create: true,
        update: true,
        delete: true,
    };
    view! {
        <section>
            <h1>"System robot accounts"</h1>
            <RobotAccounts scope=RobotScope::System rights=rights />
        </section>
    }
    .into_any()
}
