//! The page for an address the console does not know.

use leptos::prelude::*;
use leptos_router::components::A;

/// Says the address is unknown and links back to the projects.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section>
            <h1>"Page not found"</h1>
            <p>"Nothing lives at this address."</p>
            <A href="/projects">"Go to the projects"</A>
        </section>
    }
}
