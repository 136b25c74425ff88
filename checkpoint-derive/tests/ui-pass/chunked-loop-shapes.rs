//! `for` save-point loops without `break` run in chunks: these shapes
//! (`continue`, labels, an early `return`, `?`, inner loops that `break`,
//! ranges of several integer types, other iterators) return what the
//! plain loop returns, and resume exactly (`verify`).

use checkpoint_core::{checkpointed, verify};

#[checkpointed(every_iters = 7)]
fn skips(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    'items: for i in 0..n {
        if i % 3 == 0 {
            continue;
        }
        for j in 0..i {
            if j > 4 {
                break; // leaves the inner loop only
            }
            if j == 2 {
                continue 'items;
            }
            total += j;
        }
        total += i;
    }
    total
}

fn skips_plain(n: u64) -> u64 {
    let mut total = 0;
    'items: for i in 0..n {
        if i % 3 == 0 {
            continue;
        }
        for j in 0..i {
            if j > 4 {
                break;
            }
            if j == 2 {
                continue 'items;
            }
            total += j;
        }
        total += i;
    }
    total
}

#[checkpointed]
fn early(n: i32) -> i64 {
    #[state]
    let mut total: i64 = 0;
    for i in -n..n {
        total += i64::from(i.abs()) * 3;
        if total > 10_000 {
            return -1;
        }
    }
    total
}

#[checkpointed]
fn parsed(words: &[String]) -> Result<u64, std::num::ParseIntError> {
    #[state]
    let mut total = 0_u64;
    for word in words.iter() {
        total += word.parse::<u64>()?;
    }
    Ok(total)
}

#[checkpointed(every_iters = 5)]
fn letters(text: &str) -> String {
    #[state]
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i % 2 == 0 {
            out.push(c.to_ascii_uppercase());
        }
    }
    out
}

#[checkpointed(every_iters = 4)]
fn inclusive(n: usize) -> usize {
    #[state]
    let mut total = 0;
    for i in 1..=n {
        total += i * i;
    }
    total
}

#[checkpointed]
fn small_type(n: u8) -> u32 {
    #[state]
    let mut total = 0_u32;
    for i in 0..n {
        total += u32::from(i);
    }
    total
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ckpt-ui-chunks-{}", std::process::id()));
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    unsafe { std::env::set_var("CHECKPOINT_QUIET", "1") };

    assert_eq!(skips(200), skips_plain(200));
    verify(|| skips(200));
    assert_eq!(early(10), 3 * (2 * 45 + 10));
    assert_eq!(early(1000), -1);
    verify(|| early(50));
    let words: Vec<String> = (1..=30).map(|i| i.to_string()).collect();
    assert_eq!(parsed(&words), Ok(465));
    verify(|| parsed(&words));
    let bad = vec!["1".to_owned(), "x".to_owned()];
    assert!(parsed(&bad).is_err());
    assert_eq!(letters("checkpointed"), "CEKONE");
    verify(|| letters("checkpointed loops run in chunks"));
    assert_eq!(inclusive(100), (1..=100).map(|i| i * i).sum());
    verify(|| inclusive(100));
    assert_eq!(small_type(255), (0..255).sum());
    verify(|| small_type(255));
    std::fs::remove_dir_all(&dir).ok();
}
