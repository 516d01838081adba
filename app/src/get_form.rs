//! A filter form: `method="get"`, so that without JavaScript the browser submits it and
//! the server renders the page for its query; with JavaScript the islands router submits
//! it and patches the page in place, without a full page load. Its fields are plain
//! inputs; its submit button stays (a date range needs one).

use leptos::prelude::*;

#[component]
pub fn GetForm(
    /// The page the query is for.
    action: String,
    /// The form's class, for the style sheet.
    #[prop(default = "filter")]
    class: &'static str,
    /// Its accessible name.
    label: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <form class=class method="get" action=action aria-label=label>
            {children()}
        </form>
    }
}
