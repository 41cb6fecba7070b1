//! Signing in: a local account's name and password, or one button per identity provider.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{ApiError, session};
use crate::app::Session;
use crate::components::error::ActionError;

/// Username and password form and the providers' buttons; on success the page that was asked
/// for shows.
#[component]
pub fn SignIn() -> impl IntoView {
    let providers = LocalResource::new(session::providers);
    let session = expect_context::<Session>();
    let (username, set_username) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let (error, set_error) = signal(None::<ApiError>);
    let (busy, set_busy) = signal(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        set_busy.set(true);
        set_error.set(None);
        spawn_local(async move {
            match session::sign_in(&username.get_untracked(), &password.get_untracked()).await {
                Ok(user) => session.signed_in(user),
                Err(e) => set_error.set(Some(e)),
            }
            set_busy.set(false);
        });
    };
    view! {
        <div class="sign-in">
            <form class="card" on:submit=submit>
                <h1>"Berth"</h1>
                <p class="muted">"Sign in to the registry console"</p>
                <label>
                    "Username"
                    <input
                        name="username"
                        autocomplete="username"
                        required
                        prop:value=username
                        on:input=move |ev| set_username.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Password"
                    <input
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        prop:value=password
                        on:input=move |ev| set_password.set(event_target_value(&ev))
                    />
                </label>
                <ActionError error=error />
                <button type="submit" disabled=busy>"Sign in"</button>
                <ProviderButtons providers=providers />
            </form>
        </div>
    }
}

/// One link per OpenID Connect provider (nothing when none is configured).
#[component]
fn ProviderButtons(
    /// The providers the server offers.
    providers: LocalResource<Result<Vec<session::Provider>, ApiError>>,
) -> impl IntoView {
    move || {
        let found = providers.get().and_then(Result::ok).unwrap_or_default();
        (!found.is_empty()).then(|| {
            view! {
                <div class="providers">
                    <p class="muted">"or sign in with"</p>
                    {found
                        .into_iter()
                        .map(|p| {
                            view! {
                                <a
                                    class="button secondary"
                                    data-testid="oidc-provider"
                                    rel="external"
                                    href=session::provider_login_url(&p.name)
                                >
                                    {p.display_name}
                                </a>
                            }
                        })
                        .collect_view()}
                </div>
            }
        })
    }
}
