//! Birthday window: `[birthday - days_before, birthday + days_after]`, across year
//! boundaries; 29 February is celebrated on 28 February in non-leap years.

use crate::config::BirthdayRule;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

/// The date of the birthday in `year` (29 Feb → 28 Feb in a non-leap year).
pub fn birthday_in_year(birthday: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day()).or_else(|| {
        if birthday.month() == 2 && birthday.day() == 29 {
            NaiveDate::from_ymd_opt(year, 2, 28)
        } else {
            None
        }
    })
}

/// The birthday occurrence whose window contains `now` (UTC calendar date), if any.
/// Its year is the "birthday year" used for the once-per-year bonus, so a window that
/// starts on 28 December for a 2 January birthday counts towards the next year.
pub fn birthday_occurrence(
    birthday: NaiveDate,
    now: DateTime<Utc>,
    rule: &BirthdayRule,
) -> Option<NaiveDate> {
    let today = now.date_naive();
    let before = Duration::days(i64::from(rule.days_before));
    let after = Duration::days(i64::from(rule.days_after));
    let year = today.year();
    [year - 1, year, year + 1].into_iter().find_map(|y| {
        let day = birthday_in_year(birthday, y)?;
        let start = day.checked_sub_signed(before)?;
        let end = day.checked_add_signed(after)?;
        (start <= today && today <= end).then_some(day)
    })
}

/// Whether `now` is in the birthday window.
pub fn birthday_window(birthday: NaiveDate, now: DateTime<Utc>, rule: &BirthdayRule) -> bool {
    birthday_occurrence(birthday, now, rule).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rule(before: u32, after: u32) -> BirthdayRule {
        BirthdayRule {
            days_before: before,
            days_after: after,
            bonus_points: 300,
            discount_bp: 0,
        }
    }

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn window_is_inclusive_on_both_ends() {
        let b = date(1990, 6, 15);
        let r = rule(7, 7);
        assert!(birthday_window(b, at(2025, 6, 8), &r));
        assert!(birthday_window(b, at(2025, 6, 15), &r));
        assert!(birthday_window(b, at(2025, 6, 22), &r));
        assert!(!birthday_window(b, at(2025, 6, 7), &r));
        assert!(!birthday_window(b, at(2025, 6, 23), &r));
    }

    #[test]
    fn window_crosses_the_year_boundary() {
        let b = date(1990, 1, 2);
        let r = rule(7, 7);
        // 28 Dec 2024 is 5 days before 2 Jan 2025: the 2025 occurrence.
        assert_eq!(
            birthday_occurrence(b, at(2024, 12, 28), &r),
            Some(date(2025, 1, 2))
        );
        assert!(birthday_window(b, at(2024, 12, 26), &r));
        assert!(!birthday_window(b, at(2024, 12, 25), &r));
        // And a late-December birthday reaches into January.
        let b = date(1985, 12, 30);
        assert_eq!(
            birthday_occurrence(b, at(2025, 1, 5), &r),
            Some(date(2024, 12, 30))
        );
        assert!(!birthday_window(b, at(2025, 1, 7), &r));
    }

    #[test]
    fn feb_29_in_non_leap_years_is_feb_28() {
        let b = date(2000, 2, 29);
        assert_eq!(birthday_in_year(b, 2025), Some(date(2025, 2, 28)));
        assert_eq!(birthday_in_year(b, 2024), Some(date(2024, 2, 29)));
        let r = rule(0, 0);
        assert!(birthday_window(b, at(2025, 2, 28), &r));
        assert!(!birthday_window(b, at(2025, 3, 1), &r));
        assert!(birthday_window(b, at(2024, 2, 29), &r));
        assert!(!birthday_window(b, at(2024, 2, 28), &r));
        let r = rule(1, 1);
        assert!(birthday_window(b, at(2025, 3, 1), &r));
        assert!(birthday_window(b, at(2025, 2, 27), &r));
        assert!(!birthday_window(b, at(2025, 2, 26), &r));
    }

    #[test]
    fn outside_window_is_none() {
        let b = date(1990, 9, 1);
        assert_eq!(birthday_occurrence(b, at(2025, 3, 1), &rule(7, 7)), None);
    }
}
