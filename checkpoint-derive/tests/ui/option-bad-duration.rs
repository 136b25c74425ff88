// Each duration option is read by the runtime's own parser, at compile
// time: a bad duration is an error on the literal that says what is
// accepted.
use checkpoint_core::checkpointed;

#[checkpointed(every = "30")]
fn no_unit(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[checkpointed(grace = "1 month")]
fn unknown_unit(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[checkpointed(expire = "0s")]
fn zero(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

fn main() {
    no_unit(10);
    unknown_unit(10);
    zero(10);
}
