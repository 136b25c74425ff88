use checkpoint_core::checkpointed;

#[checkpointed(key = ())]
fn count(mut items: std::vec::IntoIter<u64>) -> u64 {
    #[state]
    let mut total = 0;
    loop {
        match items.next() {
            Some(item) => total += item,
            None => break,
        }
    }
    total
}

fn main() {
    count(vec![1, 2].into_iter());
}
