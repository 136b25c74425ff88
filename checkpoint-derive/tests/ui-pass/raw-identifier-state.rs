use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(n: u64) -> u64 {
    #[state]
    let mut r#match = 0;
    for i in 0..n {
        r#match += i;
    }
    r#match
}

fn main() {
    let dir = std::env::temp_dir().join(format!("checkpoint-ui-pass-{}", std::process::id())).join("raw-identifier-state");
    // SAFETY: single-threaded, before anything reads the environment.
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    assert_eq!(sum(5), 10);
}
