//! A filter form: `method="get"`, so that without JavaScript the browser submits it and
//! the server renders the page for its query; after hydration submitting it navigates in
//! place (the router's client-side navigation to `action?query`), so the page's data
//! reloads without a full page load. Its fields are plain inputs; its submit button
//! stays (a date range needs one).

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
    let target = action.clone();
    let navigate = leptos_router::hooks::use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::UnwrapThrowExt;
            let Ok(data) = leptos::form::form_data_from_event(&ev) else {
                return;
            };
            let params = leptos::web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data)
                .unwrap_throw();
            // Empty fields say nothing: leave them out of the URL.
            let text = params.to_string().as_string().unwrap_or_default();
            let query: Vec<&str> = text
                .split('&')
                .filter(|p| !p.is_empty() && !p.ends_with('='))
                .collect();
            let url = if query.is_empty() {
                target.clone()
            } else {
                format!("{target}?{}", query.join("&"))
            };
            ev.prevent_default();
            navigate(&url, Default::default());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&ev, &target, &navigate);
    };
    view! {
        <form class=class method="get" action=action aria-label=label on:submit=submit>
            {children()}
        </form>
    }
}
