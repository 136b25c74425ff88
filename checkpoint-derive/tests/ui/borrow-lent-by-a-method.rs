// A mutable borrow handed out by a method (not only `&mut x` or `*_mut`),
// kept in a binding that is not `mut` and changed through it in the loop:
// the borrowed local changes, unsaved.
use checkpoint_core::checkpointed;
use std::collections::HashMap;

#[checkpointed]
fn entry(n: u64) -> u64 {
    let mut groups: HashMap<&'static str, Vec<u64>> = HashMap::new();
    let evens = groups.entry("even").or_insert_with(Vec::new);
    #[state]
    let mut acc: u64 = 0;
    for i in 0..n {
        evens.push(i * 2);
        acc = acc.wrapping_add(evens.len() as u64 * i);
    }
    acc
}

#[checkpointed]
fn slice(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let mut buf: Vec<u64> = (0..8).collect();
    let window = buf.as_mut_slice();
    for _ in 0..n {
        window.rotate_left(1);
        acc = acc.wrapping_add(window[0]);
    }
    acc
}

#[checkpointed]
fn cached(n: u64) -> u64 {
    let mut cache: Option<Vec<u64>> = None;
    let items = cache.get_or_insert_with(Vec::new);
    #[state]
    let mut acc: u64 = 0;
    for i in 0..n {
        items.push(i);
        acc = acc.wrapping_add(items.len() as u64);
    }
    acc
}

struct Log<'a> {
    lines: &'a mut Vec<u64>,
}

fn log_into(lines: &mut Vec<u64>) -> Log<'_> {
    Log { lines }
}

#[checkpointed]
fn through_a_struct(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let mut store: Vec<u64> = Vec::new();
    let log = log_into(&mut store);
    for i in 0..n {
        log.lines.push(i);
        acc = acc.wrapping_add(log.lines.len() as u64);
    }
    acc
}

fn main() {}
