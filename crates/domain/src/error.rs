//! Typed rule errors with stable machine codes.

use crate::Points;
use thiserror::Error;

/// Every way a loyalty rule can refuse an input. `code()` is stable (SCREAMING_SNAKE)
/// and is what the till UI, the store and the sync protocol match on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    /// The customer asked to spend more points than are available now.
    #[error("insufficient points: {available} available, {requested} requested")]
    InsufficientPoints {
        available: Points,
        requested: Points,
    },
    /// The requested spend exceeds what this check allows (share cap, remaining amount).
    #[error("at most {max} points can be spent on this check")]
    SpendOverCap { max: Points },
    /// A money or points amount is negative, zero where it must be positive, or overflows.
    #[error("invalid amount: {reason}")]
    InvalidAmount { reason: String },
    /// The program configuration is inconsistent (`field` names the offending setting).
    #[error("invalid program configuration: {field}: {reason}")]
    InvalidConfig { field: String, reason: String },
    /// The balance is below the program's minimum balance required to start spending.
    #[error("points can be spent from a balance of {min_balance}; the balance is {available}")]
    BelowMinBalance {
        min_balance: Points,
        available: Points,
    },
    /// Spending points is not possible on this check (disabled by the program, or the
    /// check already has a discount and the program does not combine them).
    #[error("spending points is not allowed: {reason}")]
    SpendDisabled { reason: String },
}

impl RuleError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::InsufficientPoints { .. } => "INSUFFICIENT_POINTS",
            RuleError::SpendOverCap { .. } => "SPEND_OVER_CAP",
            RuleError::InvalidAmount { .. } => "INVALID_AMOUNT",
            RuleError::InvalidConfig { .. } => "INVALID_CONFIG",
            RuleError::BelowMinBalance { .. } => "BELOW_MIN_BALANCE",
            RuleError::SpendDisabled { .. } => "SPEND_DISABLED",
        }
    }

    pub(crate) fn amount(reason: impl Into<String>) -> Self {
        RuleError::InvalidAmount {
            reason: reason.into(),
        }
    }

    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RuleError::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Convenience alias.
pub type RuleResult<T> = Result<T, RuleError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_messages_clear() {
        let e = RuleError::InsufficientPoints {
            available: 10,
            requested: 25,
        };
        assert_eq!(e.code(), "INSUFFICIENT_POINTS");
        assert_eq!(
            e.to_string(),
            "insufficient points: 10 available, 25 requested"
        );
        assert_eq!(RuleError::SpendOverCap { max: 3 }.code(), "SPEND_OVER_CAP");
        assert_eq!(RuleError::amount("x").code(), "INVALID_AMOUNT");
        let c = RuleError::config("earn.rate_bp", "must be <= 10000");
        assert_eq!(c.code(), "INVALID_CONFIG");
        assert_eq!(
            c.to_string(),
            "invalid program configuration: earn.rate_bp: must be <= 10000"
        );
        assert_eq!(
            RuleError::BelowMinBalance {
                min_balance: 100,
                available: 5
            }
            .code(),
            "BELOW_MIN_BALANCE"
        );
        assert_eq!(
            RuleError::SpendDisabled { reason: "x".into() }.code(),
            "SPEND_DISABLED"
        );
    }
}
