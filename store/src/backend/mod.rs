//! The two backends behind [`crate::Db`]: D1 when running in the Worker (wasm32), SQLite
//! (rusqlite, bundled) on the host, where `cargo test -p store` runs every statement
//! against the real `migrations/`.

#[cfg(target_arch = "wasm32")]
mod d1;
#[cfg(target_arch = "wasm32")]
pub use d1::Conn;

#[cfg(not(target_arch = "wasm32"))]
mod sqlite;
#[cfg(not(target_arch = "wasm32"))]
pub use sqlite::Conn;
