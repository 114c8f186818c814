//! Property tests of the account book over random fact sequences (skewed event times,
//! holds, expiries, overdraws, returns of unknown or already returned sales).

use super::tests::{adjust, day, enrol, ret, sale};
use super::*;
use crate::lots::{fifo_take, LotView};
use chrono::Duration;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

#[derive(Clone, Debug)]
enum Step {
    Enrol(Points, Option<u32>),
    Sale {
        spend: Points,
        earn: Vec<Points>,
        hold: u32,
        months: Option<u32>,
    },
    Return {
        sale: Index,
        taken: Points,
        restored: Points,
        full: bool,
    },
    Adjust(Points, Option<u32>),
    Card,
    Expire,
}

/// Random steps; `expiring`: lots may expire; `max_hold`: hold days below it.
fn step(expiring: bool, max_hold: u32) -> impl Strategy<Value = Step> {
    let months = if expiring {
        proptest::option::of(1u32..24).boxed()
    } else {
        Just(None).boxed()
    };
    prop_oneof![
        1 => (0i64..200, months.clone()).prop_map(|(w, m)| Step::Enrol(w, m)),
        3 => (0i64..300, vec(0i64..100, 0..3), 0..max_hold, months.clone()).prop_map(
            |(spend, earn, hold, months)| Step::Sale { spend, earn, hold, months }
        ),
        2 => (any::<Index>(), 0i64..150, 0i64..200, any::<bool>()).prop_map(
            |(sale, taken, restored, full)| Step::Return { sale, taken, restored, full }
        ),
        1 => (-200i64..200, months.clone())
            .prop_filter("non-zero", |(p, _)| *p != 0)
            .prop_map(|(p, m)| Step::Adjust(p, m)),
        1 => Just(Step::Card),
        1 => Just(Step::Expire),
    ]
}

/// Steps with the time offset from the previous step in hours (negative = skewed back).
fn steps(expiring: bool, max_hold: u32, min_dt: i64) -> impl Strategy<Value = Vec<(Step, i64)>> {
    vec((step(expiring, max_hold), min_dt..240i64), 0..40)
}

/// The fact of a step (None for an expiry sweep) and its plain-model effect on the total.
fn fact_of(s: &Step, sales: &[String]) -> (Option<Fact>, Points) {
    match s {
        Step::Enrol(w, m) => (Some(enrol(*w, *m, false)), *w),
        Step::Sale {
            spend,
            earn,
            hold,
            months,
        } => (
            Some(sale(*spend, earn, *hold, *months)),
            earn.iter().sum::<Points>() - spend,
        ),
        Step::Return {
            sale,
            taken,
            restored,
            full,
        } => {
            let op = if sales.is_empty() {
                "unknown".to_string()
            } else {
                sales[sale.index(sales.len())].clone()
            };
            (Some(ret(&op, *taken, *restored, *full)), restored - taken)
        }
        Step::Adjust(p, m) => (Some(adjust(*p, *m)), *p),
        Step::Card => (
            Some(Fact::FamilyCard {
                account_uid: "acc".into(),
                card: "c".into(),
            }),
            0,
        ),
        Step::Expire => (None, 0),
    }
}

struct Run {
    book: AccountBook,
    applied: Vec<Applied>,
    /// Σ of every movement, expiry included.
    net: Points,
    /// Plain model: Σ of the facts' point effects (expiry excluded).
    model: Points,
    t: DateTime<Utc>,
}

/// Applies `steps` to `book` from time `t`, checking the invariants after every step.
fn run(book: AccountBook, steps: &[(Step, i64)]) -> Result<Run, TestCaseError> {
    let mut r = Run {
        net: book.total_signed(),
        book,
        applied: Vec::new(),
        model: 0,
        t: day(0),
    };
    let mut sales = Vec::new();
    let mut latest = r.t;
    for (i, (s, dt)) in steps.iter().enumerate() {
        r.t += Duration::hours(*dt);
        latest = latest.max(r.t);
        let op = format!("op{i}");
        let (fact, effect) = fact_of(s, &sales);
        match fact {
            Some(f) => {
                // Points of the returned sale's lots that already expired: a return takes
                // its earned points back from them first, for free (they left with the
                // expiry, so the return's net is smaller by what it claimed there).
                let unclaimed = |b: &AccountBook| -> Points {
                    match &f {
                        Fact::Return { sale_op_id, .. } => b
                            .lots
                            .iter()
                            .filter(|l| &l.source_op == sale_op_id)
                            .map(|l| l.expired)
                            .sum(),
                        _ => 0,
                    }
                };
                let before = unclaimed(&r.book);
                let a = r.book.apply(
                    &f,
                    ApplyCtx {
                        op_id: &op,
                        event_time: r.t,
                    },
                );
                let a = a.map_err(|e| TestCaseError::fail(format!("{f:?}: {e}")))?;
                let claimed = before - unclaimed(&r.book);
                prop_assert!(claimed >= 0);
                r.net += a.net();
                r.model += effect;
                prop_assert_eq!(a.net(), effect + claimed);
                r.applied.push(a);
                if matches!(s, Step::Sale { .. }) {
                    sales.push(op);
                }
            }
            None => {
                let m = r.book.expire_movements(r.t);
                r.net += m.iter().map(|m| m.points).sum::<Points>();
                prop_assert!(r.book.expire_movements(r.t).is_empty());
            }
        }
        let b = r.book.balance(r.t);
        prop_assert!(b.available >= 0 && b.pending >= 0 && b.shortfall >= 0);
        // Whatever order the event times come in, a shortfall never stands next to points
        // that could pay it: every lot with points left is expired by the latest event.
        if r.book.shortfall > 0 {
            for l in &r.book.lots {
                prop_assert!(
                    l.remaining == 0 || l.expired(latest),
                    "{:?} beside a shortfall",
                    l
                );
            }
        }
        for l in &r.book.lots {
            prop_assert!(0 <= l.remaining && l.remaining <= l.original, "{:?}", l);
        }
        prop_assert_eq!(r.net, r.book.total_signed());
    }
    Ok(r)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn invariants_hold_over_random_skewed_sequences(s in steps(true, 20, -120)) {
        run(AccountBook::new("acc"), &s)?;
    }

    #[test]
    fn replaying_gives_identical_books_even_through_json(
        s in steps(true, 20, -120),
        cut in any::<Index>(),
    ) {
        let a = run(AccountBook::new("acc"), &s)?;
        let b = run(AccountBook::new("acc"), &s)?;
        prop_assert_eq!(&a.book, &b.book);
        prop_assert_eq!(&a.applied, &b.applied);
        // Same again with the book stored as JSON and loaded back half-way.
        let k = if s.is_empty() { 0 } else { cut.index(s.len()) };
        let first = run(AccountBook::new("acc"), &s[..k])?;
        let json = serde_json::to_string(&first.book).unwrap();
        let loaded: AccountBook = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&loaded, &first.book);
        let mut c = Run { book: loaded, ..first };
        let mut sales = Vec::new();
        for (i, (st, dt)) in s.iter().enumerate() {
            let op = format!("op{i}");
            if i >= k {
                c.t += Duration::hours(*dt);
                match fact_of(st, &sales).0 {
                    Some(f) => {
                        let ctx = ApplyCtx { op_id: &op, event_time: c.t };
                        c.applied.push(c.book.apply(&f, ctx).unwrap());
                    }
                    None => {
                        c.book.expire(c.t);
                    }
                }
            }
            if matches!(st, Step::Sale { .. }) {
                sales.push(op);
            }
        }
        prop_assert_eq!(&c.book, &a.book);
        prop_assert_eq!(&c.applied, &a.applied);
    }

    #[test]
    fn the_plain_model_agrees_when_nothing_expires(s in steps(false, 20, -120)) {
        let r = run(AccountBook::new("acc"), &s)?;
        let b = r.book.balance(r.t);
        prop_assert_eq!(b.available + b.pending - b.shortfall, r.model);
    }

    #[test]
    fn without_hold_or_skew_available_and_shortfall_are_the_models_parts(
        s in steps(false, 1, 0),
    ) {
        let r = run(AccountBook::new("acc"), &s)?;
        let b = r.book.balance(r.t);
        prop_assert_eq!(b.available, r.model.max(0));
        prop_assert_eq!(b.pending, 0);
        prop_assert_eq!(b.shortfall, (-r.model).max(0));
    }

    #[test]
    fn a_sale_and_its_full_return_restore_the_balance(
        prior in steps(true, 20, -120),
        spend in 0i64..400,
        earn in vec(0i64..100, 0..3),
        hold in 0u32..20,
        months in proptest::option::of(1u32..24),
        later in 0i64..(24 * 30),
    ) {
        let r = run(AccountBook::new("acc"), &prior)?;
        let (t, t_ret) = (r.t, r.t + Duration::hours(later));
        if r.book.lots.iter().any(|l| l.remaining > 0 && l.expires_at.is_some_and(|e| e <= t_ret)) {
            return Ok(()); // expiring lots are the documented exception
        }
        let before = r.book.balance(t_ret);
        let mut book = r.book.clone();
        let taken: Points = earn.iter().sum();
        let ctx = ApplyCtx { op_id: "pair-sale", event_time: t };
        book.apply(&sale(spend, &earn, hold, months), ctx).unwrap();
        let ctx = ApplyCtx { op_id: "pair-return", event_time: t_ret };
        book.apply(&ret("pair-sale", taken, spend, true), ctx).unwrap();
        let after = book.balance(t_ret);
        prop_assert_eq!(
            after.available + after.pending - after.shortfall,
            before.available + before.pending - before.shortfall
        );
        // Exactly the same split when the spend is one a till allows (within the available
        // points); an overdraw may have taken held points, which come back available.
        if before.shortfall == 0 && spend <= r.book.balance(t).available {
            prop_assert_eq!(after, before);
        }
        prop_assert_eq!(book.lifetime_purchases, r.book.lifetime_purchases);
    }

    #[test]
    fn a_debit_takes_the_same_lots_as_fifo_take(
        lots in vec((-40i64..40, 0i64..20, proptest::option::of(1u32..3), 0i64..50), 0..12),
        share in 0i64..=100,
    ) {
        let t = day(30);
        let mut book = AccountBook::new("acc");
        for (i, (d, hold, months, rem)) in lots.iter().enumerate() {
            let earned = day(*d);
            book.lots.push(BookLot {
                id: format!("x{i}:0"),
                kind: "adjust".into(),
                earned_at: earned,
                available_at: available_at(earned, u32::try_from(*hold).unwrap()),
                expires_at: months.map(|m| expires_at(earned, m)),
                original: 50,
                remaining: *rem,
                expired: 0,
                source_op: format!("x{i}"),
            });
        }
        let views: Vec<LotView> = book.lots.iter().enumerate().map(|(i, l)| LotView {
            id: i64::try_from(i).unwrap(),
            earned_at: l.earned_at,
            available_at: l.available_at,
            expires_at: l.expires_at,
            remaining: l.remaining,
        }).collect();
        let amount = book.balance(t).available * share / 100;
        prop_assume!(amount > 0);
        let expected = fifo_take(&views, t, amount).unwrap();
        let before = book.clone();
        let a = book.apply(&adjust(-amount, None), ApplyCtx { op_id: "d", event_time: t }).unwrap();
        prop_assert_eq!(a.shortfall_added, 0);
        let got: Vec<(i64, Points)> = before.lots.iter().zip(&book.lots).enumerate()
            .filter(|(_, (x, y))| x.remaining != y.remaining)
            .map(|(i, (x, y))| (i64::try_from(i).unwrap(), x.remaining - y.remaining))
            .collect();
        let mut want = expected;
        want.retain(|(_, n)| *n > 0);
        want.sort_unstable();
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Merging two random books (the same op ids in both, so lot ids collide) conserves
    /// every point, keeps the book's rules, and leaves no debt beside points that pay it.
    #[test]
    fn a_merge_conserves_every_point(
        s1 in steps(true, 20, -120),
        s2 in steps(true, 20, -120),
        later in 0i64..2000,
    ) {
        let a = run(AccountBook::new("acc"), &s1)?;
        let b = run(AccountBook::new("acc"), &s2)?;
        let mut keep = a.book;
        let mut dup = b.book;
        dup.account_uid = "dup".into();
        let moved = dup.total_signed();
        let total = keep.total_signed() + moved;
        let spend_before = keep.lifetime_spend + dup.lifetime_spend;
        let t = a.t.max(b.t) + Duration::hours(later);
        let fact = Fact::Merge {
            account_uid: "acc".into(),
            duplicate_uid: "dup".into(),
            reason: "twice".into(),
            author: "owner".into(),
        };
        let (into, out) = keep
            .absorb(&mut dup, &fact, ApplyCtx { op_id: "merge", event_time: t })
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(keep.total_signed(), total);
        prop_assert_eq!(into.net(), moved);
        prop_assert_eq!(out.net(), -moved);
        prop_assert_eq!(dup.total_signed(), 0);
        prop_assert!(dup.lots.is_empty());
        prop_assert_eq!(keep.lifetime_spend, spend_before);
        let mut ids = std::collections::HashSet::new();
        for l in &keep.lots {
            prop_assert!(ids.insert(l.id.clone()), "lot id {} twice", l.id);
            prop_assert!(0 <= l.remaining && l.remaining <= l.original, "{:?}", l);
        }
        prop_assert!(keep.shortfall >= 0);
        if keep.shortfall > 0 {
            prop_assert_eq!(keep.balance(t).available + keep.balance(t).pending, 0);
        }
        // Replaying gives the same book (the ids of collided lots are deterministic).
        let mut again = run(AccountBook::new("acc"), &s1)?.book;
        let mut dup2 = run(AccountBook::new("acc"), &s2)?.book;
        dup2.account_uid = "dup".into();
        again
            .absorb(&mut dup2, &fact, ApplyCtx { op_id: "merge", event_time: t })
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again, keep);
    }
}
