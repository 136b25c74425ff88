use checkpoint_core::checkpointed;

fn normalize(v: Vec<f64>) -> Vec<f64> {
    let sum: f64 = v.iter().sum();
    v.into_iter().map(|x| x / sum).collect()
}

#[checkpointed]
fn rank(n: usize) -> Vec<f64> {
    #[state]
    let mut rank = vec![1.0; 4];
    for i in 0..n {
        rank[i % 4] += 1.0;
    }
    let normed = normalize(rank);
    #[state]
    let mut out = Vec::new();
    for x in &normed {
        out.push(x * 2.0);
    }
    out
}

fn main() {
    rank(3);
}
