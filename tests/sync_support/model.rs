//! The plain ledger model: one signed sum per card's account, which must equal
//! `available + pending − shortfall` everywhere. (Not `available = max(sum, 0)`: a sale
//! applied late spends only lots available at its own time, so a lot earned later on
//! another till can sit beside a shortfall until the next earn settles it.) An owner's
//! merge of two customers makes their cards one account: one sum.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub net: BTreeMap<String, i64>,
    /// A card whose account was merged → a card of the account it was merged into.
    pub merged: BTreeMap<String, String>,
}

impl Model {
    /// The card that stands for `card`'s account (its sum is kept under it).
    fn root(&self, card: &str) -> String {
        let mut at = card.to_string();
        while let Some(next) = self.merged.get(&at) {
            at = next.clone();
        }
        at
    }

    pub fn credit(&mut self, card: &str, points: i64) {
        *self.net.entry(self.root(card)).or_insert(0) += points;
    }

    /// The signed sum of every movement of the card's account.
    pub fn net(&self, card: &str) -> i64 {
        self.net.get(&self.root(card)).copied().unwrap_or(0)
    }

    /// The account of `duplicate` was merged into the account of `survivor`.
    pub fn merge(&mut self, survivor: &str, duplicate: &str) {
        let (keep, dup) = (self.root(survivor), self.root(duplicate));
        if keep == dup {
            return;
        }
        let moved = self.net.remove(&dup).unwrap_or(0);
        *self.net.entry(keep.clone()).or_insert(0) += moved;
        self.merged.insert(dup, keep);
    }

    /// Are the two cards on one account?
    pub fn same_account(&self, a: &str, b: &str) -> bool {
        self.root(a) == self.root(b)
    }

    /// Does `(available, pending, shortfall)` agree with the model (and is nothing negative)?
    pub fn agrees(&self, card: &str, b: (i64, i64, i64)) -> bool {
        b.0 >= 0 && b.1 >= 0 && b.2 >= 0 && b.0 + b.1 - b.2 == self.net(card)
    }

    /// Every card, merged ones included.
    pub fn cards(&self) -> Vec<String> {
        let mut all: Vec<String> = self.net.keys().chain(self.merged.keys()).cloned().collect();
        all.sort();
        all.dedup();
        all
    }
}
