//! A job's log, loaded when asked for and shown as preformatted text.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::error::ErrorMessage;

/// A "Log" toggle that loads the text with `load` the first time it opens.
#[component]
pub fn JobLog<F, Fut>(
    /// Reads the log.
    load: F,
) -> impl IntoView
where
    F: Fn() -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, ApiError>> + 'static,
{
    let open = RwSignal::new(false);
    let text = LocalResource::new(move || {
        let wanted = open.get();
        async move {
            if wanted {
                load().await.map(Some)
            } else {
                Ok(None)
            }
        }
    });
    view! {
        <button class="secondary" on:click=move |_| open.update(|o| *o = !*o)>
            {move || if open.get() { "Hide log" } else { "Log" }}
        </button>
        <Show when=move || open.get()>
            {move || {
                text.get()
                    .map(|loaded| match loaded {
                        Ok(Some(log)) => view! { <pre class="log" data-testid="job-log">{log}</pre> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <ErrorMessage error=e /> }.into_any(),
                    })
            }}
        </Show>
    }
}
