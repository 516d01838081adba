//! Transitional bridge: handlers that still hold a `D1Database` and build their own
//! batches turn a store `Query` into a D1 statement here. Removed once every handler goes
//! through `store`.

pub use app::d1::changes;
use store::{Arg, Query};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

pub fn statement(db: &D1Database, q: &Query) -> worker::Result<D1PreparedStatement> {
    let (sql, args) = q
        .numbered()
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    let values: Vec<JsValue> = args
        .iter()
        .map(|a| match a {
            Arg::Null => JsValue::NULL,
            Arg::Int(v) => JsValue::from(*v as f64),
            Arg::Real(v) => JsValue::from(*v),
            Arg::Text(v) => JsValue::from(v.as_str()),
        })
        .collect();
    db.prepare(sql).bind(&values)
}
