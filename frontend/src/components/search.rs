//! Global search in the top bar: projects and repositories whose names contain the text.

use berth_api_types::SearchResult;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::error::ErrorMessage;

/// A search box; from two characters on, the server's matches show below it as links.
#[component]
pub fn GlobalSearch() -> impl IntoView {
    let (query, set_query) = signal(String::new());
    let found = LocalResource::new(move || {
        let q = query.get().trim().to_owned();
        async move {
            if q.chars().count() < 2 {
                Ok(None)
            } else {
                api::admin::search(&q).await.map(Some)
            }
        }
    });
    let close = move || set_query.set(String::new());
    view! {
        <div class="search">
            <input
                type="search"
                placeholder="Search projects and repositories"
                aria-label="Search Berth"
                prop:value=query
                on:input=move |ev| set_query.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        close();
                    }
                }
            />
            {move || {
                found
                    .get()
                    .map(|result| match result {
                        Ok(Some(hits)) => view! { <SearchHits hits=hits on_pick=Callback::new(move |()| close()) /> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <div class="search-results"><ErrorMessage error=e /></div> }.into_any(),
                    })
            }}
        </div>
    }
}

#[component]
fn SearchHits(
    /// What the server found.
    hits: SearchResult,
    /// Called when a hit is opened.
    on_pick: Callback<()>,
) -> impl IntoView {
    let empty = hits.project.is_empty() && hits.repository.is_empty();
    let projects = hits
        .project
        .into_iter()
        .map(|p| {
            view! {
                <li>
                    <A href=format!("/projects/{}", p.name) on:click=move |_| on_pick.run(())>
                        {p.name.clone()}
                    </A>
                </li>
            }
        })
        .collect_view();
    let repositories = hits
        .repository
        .into_iter()
        .map(|r| {
            let short = r
                .repository_name
                .split_once('/')
                .map_or(r.repository_name.clone(), |(_, rest)| rest.to_owned());
            let href = format!("/projects/{}/repositories/{short}", r.project_name);
            view! {
                <li>
                    <A href=href on:click=move |_| on_pick.run(())>{r.repository_name.clone()}</A>
                    <span class="muted">{format!(" {} artifacts", r.artifact_count)}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="search-results" role="listbox" aria-label="Search results">
            {empty.then(|| view! { <p class="muted">"Nothing matches."</p> })}
            <p class="section">"Projects"</p>
            <ul class="plain" data-testid="search-projects">{projects}</ul>
            <p class="section">"Repositories"</p>
            <ul class="plain" data-testid="search-repositories">{repositories}</ul>
        </div>
    }
}
