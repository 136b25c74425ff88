use checkpoint_core::checkpointed;

#[checkpointed(on_code_change = "restart")]
fn collatz_steps(start: u64) -> u32 {
    #[state]
    let mut value = start;
    #[state]
    let mut steps = 0;
    loop {
        if value == 1 {
            break;
        }
        value = if value % 2 == 0 {
            value / 2
        } else {
            3 * value + 1
        };
        steps += 1;
    }
    steps
}
