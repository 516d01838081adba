//! Page changes without a full load, for a portal that hydrates only its islands. Once
//! the page is interactive, a click on a link to another portal page and the submit of a
//! GET form (the period picker, the filters) fetch the next page from the server and put
//! its `<main>` and title in place of the current ones, with the address in the history
//! (back and forward work the same way). The server renders every page whole, so this is
//! only a shortcut: a page with an island of its own (機器一覧's filter), a POST form, a
//! link elsewhere, a modified click or any failure is a normal navigation.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::wasm_bindgen::closure::Closure;
use leptos::web_sys::{
    DomParser, Element, Event, FormData, HtmlAnchorElement, HtmlFormElement, MouseEvent, Response,
    SupportedType, UrlSearchParams,
};
use wasm_bindgen_futures::JsFuture;

/// Starts handling clicks, GET submits and the history's back and forward.
pub fn start() {
    let w = window();
    let on_click = Closure::<dyn Fn(MouseEvent)>::new(|ev: MouseEvent| {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.meta_key()
            || ev.ctrl_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let Some(link) = ev
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|e| e.closest("a[href]").ok().flatten())
            .and_then(|e| e.dyn_into::<HtmlAnchorElement>().ok())
        else {
            return;
        };
        if !link.target().is_empty() || link.has_attribute("download") {
            return;
        }
        let href = link.href();
        if ours(&href) {
            ev.prevent_default();
            go(href, true);
        }
    });
    let on_submit = Closure::<dyn Fn(Event)>::new(|ev: Event| {
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        // `form.action` and `form.method` are shadowed by fields of those names (検知履歴's
        // UTM装置の対応, the second-factor choice): read the attributes.
        let method = form.get_attribute("method").unwrap_or_default();
        if ev.default_prevented() || !method.eq_ignore_ascii_case("get") {
            return;
        }
        let Some(action) = form.get_attribute("action") else {
            return;
        };
        let Ok(data) = FormData::new_with_form(&form) else {
            return;
        };
        let Ok(params) = UrlSearchParams::new_with_str_sequence_sequence(&data) else {
            return;
        };
        let origin = window().location().origin().unwrap_or_default();
        let query = params.to_string().as_string().unwrap_or_default();
        let url = format!("{origin}{action}?{query}");
        if ours(&url) {
            ev.prevent_default();
            go(url, true);
        }
    });
    let on_back = Closure::<dyn Fn(Event)>::new(|_| {
        go(window().location().href().unwrap_or_default(), false);
    });
    let _ = w.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    let _ = w.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    let _ = w.add_event_listener_with_callback("popstate", on_back.as_ref().unchecked_ref());
    on_click.forget();
    on_submit.forget();
    on_back.forget();
}

/// Whether `url` is a portal page this shortcut may load: same origin, not the API, the
/// server functions, a download or a sign-in step, and not from a page with an island.
fn ours(url: &str) -> bool {
    let origin = window().location().origin().unwrap_or_default();
    let Some(path) = url.strip_prefix(&origin) else {
        return false;
    };
    let elsewhere = [
        "/api/", "/_app/", "/pkg/", "/auth/", "/login", "/setup", "/__",
    ];
    let own_island = document()
        .query_selector("main leptos-island")
        .ok()
        .flatten()
        .is_some();
    path.starts_with('/') && !elsewhere.iter().any(|p| path.starts_with(p)) && !own_island
}

/// Loads `url` in place (`push`: a new history entry), or normally when that fails.
fn go(url: String, push: bool) {
    leptos::task::spawn_local(async move {
        if swap(&url, push).await.is_none() {
            let _ = window().location().assign(&url);
        }
    });
}

async fn swap(url: &str, push: bool) -> Option<()> {
    let response: Response = JsFuture::from(window().fetch_with_str(url))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    let html = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    let next = DomParser::new()
        .ok()?
        .parse_from_string(&html, SupportedType::TextHtml)
        .ok()?;
    let main = next.query_selector("main").ok()??;
    // A page with an island of its own needs its script: load it normally.
    if main.query_selector("leptos-island").ok()?.is_some() {
        return None;
    }
    let here = document().query_selector("main").ok()??;
    here.set_inner_html(&main.inner_html());
    document().set_title(&next.title());
    let shown = if response.redirected() {
        response.url()
    } else {
        url.to_owned()
    };
    let history = window().history().ok()?;
    if push {
        history
            .push_state_with_url(&leptos::wasm_bindgen::JsValue::NULL, "", Some(&shown))
            .ok()?;
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }
    Some(())
}
