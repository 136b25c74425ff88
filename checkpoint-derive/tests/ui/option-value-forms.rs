// An option written in the wrong form says how to write it.
use checkpoint_core::checkpointed;

#[checkpointed(every = 30)]
fn every_number(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[checkpointed(every = 5m)]
fn every_unquoted(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[checkpointed(keep = -1)]
fn keep_negative(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[checkpointed(every_iters = 0)]
fn every_iters_zero(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[checkpointed(every_iters = "100")]
fn every_iters_string(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[checkpointed(background = 1)]
fn background_number(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[checkpointed(zstd_level = 30)]
fn zstd_level_too_high(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

fn main() {}
