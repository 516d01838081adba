//! A list of views rendered through `For`, each item keyed by its position (never by a
//! text an appliance sent: a key may be written into the page). The portal's lists whose
//! length changes from one page to the next use it, so that a list is one node range a
//! page change can replace.

use leptos::prelude::*;

/// `items`, each rendered by `view`, as a list the islands router can patch.
pub fn keyed<T, V>(
    items: Vec<T>,
    view: impl Fn(T) -> V + Send + Sync + Clone + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let numbered: Vec<(usize, T)> = items.into_iter().enumerate().collect();
    view! {
        <For
            each=move || numbered.clone()
            key=|(i, _)| *i
            children=move |(_, item)| view(item)
        />
    }
}
