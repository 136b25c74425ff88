//! The workloads the benchmarks time (`cargo bench -p checkpoint-bench`, or
//! `scripts/bench.sh` for the table and the plot): a hot loop with and
//! without `#[checkpointed]`, the primes and factorial demos checkpointed
//! every iteration by the library and by hand (serde_json + `fs::write`),
//! the bare file operations a save is measured against, and states to save.
//!
//! They live in a library so that a fast test can check that every variant
//! computes the same result.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use checkpoint_core::checkpointed;
use num_bigint::BigUint;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Dependent multiply-rotate rounds per iteration of the hot loop: about
/// 70 ns on the 2-core machine the README's figures come from.
const ROUNDS: u32 = 50;

/// One iteration of the hot loop: a chain of dependent multiply-rotates,
/// so the compiler can neither vectorize it nor hoist it out of the loop.
#[inline(always)]
pub fn body(x: u64, i: u64) -> u64 {
    let mut x = x ^ i;
    for _ in 0..ROUNDS {
        x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29) ^ i;
    }
    x
}

/// The hot loop as a user writes it before adding checkpoints.
pub fn plain_loop(n: u64) -> u64 {
    let mut x: u64 = 1;
    for i in 0..n {
        x = body(x, i);
    }
    x
}

/// The same loop, checkpointed with the default policy (every 30 s).
#[checkpointed]
pub fn checkpointed_loop(n: u64) -> u64 {
    #[state]
    let mut x: u64 = 1;
    for i in 0..n {
        x = body(x, i);
    }
    x
}

/// The same loop, saving after every iteration.
#[checkpointed(every_iters = 1)]
pub fn checkpointed_loop_every_iteration(n: u64) -> u64 {
    #[state]
    let mut x: u64 = 1;
    for i in 0..n {
        x = body(x, i);
    }
    x
}

/// Spins of the Ising chain: a ring of this many sites.
const ISING_SITES: usize = 1 << 12;

/// The Metropolis acceptance of a flip that raises the energy by 4 (in
/// units of J, at β = 0.4): `exp(-1.6)` as a threshold on 32 random bits.
const ISING_ACCEPT_4: u32 = (0.201_896_517_994_655_4 * 4_294_967_296.0) as u32;

/// One Metropolis step on a 1-D Ising ring: pick a site, flip it if that
/// lowers the energy or with probability `exp(-β ΔE)`. About 10 ns: two
/// ChaCha draws, three lattice loads, a compare.
#[inline(always)]
pub fn metropolis_step(rng: &mut ChaCha8Rng, spins: &mut [i8]) {
    let site = (rng.next_u32() as usize) & (ISING_SITES - 1);
    let left = spins[(site + ISING_SITES - 1) & (ISING_SITES - 1)];
    let right = spins[(site + 1) & (ISING_SITES - 1)];
    let delta = 2 * i32::from(spins[site]) * (i32::from(left) + i32::from(right));
    let draw = rng.next_u32();
    if delta <= 0 || (delta == 4 && draw < ISING_ACCEPT_4) {
        spins[site] = -spins[site];
    }
}

/// The magnetization of the ring: the result of the Ising runs.
fn magnetization(spins: &[i8]) -> i64 {
    spins.iter().map(|&s| i64::from(s)).sum()
}

/// `steps` Metropolis steps as a user writes them before adding checkpoints.
pub fn ising_plain(steps: u64) -> i64 {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut spins = vec![1_i8; ISING_SITES];
    for _ in 0..steps {
        metropolis_step(&mut rng, &mut spins);
    }
    magnetization(&spins)
}

/// The same steps on a lattice handed in from outside: a program that reads
/// its lattice (from a file, or its size from the command line) does not
/// let the compiler see the lattice's length, and neither does one that
/// may resume it from a checkpoint: the baseline [`ising_checkpointed`] is
/// held to.
pub fn ising_plain_on(steps: u64, mut spins: Vec<i8>) -> i64 {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    for _ in 0..steps {
        metropolis_step(&mut rng, &mut spins);
    }
    magnetization(&spins)
}

/// The lattice [`ising_plain`] and [`ising_checkpointed`] start from.
pub fn ising_lattice() -> Vec<i8> {
    vec![1_i8; ISING_SITES]
}

/// The same steps, checkpointed with the default policy: the RNG and the
/// lattice are the state.
#[checkpointed]
pub fn ising_checkpointed(steps: u64) -> i64 {
    #[state]
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    #[state]
    let mut spins = vec![1_i8; ISING_SITES];
    for _ in 0..steps {
        metropolis_step(&mut rng, &mut spins);
    }
    magnetization(&spins)
}

/// Whether `candidate` has no divisor among the primes `found` so far.
fn is_prime(found: &[u64], candidate: u64) -> bool {
    found
        .iter()
        .take_while(|&&p| p * p <= candidate)
        .all(|&p| !candidate.is_multiple_of(p))
}

/// The first `n` primes, saved after every candidate (`examples/primes.rs`
/// without its pause).
#[checkpointed(every_iters = 1)]
pub fn primes_checkpointed(n: u64) -> Vec<u64> {
    #[state]
    let mut found: Vec<u64> = vec![2];
    #[state]
    let mut candidate: u64 = 2;
    while (found.len() as u64) < n {
        candidate += 1;
        if is_prime(&found, candidate) {
            found.push(candidate);
        }
    }
    found
}

/// The state a hand-written primes checkpoint holds.
#[derive(Serialize, Deserialize)]
struct PrimesState {
    found: Vec<u64>,
    candidate: u64,
}

/// The first `n` primes, checkpointed by hand as people do it: load `path`
/// if it exists, then `serde_json` + `fs::write` after every candidate (in
/// place, no fsync, no checksum), and remove the file at the end.
pub fn primes_json(n: u64, path: &Path) -> io::Result<Vec<u64>> {
    let mut state = match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(_) => PrimesState {
            found: vec![2],
            candidate: 2,
        },
    };
    while (state.found.len() as u64) < n {
        state.candidate += 1;
        if is_prime(&state.found, state.candidate) {
            state.found.push(state.candidate);
        }
        fs::write(path, serde_json::to_vec(&state)?)?;
    }
    fs::remove_file(path)?;
    Ok(state.found)
}

/// n! as a big integer, saved after every multiplication
/// (`examples/factorial.rs` without its pause).
#[checkpointed(every_iters = 1)]
pub fn factorial_checkpointed(n: u64) -> BigUint {
    #[state]
    let mut product = BigUint::from(1u32);
    for i in 1..=n {
        product *= i;
    }
    product
}

/// The state a hand-written factorial checkpoint holds.
#[derive(Serialize, Deserialize)]
struct FactorialState {
    next: u64,
    product: BigUint,
}

/// n!, checkpointed by hand: see [`primes_json`].
pub fn factorial_json(n: u64, path: &Path) -> io::Result<BigUint> {
    let mut state = match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(_) => FactorialState {
            next: 1,
            product: BigUint::from(1u32),
        },
    };
    while state.next <= n {
        state.product *= state.next;
        state.next += 1;
        fs::write(path, serde_json::to_vec(&state)?)?;
    }
    fs::remove_file(path)?;
    Ok(state.product)
}

/// `len` uniformly random doubles (splitmix64 bits, so they do not
/// compress), the same for the same `seed`.
pub fn random_f64s(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            // 53 random bits in [0, 1): every double is distinct noise.
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

/// `len` doubles that compress well, like a sparse field: zeros, with a
/// random value in every 16th cell (zstd stores it in about a tenth).
pub fn compressible_f64s(len: usize) -> Vec<f64> {
    let mut values = vec![0.0; len];
    let random = random_f64s(len.div_ceil(16), 11);
    for (cell, value) in values.iter_mut().step_by(16).zip(random) {
        *cell = value;
    }
    values
}

/// The bytes of `values` as they are in memory (little endian on every
/// platform this runs on), for the raw-file baselines.
pub fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The baseline of a large save: create `path`, `write_all` the bytes, fsync.
pub fn write_and_fsync(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The baseline of a durable save: write a temporary file, fsync it,
/// rename it onto `path`, fsync the directory. What a careful hand-written
/// checkpoint does, with nothing else.
pub fn bare_durable_write(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let temp = dir.join(format!(".{name}.tmp"));
    write_and_fsync(&temp, bytes)?;
    fs::rename(&temp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant computes the same result, quickly; the benches only
    /// time them.
    #[test]
    fn every_variant_computes_the_same_result() {
        let dir = std::env::temp_dir().join(format!("ckpt-bench-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        // SAFETY of set_var: this is the only test in the crate that reads it.
        unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
        unsafe { std::env::set_var("CHECKPOINT_QUIET", "1") };
        assert_eq!(checkpointed_loop(1000), plain_loop(1000));
        assert_eq!(checkpointed_loop_every_iteration(50), plain_loop(50));
        assert_eq!(ising_checkpointed(100_000), ising_plain(100_000));
        assert_eq!(
            ising_plain_on(100_000, ising_lattice()),
            ising_plain(100_000)
        );
        assert_ne!(ising_plain(100_000), ISING_SITES as i64, "some spins flip");
        let primes = primes_checkpointed(50);
        assert_eq!(primes.len(), 50);
        assert_eq!(primes[49], 229);
        assert_eq!(primes_json(50, &dir.join("primes.json")).unwrap(), primes);
        let factorial = factorial_checkpointed(30);
        assert_eq!(factorial_json(30, &dir.join("f.json")).unwrap(), factorial);
        assert_eq!(factorial.to_string(), "265252859812191058636308480000000");
        bare_durable_write(&dir, "x", b"hello").unwrap();
        assert_eq!(fs::read(dir.join("x")).unwrap(), b"hello");
        assert_eq!(f64_bytes(&[1.0]), 1.0f64.to_le_bytes());
        assert_eq!(random_f64s(4, 1), random_f64s(4, 1));
        fs::remove_dir_all(&dir).unwrap();
    }
}
