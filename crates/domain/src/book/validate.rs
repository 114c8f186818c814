//! Checks a fact before the book applies it, so a malformed fact changes nothing.

use super::{BookError, MAX_FACT_POINTS};
use crate::facts::Fact;
use crate::money::Points;
use crate::validate::{MAX_EXPIRY_MONTHS, MAX_HOLD_DAYS};

pub(super) fn op_id(op: &str) -> Result<(), BookError> {
    if op.is_empty() || op.contains(':') {
        return Err(BookError::fact(format!(
            "op id must be non-empty and without ':', got {op:?}"
        )));
    }
    Ok(())
}

/// `0..=MAX_FACT_POINTS`.
pub(super) fn points(field: &'static str, value: Points) -> Result<(), BookError> {
    if !(0..=MAX_FACT_POINTS).contains(&value) {
        return Err(BookError::InvalidPoints { field, value });
    }
    Ok(())
}

pub(super) fn hold_expiry(hold_days: u32, expiry_months: Option<u32>) -> Result<(), BookError> {
    if hold_days > MAX_HOLD_DAYS {
        return Err(BookError::fact(format!(
            "hold_days {hold_days} is more than {MAX_HOLD_DAYS}"
        )));
    }
    expiry(expiry_months)
}

fn expiry(expiry_months: Option<u32>) -> Result<(), BookError> {
    match expiry_months {
        Some(m) if m == 0 || m > MAX_EXPIRY_MONTHS => Err(BookError::fact(format!(
            "expiry_months {m} is not in 1..={MAX_EXPIRY_MONTHS}"
        ))),
        _ => Ok(()),
    }
}

fn money(field: &str, value: i64) -> Result<(), BookError> {
    if value < 0 {
        return Err(BookError::fact(format!(
            "{field} must not be negative, got {value}"
        )));
    }
    Ok(())
}

pub(super) fn fact(f: &Fact) -> Result<(), BookError> {
    match f {
        Fact::Enrol {
            welcome_points,
            expiry_months,
            ..
        } => {
            points("welcome_points", *welcome_points)?;
            expiry(*expiry_months)
        }
        Fact::Sale {
            after_discounts,
            points_spent,
            earn,
            referrer,
            hold_days,
            expiry_months,
            ..
        } => {
            money("after_discounts", *after_discounts)?;
            points("points_spent", *points_spent)?;
            let mut total: Points = 0;
            for item in earn {
                points("earn.points", item.points)?;
                total = total
                    .checked_add(item.points)
                    .filter(|t| *t <= MAX_FACT_POINTS)
                    .ok_or(BookError::InvalidPoints {
                        field: "earn total",
                        value: Points::MAX,
                    })?;
            }
            if let Some((_, p)) = referrer {
                points("referrer points", *p)?;
            }
            hold_expiry(*hold_days, *expiry_months)
        }
        Fact::Return {
            earned_taken,
            spent_restored,
            expiry_months,
            spend_returned,
            sale_op_id,
            ..
        } => {
            if sale_op_id.is_empty() {
                return Err(BookError::fact("sale_op_id must not be empty"));
            }
            points("earned_taken", *earned_taken)?;
            points("spent_restored", *spent_restored)?;
            money("spend_returned", *spend_returned)?;
            expiry(*expiry_months)
        }
        Fact::Adjust {
            points: p,
            expiry_months,
            ..
        } => {
            if *p == 0 {
                return Err(BookError::fact("an adjustment of 0 points"));
            }
            points("points", p.checked_abs().unwrap_or(Points::MAX)).map_err(|_| {
                BookError::InvalidPoints {
                    field: "points",
                    value: *p,
                }
            })?;
            expiry(*expiry_months)
        }
        Fact::CardBlock { .. } | Fact::FamilyCard { .. } => Ok(()),
        Fact::Merge {
            account_uid,
            duplicate_uid,
            reason,
            author,
        } => {
            if duplicate_uid.is_empty() || duplicate_uid == account_uid {
                return Err(BookError::fact(
                    "a merge needs a duplicate account other than the survivor",
                ));
            }
            if reason.trim().is_empty() || author.trim().is_empty() {
                return Err(BookError::fact("a merge needs a reason and an author"));
            }
            Ok(())
        }
    }
}
