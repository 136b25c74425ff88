use checkpoint_core::checkpointed;

#[derive(serde::Serialize)]
struct Graph {
    edges: Vec<Vec<usize>>,
    order: Vec<usize>,
}

impl Graph {
    #[checkpointed]
    fn bfs(&mut self, start: usize) -> usize {
        let order = &mut self.order;
        #[state]
        let mut frontier = vec![start];
        #[state]
        let mut seen = vec![false; self.edges.len()];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for &u in &frontier {
                order.push(u);
                for &v in &self.edges[u] {
                    if !seen[v] {
                        seen[v] = true;
                        next.push(v);
                    }
                }
            }
            frontier = next;
        }
        order.len()
    }
}

fn main() {
    let mut graph = Graph { edges: vec![vec![1], vec![0]], order: Vec::new() };
    graph.bfs(0);
}
