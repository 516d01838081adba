//! Figures as a page shows them: a table of labelled rows (`table.figures`, scrolling
//! sideways inside itself on a phone rather than the page), and a server-rendered chart
//! (`chart`) with the same figures in such a table under 「表で見る」, for screen readers
//! and for paper.

use leptos::prelude::*;

/// One row: its label and its cells, as shown.
pub type Row = (String, Vec<String>);

/// A table of `rows` under `head` (the column names, the row labels' first; none: no
/// header row), with an optional `caption`.
#[component]
pub fn FiguresTable(
    head: Vec<String>,
    rows: Vec<Row>,
    #[prop(optional)] caption: Option<&'static str>,
) -> AnyView {
    let head = (!head.is_empty()).then(|| {
        let cells = head
            .into_iter()
            .map(|h| view! { <th scope="col">{h}</th> })
            .collect_view();
        view! {
            <thead>
                <tr>{cells}</tr>
            </thead>
        }
    });
    let rows = rows
        .into_iter()
        .map(|(label, cells)| {
            let cells = cells
                .into_iter()
                .map(|c| view! { <td class="count">{c}</td> })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{label}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="figures">
                {caption.map(|c| view! { <caption>{c}</caption> })}
                {head}
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    // Type-erased: a table's nested view types would overflow the compiler's depth limit
    // inside the pages that hold it.
    .into_any()
}

/// The chart `svg` (an `<svg>` element from `chart::render`) and its figures as a table.
#[component]
pub fn ChartFigure(svg: String, head: Vec<String>, rows: Vec<Row>) -> AnyView {
    view! {
        <figure class="chart" inner_html=svg></figure>
        <details class="chart-table">
            <summary>"表で見る"</summary>
            <FiguresTable head rows />
        </details>
    }
    .into_any()
}

/// Name–count pairs as rows: `("ウイルス対策", 3)` is 「ウイルス対策 | 3件」.
pub fn counted(pairs: Vec<(String, u64)>) -> Vec<Row> {
    pairs
        .into_iter()
        .map(|(name, n)| (name, vec![format!("{n}件")]))
        .collect()
}
