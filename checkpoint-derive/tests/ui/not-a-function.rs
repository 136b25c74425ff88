use checkpoint_core::checkpointed;

#[checkpointed]
struct Sum {
    total: u64,
}

fn main() {
    let sum = Sum { total: 0 };
    let _ = sum.total;
}
