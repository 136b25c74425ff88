//! Ordinary mistakes in a checkpointed body (a `?` whose error does not
//! convert, a `return` of the wrong type, a borrow of a local returned)
//! get the errors a plain function gets: no generated closure is named.

use checkpoint_core::checkpointed;

#[derive(Debug)]
struct MyErr;

fn step(i: u64) -> Result<u64, std::io::Error> { Ok(i) }

#[checkpointed]
fn a(n: u64) -> Result<u64, MyErr> {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += step(i)?;
    }
    Ok(total)
}

#[checkpointed]
fn b(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
        if total > 100 {
            return "too big";
        }
    }
    total
}

#[checkpointed]
fn c(n: u64) -> &'static str {
    #[state]
    let mut total = String::new();
    for i in 0..n {
        total.push_str(&i.to_string());
    }
    &total
}

fn main() {}
