//! Administration → global labels.

use leptos::prelude::*;

use super::AdminsOnly;
use crate::app::Session;
use crate::components::labels::LabelManager;

/// Labels every project may use.
#[component]
pub fn GlobalLabelsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    if !session.is_admin() {
        return view! { <AdminsOnly /> }.into_any();
    }
    view! {
        <section>
            <h1>"Labels"</h1>
            <LabelManager project_id=None can_edit=true />
        </section>
    }
    .into_any()
}
