//! `domain::password` exported to JavaScript, nothing more: `bench.mjs` does the timing,
//! so that it measures what a Worker calling into wasm pays.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hash(password: &str, salt: &[u8]) -> String {
    let salt = salt.try_into().expect("the salt is 16 bytes");
    domain::password::hash(password, salt)
}

#[wasm_bindgen]
pub fn verify(password: &str, phc: &str) -> bool {
    domain::password::verify(password, phc)
}
