//! The basket the cashier rings up.

use crate::error::RuleError;
use crate::Money;
use serde::{Deserialize, Serialize};

/// One line of the check. `amount` is the line total (price × qty, after any shelf price
/// reductions), in minor units.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BasketLine {
    pub sku: String,
    pub category: Option<String>,
    pub qty: i64,
    pub amount: Money,
}

/// The check being quoted.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Basket {
    pub lines: Vec<BasketLine>,
}

impl Basket {
    /// SKU used by [`Basket::single`].
    pub const SINGLE_SKU: &'static str = "CHECK";

    /// A basket of the given lines.
    pub fn new(lines: Vec<BasketLine>) -> Self {
        Basket { lines }
    }

    /// A basket of one line "CHECK" with the whole amount (when the till only knows the total).
    pub fn single(amount: Money) -> Self {
        Basket {
            lines: vec![BasketLine {
                sku: Self::SINGLE_SKU.to_string(),
                category: None,
                qty: 1,
                amount,
            }],
        }
    }

    /// Sum of line amounts (saturating; [`Basket::checked_total`] validates).
    pub fn total(&self) -> Money {
        self.lines
            .iter()
            .fold(0i64, |acc, l| acc.saturating_add(l.amount))
    }

    /// Validated total: the basket is not empty, every line has `qty > 0` and
    /// `amount > 0`, and the sum does not overflow.
    pub fn checked_total(&self) -> Result<Money, RuleError> {
        if self.lines.is_empty() {
            return Err(RuleError::amount("the basket is empty"));
        }
        let mut total: Money = 0;
        for (i, l) in self.lines.iter().enumerate() {
            if l.amount <= 0 {
                return Err(RuleError::amount(format!(
                    "line {} ({}): amount must be positive, got {}",
                    i + 1,
                    l.sku,
                    l.amount
                )));
            }
            if l.qty <= 0 {
                return Err(RuleError::amount(format!(
                    "line {} ({}): quantity must be positive, got {}",
                    i + 1,
                    l.sku,
                    l.qty
                )));
            }
            total = total
                .checked_add(l.amount)
                .ok_or_else(|| RuleError::amount("basket total overflows"))?;
        }
        Ok(total)
    }

    /// Whether any line belongs to `category`.
    pub fn has_category(&self, category: &str) -> bool {
        self.lines
            .iter()
            .any(|l| l.category.as_deref() == Some(category))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, cat: Option<&str>, qty: i64, amount: Money) -> BasketLine {
        BasketLine {
            sku: sku.into(),
            category: cat.map(str::to_string),
            qty,
            amount,
        }
    }

    #[test]
    fn totals_and_single() {
        let b = Basket::new(vec![
            line("A", Some("coffee"), 2, 30_000),
            line("B", None, 1, 12_345),
        ]);
        assert_eq!(b.total(), 42_345);
        assert_eq!(b.checked_total(), Ok(42_345));
        assert!(b.has_category("coffee"));
        assert!(!b.has_category("tea"));
        let s = Basket::single(5_000);
        assert_eq!(s.lines.len(), 1);
        assert_eq!(s.lines[0].sku, "CHECK");
        assert_eq!(s.total(), 5_000);
    }

    #[test]
    fn invalid_baskets_are_refused() {
        let code = |b: Basket| b.checked_total().unwrap_err().code();
        assert_eq!(code(Basket::default()), "INVALID_AMOUNT");
        assert_eq!(code(Basket::single(0)), "INVALID_AMOUNT");
        assert_eq!(code(Basket::single(-5)), "INVALID_AMOUNT");
        assert_eq!(
            code(Basket::new(vec![line("A", None, 0, 10)])),
            "INVALID_AMOUNT"
        );
        let big = Basket::new(vec![line("A", None, 1, i64::MAX), line("B", None, 1, 1)]);
        assert_eq!(code(big.clone()), "INVALID_AMOUNT");
        assert_eq!(big.total(), i64::MAX);
    }
}
