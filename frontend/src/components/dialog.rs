//! A modal dialog.

use leptos::prelude::*;

/// A dialog over the page, shown while `open` is true; the close button sets it false.
#[component]
pub fn Dialog(
    /// The heading.
    title: &'static str,
    /// Whether the dialog shows.
    open: RwSignal<bool>,
    children: ChildrenFn,
) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <Show when=move || open.get()>
            <div class="overlay">
                <div class="dialog" role="dialog" aria-label=title>
                    <header>
                        <h2>{title}</h2>
                        <button class="icon" aria-label="Close" on:click=move |_| open.set(false)>
                            "×"
                        </button>
                    </header>
                    {children.read_value()()}
                </div>
            </div>
        </Show>
    }
}
