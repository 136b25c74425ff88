// The duration forms people write compile: words, spaces, several terms,
// fractions, weeks.
use checkpoint_core::checkpointed;

#[checkpointed(every = "5 minutes", grace = "1.5m", expire = "2w")]
fn words(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[checkpointed(every = "auto", mtbf = "1d 12h")]
fn auto(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ckpt-ui-durations-{}", std::process::id()));
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    unsafe { std::env::set_var("CHECKPOINT_QUIET", "1") };
    assert_eq!(words(10), 45);
    assert_eq!(auto(10), 45);
    std::fs::remove_dir_all(&dir).ok();
}
