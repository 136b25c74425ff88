use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(rows: Vec<Vec<u64>>) -> u64 {
    #[state]
    let mut total = 0;
    #[state]
    let mut rows = rows;
    while let Some(row) = rows.pop() {
        #[checkpoint(save)]
        for x in row {
            total += x;
        }
    }
    total
}

fn main() {
    sum(vec![vec![1, 2], vec![3]]);
}
