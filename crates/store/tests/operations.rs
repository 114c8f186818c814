//! Every operation of the store on a real SQLite file.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use loyalty_cards::{QrSigner, VirtualCard};
use loyalty_domain::{Basket, BirthdayRule};
use loyalty_store::{
    CardStatus, Channel, CheckoutRequest, NewCustomer, ReturnItems, ReturnLine, ReturnRequest,
    Store,
};

#[test]
fn enrol_then_lookup_by_card_phone_qr_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = s
        .enrol(
            op(),
            NewCustomer {
                name: "Анна Петрова".into(),
                phone: Some("8 916 123-45-67".into()),
                email: Some("anna@example.com".into()),
                birthday: NaiveDate::from_ymd_opt(1990, 5, 17),
                preferred_channel: Channel::Messenger,
                marketing_consent: true,
                tags: vec!["vip".into(), "coffee".into()],
                ..NewCustomer::default()
            },
            t(0),
        )
        .unwrap();
    assert_eq!(e.card.len(), 13);
    assert!(
        e.card.starts_with("20001"),
        "card prefix from till T01: {}",
        e.card
    );
    loyalty_cards::card::validate(&e.card).unwrap();
    assert_eq!(e.welcome_points, 100);

    let v = s.lookup(&e.card, t(0)).unwrap();
    assert_eq!(v.customer.phone.as_deref(), Some("+79161234567"));
    assert_eq!(v.customer.email.as_deref(), Some("anna@example.com"));
    assert_eq!(v.customer.preferred_channel, Channel::Messenger);
    assert_eq!(
        v.customer.tags,
        vec!["vip".to_string(), "coffee".to_string()]
    );
    assert_eq!(v.customer.consent_at, Some(t(0)));
    assert_eq!(v.customer.enrolled_till, "T01");
    assert_eq!(v.balance.available, 100);
    assert_eq!(v.balance.pending, 0);
    assert_eq!(v.cards.len(), 1);

    let by_phone = s.lookup("+7 (916) 123 45 67", t(0)).unwrap();
    assert_eq!(by_phone.customer.id, e.customer_id);
    assert_eq!(by_phone.card, e.card);

    let qr = QrSigner::from_seed(&SEED).sign(&VirtualCard {
        card: e.card.clone(),
        issued_at: t(0),
        expires_at: t(1),
    });
    assert_eq!(s.lookup(&qr, t(0)).unwrap().account_id, e.account_id);
    let expired = s.lookup(&qr, t(2)).unwrap_err();
    assert_eq!(expired.code(), "QR_EXPIRED");
    let forged = QrSigner::from_seed(&[9; 32]).sign(&VirtualCard {
        card: e.card.clone(),
        issued_at: t(0),
        expires_at: t(1),
    });
    assert_eq!(
        s.lookup(&forged, t(0)).unwrap_err().code(),
        "QR_BAD_SIGNATURE"
    );

    enrol(&mut s, "Анатолий", "+79161230000");
    enrol(&mut s, "Boris", "+79161230001");
    let hits = s.search_name("ан", 10).unwrap();
    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|h| h.name.to_lowercase().starts_with("ан")));
    assert_eq!(s.search_name("BOR", 10).unwrap().len(), 1);
    assert_eq!(
        s.lookup("+79990000000", t(0)).unwrap_err().code(),
        "UNKNOWN_CARD"
    );
    assert_invariants(&s);
}

#[test]
fn checkout_spends_fifo_and_earns() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = enrol(&mut s, "Ivan", "+79161234567");
    let q = s.quote(&e.card, &Basket::single(100_000), 0, t(1)).unwrap();
    let r1 = buy(&mut s, &e.card, 100_000, 0, 1);
    assert_eq!(r1.earned, q.earn_total);
    assert!(r1.earned > 0);
    assert_eq!(r1.receipt_no, "T01-000001");
    let v = s.lookup(&e.card, t(1)).unwrap();
    assert_eq!(v.balance.available, 100 + r1.earned);
    assert_eq!(v.lifetime_spend, r1.after_discounts);
    assert_eq!(v.lifetime_purchases, 1);

    let max = s
        .quote(&e.card, &Basket::single(50_000), 0, t(2))
        .unwrap()
        .max_redeemable;
    assert!(max > 0);
    let spend = max.min(v.balance.available);
    let r2 = buy(&mut s, &e.card, 50_000, spend, 2);
    assert_eq!(r2.points_spent, spend);
    assert_eq!(r2.receipt_no, "T01-000002");
    let v2 = s.lookup(&e.card, t(2)).unwrap();
    assert_eq!(
        v2.balance.available,
        v.balance.available - spend + r2.earned
    );
    // FIFO: the welcome lot (oldest) was spent first.
    let h = s.history(e.customer_id).unwrap();
    let welcome = h.lots.iter().find(|l| l.kind == "welcome").unwrap();
    assert_eq!(welcome.remaining, (100 - spend).max(0));
    assert_eq!(h.sales.len(), 2);
    assert_eq!(h.ledger.last().unwrap().balance, v2.balance.available);
    assert_invariants(&s);

    let ev = s.outbox_after(0, 100).unwrap();
    let kinds: Vec<&str> = ev.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["enrol", "sale", "sale"]);
    assert_eq!(ev.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(ev[1].payload["receipt_no"], "T01-000001");
    // The payload is the typed fact (`loyalty_domain::Fact`).
    assert_eq!(ev[0].payload["type"], "enrol");
    assert_eq!(ev[1].payload["type"], "sale");
    assert_eq!(ev[0].payload["account_uid"], ev[1].payload["account_uid"]);
}

#[test]
fn family_card_shares_the_balance() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = enrol(&mut s, "Olga", "+79161234567");
    let fam = s.add_family_card(op(), e.account_id, t(0)).unwrap();
    assert_ne!(fam, e.card);
    let r = buy(&mut s, &fam, 20_000, 0, 1);
    let by_main = s.lookup(&e.card, t(1)).unwrap();
    let by_fam = s.lookup(&fam, t(1)).unwrap();
    assert_eq!(by_main.account_id, by_fam.account_id);
    assert_eq!(by_main.balance, by_fam.balance);
    assert_eq!(by_main.balance.available, 100 + r.earned);
    assert_eq!(by_main.cards.len(), 2);
    assert!(by_main.cards.iter().any(|c| c.family && c.number == fam));
    buy(&mut s, &fam, 20_000, 10, 2);
    assert_eq!(
        s.lookup(&e.card, t(2)).unwrap().balance.available,
        by_main.balance.available - 10 + s.history(e.customer_id).unwrap().sales[1].earned
    );
    assert_eq!(
        s.add_family_card(op(), 999, t(0)).unwrap_err().code(),
        "UNKNOWN_ACCOUNT"
    );
    assert_invariants(&s);
}

#[test]
fn lost_card_is_blocked_and_balance_moves() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = enrol(&mut s, "Petr", "+79161234567");
    buy(&mut s, &e.card, 30_000, 0, 1);
    let before = s.lookup(&e.card, t(1)).unwrap().balance;
    let new = s.block_card_and_reissue(op(), &e.card, t(2)).unwrap();
    let err = s.lookup(&e.card, t(2)).unwrap_err();
    assert_eq!(err.code(), "CARD_BLOCKED");
    assert!(err.to_string().contains(&new), "{err}");
    let v = s.lookup(&new, t(2)).unwrap();
    assert_eq!(v.balance, before);
    let old = v.cards.iter().find(|c| c.number == e.card).unwrap();
    assert_eq!(old.status, CardStatus::Blocked);
    assert_eq!(old.replaced_by.as_deref(), Some(new.as_str()));
    // checkout on the blocked card is refused, phone lookup shows the new card
    let fp = fingerprint(&s);
    let req = CheckoutRequest {
        card: e.card.clone(),
        basket: Basket::single(1000),
        spend: 0,
        receipt: None,
    };
    assert_eq!(
        s.checkout(op(), req, t(3)).unwrap_err().code(),
        "CARD_BLOCKED"
    );
    assert_eq!(
        s.block_card_and_reissue(op(), &e.card, t(3))
            .unwrap_err()
            .code(),
        "CARD_BLOCKED"
    );
    assert_eq!(fingerprint(&s), fp);
    assert_eq!(s.lookup("89161234567", t(3)).unwrap().card, new);
    assert_invariants(&s);
}

#[test]
fn adjustments_are_audited_and_debits_capped() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = enrol(&mut s, "Vera", "+79161234567");
    let a = s
        .adjust(op(), e.account_id, 50, "complaint #12", "owner", t(1))
        .unwrap();
    assert_eq!(a.points, 50);
    s.adjust(op(), e.account_id, -120, "correction", "owner", t(1))
        .unwrap();
    assert_eq!(s.balance(e.account_id, t(1)).unwrap().available, 30);
    let fp = fingerprint(&s);
    let err = s
        .adjust(op(), e.account_id, -31, "too much", "owner", t(1))
        .unwrap_err();
    assert_eq!(err.code(), "INSUFFICIENT_POINTS");
    assert_eq!(
        s.adjust(op(), e.account_id, 5, " ", "owner", t(1))
            .unwrap_err()
            .code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        s.adjust(op(), 999, 5, "x", "owner", t(1))
            .unwrap_err()
            .code(),
        "UNKNOWN_ACCOUNT"
    );
    assert_eq!(fingerprint(&s), fp);
    let h = s.history(e.customer_id).unwrap();
    assert_eq!(h.adjustments.len(), 2);
    assert_eq!(h.adjustments[0].reason, "complaint #12");
    assert_eq!(h.adjustments[0].author, "owner");
    assert_invariants(&s);
}

#[test]
fn expiry_sweeps_oldest_lots_only_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = enrol(&mut s, "Nina", "+79161234567"); // 100 welcome at day 0
    let r = buy(&mut s, &e.card, 40_000, 0, 100); // earned at day 100
    buy(&mut s, &e.card, 10_000, 30, 200); // spends 30 from the welcome lot (FIFO)
    let spent_day200 = s.history(e.customer_id).unwrap().sales[1].earned;
    let day = 366; // welcome lot expired, day-100 lot not yet
    let v = s.lookup(&e.card, t(day)).unwrap();
    assert_eq!(v.balance.available, r.earned + spent_day200);
    let id = op();
    let expired = s.expire(id, t(day)).unwrap();
    assert_eq!(expired, 70);
    let fp = fingerprint(&s);
    assert_eq!(
        s.expire(id, t(day)).unwrap(),
        70,
        "replay returns the original result"
    );
    assert_eq!(fingerprint(&s), fp);
    assert_eq!(s.expire(op(), t(day)).unwrap(), 0, "nothing left to sweep");
    let h = s.history(e.customer_id).unwrap();
    let welcome = h.lots.iter().find(|l| l.kind == "welcome").unwrap();
    assert_eq!((welcome.remaining, welcome.expired), (0, 70));
    assert!(h
        .ledger
        .iter()
        .any(|l| l.kind == "expire" && l.points == -70));
    assert_eq!(h.ledger.last().unwrap().balance, v.balance.available);
    assert_invariants(&s);
}

#[test]
fn partial_returns_sum_to_the_full_return() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = enrol(&mut s, "Gleb", "+79161234567");
    let basket = Basket {
        lines: vec![
            line("A", 3, 30_001),
            line("B", 1, 12_345),
            line("C", 2, 7_777),
        ],
    };
    let spend = 50;
    let r = s
        .checkout(
            op(),
            CheckoutRequest {
                card: e.card.clone(),
                basket,
                spend,
                receipt: None,
            },
            t(1),
        )
        .unwrap();
    let ret = |items| ReturnRequest {
        receipt_no: r.receipt_no.clone(),
        items,
    };
    let r1 = s
        .return_sale(
            op(),
            ret(ReturnItems::Lines(vec![ReturnLine {
                sku: "A".into(),
                qty: 1,
            }])),
            t(2),
        )
        .unwrap();
    let r2 = s
        .return_sale(
            op(),
            ret(ReturnItems::Lines(vec![ReturnLine {
                sku: "C".into(),
                qty: 2,
            }])),
            t(3),
        )
        .unwrap();
    let fp = fingerprint(&s);
    let again = s.return_sale(
        op(),
        ret(ReturnItems::Lines(vec![ReturnLine {
            sku: "C".into(),
            qty: 1,
        }])),
        t(3),
    );
    assert_eq!(again.unwrap_err().code(), "RETURN_EXCEEDS_SALE");
    let too_many = s.return_sale(
        op(),
        ret(ReturnItems::Lines(vec![ReturnLine {
            sku: "A".into(),
            qty: 3,
        }])),
        t(3),
    );
    assert_eq!(too_many.unwrap_err().code(), "RETURN_EXCEEDS_SALE");
    let unknown = s.return_sale(
        op(),
        ReturnRequest {
            receipt_no: "nope".into(),
            items: ReturnItems::All,
        },
        t(3),
    );
    assert_eq!(unknown.unwrap_err().code(), "UNKNOWN_RECEIPT");
    assert_eq!(fingerprint(&s), fp);
    let r3 = s
        .return_sale(op(), ret(ReturnItems::Amount(1_000)), t(4))
        .unwrap();
    let r4 = s.return_sale(op(), ret(ReturnItems::All), t(5)).unwrap();
    assert!(r4.fully_returned && !r3.fully_returned);
    let all = [&r1, &r2, &r3, &r4];
    assert_eq!(all.iter().map(|x| x.amount).sum::<i64>(), r.subtotal);
    assert_eq!(all.iter().map(|x| x.refund).sum::<i64>(), r.to_pay);
    assert_eq!(all.iter().map(|x| x.spent_restored).sum::<i64>(), spend);
    assert_eq!(
        all.iter()
            .map(|x| x.earned_taken + x.shortfall_added)
            .sum::<i64>(),
        r.earned
    );
    assert_eq!(
        s.return_sale(op(), ret(ReturnItems::All), t(6))
            .unwrap_err()
            .code(),
        "RETURN_EXCEEDS_SALE"
    );
    let v = s.lookup(&e.card, t(6)).unwrap();
    assert_eq!(v.lifetime_spend, 0);
    assert_eq!(v.lifetime_purchases, 0);
    assert_eq!(v.balance.available, 100, "back to the welcome bonus");
    let h = s.history(e.customer_id).unwrap();
    assert_eq!(h.sales[0].returns.len(), 4);
    assert_invariants(&s);
}

#[test]
fn shortfall_after_return_is_settled_by_future_earnings() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = enrol(&mut s, "Dima", "+79161234567");
    let r1 = buy(&mut s, &e.card, 100_000, 0, 1);
    let avail = s.balance(e.account_id, t(1)).unwrap().available;
    // spend everything (basket big enough for the cap)
    let r2 = buy(&mut s, &e.card, 10_000_000, avail, 2);
    assert_eq!(r2.points_spent, avail);
    // the owner removes what r2 earned: nothing is left to take back from
    let now_avail = s.balance(e.account_id, t(3)).unwrap().available;
    s.adjust(op(), e.account_id, -now_avail, "test", "owner", t(3))
        .unwrap();
    let left = s.balance(e.account_id, t(3)).unwrap();
    assert_eq!(left.available, 0);
    let rr = s
        .return_sale(
            op(),
            ReturnRequest {
                receipt_no: r1.receipt_no.clone(),
                items: ReturnItems::All,
            },
            t(4),
        )
        .unwrap();
    assert_eq!(rr.earned_taken + rr.shortfall_added, r1.earned);
    let b = s.balance(e.account_id, t(4)).unwrap();
    assert!(b.available >= 0);
    assert_eq!(b.shortfall, (r1.earned - left.available).max(0));
    assert!(b.shortfall > 0, "the earned points were already spent");
    assert_invariants(&s);
    let r4 = buy(&mut s, &e.card, 10_000_000, 0, 5);
    assert_eq!(r4.settled_shortfall, b.shortfall.min(r4.earned));
    let after = s.balance(e.account_id, t(5)).unwrap();
    assert_eq!(after.shortfall, b.shortfall - r4.settled_shortfall);
    assert_eq!(
        after.available,
        b.available + r4.earned - r4.settled_shortfall
    );
    assert_invariants(&s);
}

#[test]
fn referral_pays_both_sides_on_first_purchase_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let a = enrol(&mut s, "Referrer", "+79161234567");
    let b = s
        .enrol(
            op(),
            NewCustomer {
                name: "Friend".into(),
                phone: Some("+79161234568".into()),
                referrer: Some(a.card.clone()),
                ..NewCustomer::default()
            },
            t(0),
        )
        .unwrap();
    assert_eq!(
        s.lookup(&b.card, t(0)).unwrap().customer.referrer_id,
        Some(a.customer_id)
    );
    let r = buy(&mut s, &b.card, 10_000, 0, 1);
    assert_eq!(r.referrer_points, 200);
    assert_eq!(s.balance(a.account_id, t(1)).unwrap().available, 300);
    assert!(s
        .history(b.customer_id)
        .unwrap()
        .ledger
        .iter()
        .any(|l| l.kind == "referral_referee"));
    let r2 = buy(&mut s, &b.card, 10_000, 0, 2);
    assert_eq!(r2.referrer_points, 0);
    assert_eq!(s.balance(a.account_id, t(2)).unwrap().available, 300);
    assert_invariants(&s);
}

#[test]
fn hold_days_keep_points_pending() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let mut p = program();
    p.version += 1;
    p.hold_days = 14;
    s.set_program(&p, t(0)).unwrap();
    assert_eq!(s.set_program(&p, t(0)).map_err(|e| e.code()), Ok(()));
    let versions: Vec<u32> = s.program_versions().iter().map(|v| v.version).collect();
    assert_eq!(versions.last(), Some(&p.version), "{versions:?}");
    assert_eq!(s.program_versions().last(), Some(&p));
    let mut other = p.clone();
    other.welcome_bonus = 1;
    assert_eq!(
        s.set_program(&other, t(0)).unwrap_err().code(),
        "PROGRAM_CONFLICT"
    );
    let e = enrol(&mut s, "Hold", "+79161234567");
    let r = buy(&mut s, &e.card, 100_000, 0, 1);
    assert_eq!(r.program_version, p.version);
    let b = s.balance(e.account_id, t(2)).unwrap();
    assert_eq!((b.available, b.pending), (100, r.earned));
    let b = s.balance(e.account_id, t(15)).unwrap();
    assert_eq!((b.available, b.pending), (100 + r.earned, 0));
}

#[test]
fn outbox_is_gap_free_and_ackable() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = enrol(&mut s, "Outbox", "+79161234567");
    buy(&mut s, &e.card, 1000, 0, 1);
    s.adjust(op(), e.account_id, 5, "r", "a", t(1)).unwrap();
    assert_eq!(s.outbox_pending_count().unwrap(), 3);
    assert_eq!(s.outbox_after(1, 1).unwrap()[0].seq, 2);
    assert_eq!(s.outbox_ack(2).unwrap(), 2);
    assert_eq!(s.outbox_pending_count().unwrap(), 1);
    assert_eq!(s.outbox_ack(2).unwrap(), 0);
    assert_eq!(s.outbox_last_seq().unwrap(), 3);
    assert!(s.outbox_after(0, 10).unwrap()[0].acked);
}

#[test]
fn the_program_in_force_is_the_newest_version_already_effective() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let base = program();
    assert_eq!(s.program_at(t(0)).version, base.version);
    let mut later = base.clone();
    later.version += 1;
    later.effective_from = t(30);
    later.earn.rate_bp = 1_000;
    s.set_program(&later, t(0)).unwrap();
    // Before its effective time the older version still rules, from it on the newer one.
    assert_eq!(s.program_at(t(29)).version, base.version);
    assert_eq!(s.program_at(t(30)).version, later.version);
    let e = enrol(&mut s, "Vera", "+79161234567");
    assert_eq!(buy(&mut s, &e.card, 100_000, 0, 29).earned, 50);
    let r = buy(&mut s, &e.card, 100_000, 0, 31);
    assert_eq!((r.program_version, r.earned), (later.version, 100));
    // A sale computed offline for an earlier moment still uses the version of that moment.
    assert_eq!(
        buy(&mut s, &e.card, 100_000, 0, 1).program_version,
        base.version
    );
}

#[test]
fn birthday_bonus_is_granted_once_per_birthday_even_across_new_year() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let mut p = program();
    p.version += 1;
    p.birthday = Some(BirthdayRule {
        days_before: 7,
        days_after: 7,
        bonus_points: 300,
        discount_bp: 0,
    });
    s.set_program(&p, t(0)).unwrap();
    let e = s
        .enrol(
            op(),
            NewCustomer {
                name: "Jan".into(),
                phone: Some("+79161234567".into()),
                birthday: NaiveDate::from_ymd_opt(1990, 1, 2),
                ..NewCustomer::default()
            },
            t(0),
        )
        .unwrap();
    let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single().unwrap();
    let sale = |s: &mut Store, when| {
        s.checkout(
            op(),
            CheckoutRequest {
                card: e.card.clone(),
                basket: Basket::single(10_000),
                spend: 0,
                receipt: None,
            },
            when,
        )
        .unwrap()
    };
    // 28 Dec 2025 is in the window of the 2 Jan 2026 birthday: bonus granted.
    assert_eq!(sale(&mut s, at(2025, 12, 28)).earned, 5 + 300);
    // 3 Jan 2026 is the same birthday: no second bonus.
    assert_eq!(sale(&mut s, at(2026, 1, 3)).earned, 5);
    // The next birthday (2 Jan 2027) grants it again.
    assert_eq!(sale(&mut s, at(2027, 1, 1)).earned, 5 + 300);
    assert_invariants(&s);
}
