use checkpoint_core::checkpointed;

pub struct Corpus<'a> {
    words: Vec<&'a str>,
}

impl<'a> Corpus<'a> {
    /// Counts the words that pass `keep`, consuming the corpus.
    #[must_use]
    #[inline]
    #[checkpointed(every = "10s", key = (self))]
    pub(crate) fn count_kept(self, keep: impl Fn(&str) -> bool) -> usize {
        #[state]
        let mut kept = 0;
        for word in &self.words {
            if keep(word) {
                kept += 1;
            }
        }
        kept
    }

    /// The longest word starting with `prefix`.
    #[checkpointed(key = (prefix))]
    pub fn longest<'p>(&self, prefix: &'p str) -> Option<&'a str> {
        #[state]
        let mut best: Option<usize> = None;
        for (i, word) in self.words.iter().enumerate() {
            if word.starts_with(prefix) && best.is_none_or(|b| self.words[b].len() < word.len()) {
                best = Some(i);
            }
        }
        best.map(|i| self.words[i])
    }
}
