//! The plain ledger model: one signed sum per card's account, which must equal
//! `available + pending − shortfall` everywhere. (Not `available = max(sum, 0)`: a sale
//! applied late spends only lots available at its own time, so a lot earned later on
//! another till can sit beside a shortfall until the next earn settles it.)

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub net: BTreeMap<String, i64>,
}

impl Model {
    pub fn credit(&mut self, card: &str, points: i64) {
        *self.net.entry(card.to_string()).or_insert(0) += points;
    }

    /// The signed sum of every movement of the card's account.
    pub fn net(&self, card: &str) -> i64 {
        self.net.get(card).copied().unwrap_or(0)
    }

    /// Does `(available, pending, shortfall)` agree with the model (and is nothing negative)?
    pub fn agrees(&self, card: &str, b: (i64, i64, i64)) -> bool {
        b.0 >= 0 && b.1 >= 0 && b.2 >= 0 && b.0 + b.1 - b.2 == self.net(card)
    }

    pub fn cards(&self) -> Vec<String> {
        self.net.keys().cloned().collect()
    }
}
