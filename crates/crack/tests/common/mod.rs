//! What the crack integration tests share.

use sesame_guess::{GuessError, GuessIter, Source};

/// A source of `n` guesses "word0", "word1", ...: indexable, so tests can see which indices ran.
pub struct Words(pub usize);
impl Source for Words {
    fn name(&self) -> String {
        format!("{} test words", self.0)
    }
    fn len(&self) -> Option<u64> {
        Some(self.0 as u64)
    }
    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        Ok(Box::new(
            (start as usize..self.0).map(|i| Ok(format!("word{i}").into_bytes())),
        ))
    }
    fn fingerprint(&self) -> String {
        format!("words {}", self.0)
    }
}
