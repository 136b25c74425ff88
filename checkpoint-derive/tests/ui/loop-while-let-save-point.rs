use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(rows: Vec<Vec<u64>>) -> u64 {
    #[state]
    let mut total = 0;
    let mut rows = rows.into_iter();
    while let Some(row) = rows.next() {
        for x in row {
            total += x;
        }
    }
    total
}

fn main() {
    sum(vec![vec![1, 2], vec![3]]);
}
