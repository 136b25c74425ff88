//! The generated code binds `state`, `name` and `completed`: a constant of
//! that name in the user's module turns the binding into a pattern.
#![allow(non_upper_case_globals)]

use checkpoint_core::checkpointed;

const state: u8 = 0;
const name: &str = "name";
const completed: bool = true;

#[checkpointed]
fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

fn main() {
    let dir = std::env::temp_dir().join(format!("checkpoint-ui-pass-{}", std::process::id())).join("generated-names");
    // SAFETY: single-threaded, before anything reads the environment.
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    assert_eq!((state, name, completed), (0, "name", true));
    assert_eq!(sum(5), 10);
}
