//! SQLite on the host: the same statements, numbered the same way, on one connection. A
//! batch is a transaction; rows are decoded through JSON values, as D1 hands them over.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, ToSql};

use crate::{Arg, Db, Error, Query};

#[derive(Clone)]
pub struct Conn(Rc<RefCell<Connection>>);

impl ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput;
        Ok(match self {
            Arg::Null => ToSqlOutput::Owned(Value::Null),
            Arg::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Arg::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            Arg::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

fn failed(e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::*;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                DatabaseBusy | DatabaseLocked | SystemIoFailure | DiskFull | CannotOpen
            ) =>
        {
            Error::Unavailable(e.to_string())
        }
        rusqlite::Error::InvalidParameterCount(..) | rusqlite::Error::InvalidColumnType(..) => {
            Error::Bug(e.to_string())
        }
        _ => Error::from_message(e.to_string()),
    }
}

fn json(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => f.into(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => b.to_vec().into(),
    }
}

impl Db {
    /// An empty in-memory database with every migration of `dir` applied in name order,
    /// as `wrangler d1 migrations apply` does.
    pub fn migrated(dir: &Path) -> Result<Db, Error> {
        let conn = Connection::open_in_memory().map_err(failed)?;
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::Unavailable(format!("{}: {e}", dir.display())))?
            .filter_map(|f| f.ok().map(|f| f.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for file in files {
            let sql = std::fs::read_to_string(&file)
                .map_err(|e| Error::Unavailable(format!("{}: {e}", file.display())))?;
            conn.execute_batch(&sql)
                .map_err(|e| Error::Bug(format!("{}: {e}", file.display())))?;
        }
        Ok(Db {
            conn: Conn(Rc::new(RefCell::new(conn))),
        })
    }

    /// The plan SQLite chooses for `q` (`EXPLAIN QUERY PLAN`), one detail line per step.
    pub fn plan(&self, q: &Query) -> Result<Vec<String>, Error> {
        let (sql, args) = q.numbered()?;
        let conn = self.conn.0.borrow();
        let mut st = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .map_err(failed)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                r.get::<_, String>(3)
            })
            .map_err(failed)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(failed)
    }

    /// Runs raw SQL (test set-up only: triggers, fixtures).
    pub fn execute_script(&self, sql: &str) -> Result<(), Error> {
        self.conn.0.borrow().execute_batch(sql).map_err(failed)
    }
}

impl Conn {
    pub async fn all<T: serde::de::DeserializeOwned>(&self, q: &Query) -> Result<Vec<T>, Error> {
        let (sql, args) = q.numbered()?;
        let conn = self.0.borrow();
        let mut st = conn.prepare(&sql).map_err(failed)?;
        let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
        let mut rows = st
            .query(rusqlite::params_from_iter(args.iter()))
            .map_err(failed)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(failed)? {
            let mut map = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                map.insert(name.clone(), json(row.get_ref(i).map_err(failed)?));
            }
            out.push(serde_json::from_value(map.into()).map_err(Error::decode)?);
        }
        Ok(out)
    }

    pub async fn batch(&self, qs: &[Query]) -> Result<Vec<usize>, Error> {
        let numbered = qs
            .iter()
            .map(Query::numbered)
            .collect::<Result<Vec<_>, Error>>()?;
        let mut conn = self.0.borrow_mut();
        let tx = conn.transaction().map_err(failed)?;
        let mut changes = Vec::with_capacity(numbered.len());
        for (sql, args) in &numbered {
            let mut st = tx.prepare(sql).map_err(failed)?;
            let reads_only = st.readonly();
            // A statement may return rows (`RETURNING`); step through them.
            let mut rows = st
                .query(rusqlite::params_from_iter(args.iter()))
                .map_err(failed)?;
            while rows.next().map_err(failed)?.is_some() {}
            drop(rows);
            drop(st);
            let changed = if reads_only { 0 } else { tx.changes() };
            changes.push(usize::try_from(changed).unwrap_or(0));
        }
        tx.commit().map_err(failed)?;
        Ok(changes)
    }
}
