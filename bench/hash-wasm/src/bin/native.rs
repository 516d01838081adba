//! The same hash and verify natively, for comparison with the wasm figure; prints one
//! line in the format of `bench.mjs`: `native <runs> <label>`.

use std::time::Instant;

use domain::password::{self, M_COST_KIB, P_COST, SALT_BYTES, T_COST};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, runs, label] = args.as_slice() else {
        panic!("usage: native <runs> <label>");
    };
    let runs: usize = runs.parse().expect("runs is a number");
    let password = "correct horse battery staple";
    // Untimed, as in bench.mjs: the first hash also grows the heap.
    password::hash(password, [0; SALT_BYTES]);
    let mut hash_ms = Vec::new();
    let mut verify_ms = Vec::new();
    for i in 0..runs {
        let salt = [(i % 256) as u8; SALT_BYTES];
        let start = Instant::now();
        let stored = password::hash(password, salt);
        hash_ms.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        assert!(password::verify(password, &stored));
        verify_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "argon2id m={M_COST_KIB} KiB t={T_COST} p={P_COST}: hash {:.1} ms, verify {:.1} ms (p50; mean {:.1}/{:.1}; {label}; {runs} runs)",
        p50(&mut hash_ms),
        p50(&mut verify_ms),
        mean(&hash_ms),
        mean(&verify_ms),
    );
}

fn p50(ms: &mut [f64]) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

fn mean(ms: &[f64]) -> f64 {
    ms.iter().sum::<f64>() / ms.len() as f64
}
