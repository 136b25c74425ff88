use checkpoint_core::checkpointed;

#[derive(serde::Serialize)]
pub struct Ledger {
    entries: Vec<String>,
    balance: i64,
}

impl Ledger {
    /// Applies every entry, stopping at the first that does not parse.
    #[checkpointed(every_iters = 100, strict = true)]
    pub fn apply(&mut self, start: i64) -> Result<i64, std::num::ParseIntError> {
        #[state]
        let mut balance = start;
        for entry in &self.entries {
            balance += entry.parse::<i64>()?;
        }
        self.balance = balance;
        Ok(balance)
    }

    /// The receiver named in `key`: each ledger is a run of its own.
    #[checkpointed(key = (self, limit))]
    pub fn count_large(&self, limit: usize) -> usize {
        #[state]
        let mut count = 0;
        for entry in &self.entries {
            count += usize::from(entry.len() > limit);
        }
        count
    }
}
