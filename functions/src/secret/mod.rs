//! Secrets the Worker makes and checks: random values from the platform's CSPRNG
//! (`random`), and the digests under which secrets (enrollment codes, device and API
//! tokens, session ids) are stored and compared (`digest`): the database never holds a
//! secret itself.

mod digest;
mod random;

pub use digest::{hex, same_secret, sha256_hex};
pub use random::random;
