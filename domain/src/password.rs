//! Passwords are stored only as argon2id hashes in PHC string form
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), which carry their own parameters, so
//! a hash made today still verifies after the parameters change, and [`needs_rehash`] says
//! when to rewrite it at the next successful sign-in. The salt is the caller's: 16 random
//! bytes from the edge, since this crate has no randomness.
//!
//! Parameters: OWASP's argon2id minimum, m = 19456 KiB (19 MiB), t = 2, p = 1
//! (Password Storage Cheat Sheet). Measured with `scripts/bench-hash` on the development
//! machine (2 vCPU AMD EPYC VM, shared with other builds, hence the ranges: the low end is
//! a quiet machine), p50 of 20–30 hashes, Worker release profile (opt-level "z", LTO);
//! wasm32 runs in node 20, whose V8 is the engine workerd runs Workers on (workerd's is
//! newer, with the same wasm compilers):
//!
//! | build                  | hash or verify |
//! |------------------------|----------------|
//! | wasm32, opt-level "z"  | 46–80 ms       |
//! | wasm32, opt-level 3    | 42–70 ms       |
//! | native, opt-level "z"  | 44–77 ms       |
//! | native, opt-level 3    | 20–32 ms       |
//!
//! That is under the 100 ms we allow a sign-in, so there is no reason to fall back to one
//! of OWASP's equivalent lower-memory settings (m=12288,t=3 / m=9216,t=4 / m=7168,t=5),
//! which do nearly the same work anyway (m × t = 35,840–36,864 against 38,912 block
//! passes; the reference `argon2` CLI takes 70–85 % of the time). The memory fits too: an
//! isolate may use 128 MB, wasm is single-threaded so an isolate hashes one password at a
//! time, and the 19 MiB its linear memory grows to on the first sign-in is reused after.
//!
//! CPU budget: the Workers paid plan allows 30 s of CPU per request by default. The free
//! plan's 10 ms does not fit any memory-hard hash worth the name (every OWASP setting is
//! tens of milliseconds on wasm), so sign-in needs the paid plan.
//!
//! A sign-in for a login id that does not exist calls [`verify_dummy`], which does the
//! same work as a wrong password, so response times do not tell which ids exist.

use argon2::password_hash::phc::PasswordHash;
use argon2::{
    ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version,
};

/// Length of the salt the caller generates for each new hash (argon2's recommendation).
pub const SALT_BYTES: usize = 16;

/// Memory cost in KiB.
pub const M_COST_KIB: u32 = 19_456;
/// Passes over the memory.
pub const T_COST: u32 = 2;
/// Lanes; the Worker has one thread, so more would only cost more.
pub const P_COST: u32 = 1;

const CURRENT: Params = match Params::new(M_COST_KIB, T_COST, P_COST, None) {
    Ok(params) => params,
    Err(_) => panic!("the password parameters are valid argon2 parameters"),
};

/// A stored hash asking for more than this is refused rather than tried. Nothing [`hash`]
/// made comes near (64 MiB is half an isolate's memory; both limits together are 27 times
/// today's work, 1–2 s): only a damaged row gets here, and it must not take the
/// isolate down.
const MAX_M_COST_KIB: u32 = 65_536;
const MAX_T_COST: u32 = 16;

/// The hash [`verify_dummy`] checks against: `hash("(no account has this password)",
/// *b"mimamori.unknown")`, with the current parameters (a test keeps it so).
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$bWltYW1vcmkudW5rbm93bg$bw6iSYMaVgM6cer+8S6QhgCTfu/nO/1u3sStV0sTrb4";

/// The PHC string to store for `password`, salted with `salt` (fresh random bytes for
/// every hash, from the caller).
pub fn hash(password: &str, salt: [u8; SALT_BYTES]) -> String {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, CURRENT)
        .hash_password_with_salt(password.as_bytes(), &salt)
        .expect("a 16-byte salt and a password under 4 GiB always hash")
        .to_string()
}

/// Whether `password` is the one `phc` was made from, using the parameters stored in
/// `phc`. The crate compares the outputs in constant time. A malformed or unaffordable
/// `phc` is simply not a match.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST_KIB || params.t_cost() > MAX_T_COST {
        return false;
    }
    // The algorithm, version and parameters come from `parsed`, not from this instance.
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Whether `phc` was made differently from what [`hash`] makes today, so that it should be
/// replaced by a fresh hash of the password that just verified. Any difference counts:
/// a weaker hash is the reason to rehash, and a costlier one spends CPU on every sign-in
/// that the current parameters were chosen not to spend.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != ARGON2ID_IDENT
        || parsed.version != Some(Version::V0x13.into())
        || params.m_cost() != M_COST_KIB
        || params.t_cost() != T_COST
        || params.p_cost() != P_COST
}

/// Spends the time of a [`verify`] against a current hash and discards the answer: called
/// for an unknown login id, so that it costs the same as a wrong password.
pub fn verify_dummy(password: &str) {
    std::hint::black_box(verify(password, DUMMY_PHC));
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    const PASSWORD: &str = "correct horse battery staple";
    const SALT: [u8; SALT_BYTES] = *b"0123456789abcdef";

    /// The hash of [`PASSWORD`] with [`SALT`], made once: a hash takes about a second in a
    /// debug build, so the tests share it.
    fn stored() -> &'static str {
        static STORED: OnceLock<String> = OnceLock::new();
        STORED.get_or_init(|| hash(PASSWORD, SALT))
    }

    #[test]
    fn a_hash_is_argon2id_with_the_current_parameters_and_is_stable() {
        // Pinned in full, as the reference implementation (the `argon2` CLI of the
        // P-H-C/phc-winner-argon2 C code) prints it: if a dependency update changed this
        // output, every stored password would stop verifying.
        assert_eq!(
            stored(),
            "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0"
        );
    }

    #[test]
    fn the_password_verifies_against_its_own_hash() {
        assert!(verify(PASSWORD, stored()));
    }

    #[test]
    fn a_wrong_password_does_not_verify() {
        assert!(!verify("correct horse battery stapler", stored()));
    }

    #[test]
    fn the_same_password_with_another_salt_hashes_differently() {
        assert_ne!(hash(PASSWORD, *b"fedcba9876543210"), stored());
    }

    #[test]
    fn a_malformed_hash_never_verifies_and_never_panics() {
        let current = stored();
        let (without_output, _) = current.rsplit_once('$').unwrap();
        for phc in [
            "",
            "$",
            "plaintext password",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1",
            without_output,
            &format!("{without_output}$"),
            &format!("{without_output}$!!!notbase64!!!"),
            &current.replace("t=2", "t=0"),
            &current.replace("m=19456", "m=1"),
            &current.replace("m=19456", "m=banana"),
            &current.replace("$v=19$", "$v=7$"),
            &current.replace("argon2id", "scrypt"),
            &current.replace("p=1", "p=1,x=2"),
        ] {
            assert!(!verify(PASSWORD, phc), "{phc:?}");
        }
    }

    #[test]
    fn a_stored_hash_costlier_than_an_isolate_can_afford_is_refused_untried() {
        let huge = stored().replace("m=19456", "m=4194304");
        assert!(!verify(PASSWORD, &huge));
        let slow = stored().replace("t=2", "t=100000");
        assert!(!verify(PASSWORD, &slow));
    }

    #[track_caller]
    fn check_rehash(phc: &str, expected: bool) {
        assert_eq!(needs_rehash(phc), expected, "{phc:?}");
    }

    #[test]
    fn only_a_hash_made_differently_from_today_needs_rehashing() {
        let current = stored();
        check_rehash(current, false);
        check_rehash(&current.replace("m=19456", "m=4096"), true);
        check_rehash(&current.replace("t=2", "t=1"), true);
        check_rehash(&current.replace("m=19456,t=2", "m=12288,t=3"), true);
        check_rehash(&current.replace("m=19456", "m=65536"), true);
        check_rehash(&current.replace("argon2id", "argon2i"), true);
        check_rehash(&current.replace("$v=19$", "$v=16$"), true);
        check_rehash("not a phc string", true);
    }

    #[test]
    fn the_dummy_hash_is_made_with_the_current_parameters() {
        check_rehash(DUMMY_PHC, false);
        verify_dummy(PASSWORD);
    }
}
