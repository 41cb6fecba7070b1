//! The repository and tag pattern inputs of the rule forms (immutability, retention).

use leptos::prelude::*;

/// Two required inputs for doublestar patterns: repositories, then tags.
#[component]
pub fn PatternFields(repositories: RwSignal<String>, tags: RwSignal<String>) -> impl IntoView {
    view! {
        <input
            aria-label="Repositories pattern"
            placeholder="Repositories, e.g. **"
            required
            prop:value=repositories
            on:input=move |ev| repositories.set(event_target_value(&ev))
        />
        <input
            aria-label="Tags pattern"
            placeholder="Tags, e.g. v*"
            required
            prop:value=tags
            on:input=move |ev| tags.set(event_target_value(&ev))
        />
    }
}
