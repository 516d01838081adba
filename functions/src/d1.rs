//! The D1 helpers live with the portal's server code (`app::d1`), which needs them too.

pub use app::d1::{changes, ms, named, time};
