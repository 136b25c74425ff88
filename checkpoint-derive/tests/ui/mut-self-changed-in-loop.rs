use checkpoint_core::checkpointed;

#[derive(serde::Serialize)]
struct Graph {
    ranks: Vec<f64>,
}

impl Graph {
    #[checkpointed]
    fn iterate(&mut self, steps: u64) -> f64 {
        #[state]
        let mut delta = 0.0;
        for _ in 0..steps {
            delta = self.ranks[0];
            self.ranks[0] *= 0.85;
        }
        delta
    }
}

fn main() {
    Graph { ranks: vec![1.0] }.iterate(3);
}
