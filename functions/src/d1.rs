//! Transitional: the D1 helpers (`app::d1`) that handlers not yet moved to `store` still
//! use. Removed once every handler goes through `store`.

pub use app::d1::{changes, ms, named, time};
