//! Previous/next paging over a server-side list.

use leptos::prelude::*;

/// Shows "items a–b of n" and moves `page` (1-based) within the total: first, previous, next,
/// last.
#[component]
pub fn Pager(
    /// The current page, 1-based.
    page: RwSignal<u64>,
    /// Items per page.
    page_size: u64,
    /// All items on the server.
    #[prop(into)]
    total: Signal<u64>,
) -> impl IntoView {
    let last_page = move || total.get().div_ceil(page_size).max(1);
    let range = move || {
        let total = total.get();
        if total == 0 {
            return "no items".to_owned();
        }
        let first = (page.get() - 1) * page_size + 1;
        let last = (page.get() * page_size).min(total);
        format!("{first}–{last} of {total}")
    };
    view! {
        <nav class="pager" aria-label="Pages">
            <button
                class="secondary"
                disabled=move || { page.get() <= 1 }
                on:click=move |_| page.set(1)
            >
                "« First"
            </button>
            <button disabled=move || { page.get() <= 1 } on:click=move |_| page.update(|p| *p -= 1)>
                "‹ Previous"
            </button>
            <span data-testid="page-range">{range}</span>
            <button
                disabled=move || { page.get() >= last_page() }
                on:click=move |_| page.update(|p| *p += 1)
            >
                "Next ›"
            </button>
            <button
                class="secondary"
                disabled=move || { page.get() >= last_page() }
                on:click=move |_| page.set(last_page())
            >
                "Last »"
            </button>
        </nav>
    }
}
