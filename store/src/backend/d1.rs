//! D1: statements are prepared with numbered parameters; a batch is D1's `batch`, one
//! transaction.

use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::{Arg, Db, Error, Query};

#[derive(Clone)]
pub struct Conn(std::rc::Rc<D1Database>);

impl Db {
    /// The store over a D1 binding.
    pub fn d1(db: D1Database) -> Db {
        Db {
            conn: Conn(std::rc::Rc::new(db)),
        }
    }
}

fn js(arg: &Arg) -> JsValue {
    match arg {
        Arg::Null => JsValue::NULL,
        // D1 stores an integral number as INTEGER. Ids and times are below 2^53.
        Arg::Int(v) => JsValue::from(*v as f64),
        Arg::Real(v) => JsValue::from(*v),
        Arg::Text(v) => JsValue::from(v.as_str()),
    }
}

fn failed(e: worker::Error) -> Error {
    Error::from_message(e.to_string())
}

impl Conn {
    fn prepare(&self, q: &Query) -> Result<D1PreparedStatement, Error> {
        let (sql, args) = q.numbered()?;
        let values: Vec<JsValue> = args.iter().map(js).collect();
        self.0.prepare(sql).bind(&values).map_err(failed)
    }

    pub async fn all<T: serde::de::DeserializeOwned>(&self, q: &Query) -> Result<Vec<T>, Error> {
        let result = self.prepare(q)?.all().await.map_err(failed)?;
        result.results::<T>().map_err(Error::decode)
    }

    pub async fn batch(&self, qs: &[Query]) -> Result<Vec<usize>, Error> {
        let statements = qs
            .iter()
            .map(|q| self.prepare(q))
            .collect::<Result<Vec<_>, Error>>()?;
        let results = self.0.batch(statements).await.map_err(failed)?;
        Ok(results
            .iter()
            .map(|r| r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0))
            .collect())
    }
}
