//! Showing failures: one alert per error, never an empty page.

use leptos::prelude::*;

use crate::api::ApiError;

/// An alert with the API's message.
#[component]
pub fn ErrorMessage(
    /// What went wrong.
    error: ApiError,
) -> impl IntoView {
    let hint = match &error {
        ApiError::Unauthorized(_) => {
            Some("Your sign-in is no longer valid: sign out and in again.")
        }
        ApiError::Network(_) => Some("Check that Berth is running, then reload the page."),
        _ => None,
    };
    view! {
        <div class="alert" role="alert">
            <strong>{error.to_string()}</strong>
            {hint.map(|h| view! { <p>{h}</p> })}
        </div>
    }
}

/// The fallback of an `ErrorBoundary`: the messages of every error caught below it.
pub fn error_fallback(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="alert" role="alert">
            {move || {
                errors
                    .get()
                    .into_iter()
                    .map(|(_, e)| view! { <p><strong>{e.to_string()}</strong></p> })
                    .collect_view()
            }}
        </div>
    }
}

/// The optional error of a form or button action.
#[component]
pub fn ActionError(
    /// Set when the last action failed.
    error: ReadSignal<Option<ApiError>>,
) -> impl IntoView {
    move || error.get().map(|e| view! { <ErrorMessage error=e /> })
}
