//! Every dashboard figure against a hand-written model of a generated dataset: members
//! enrolled at two stores, sales with discounts and spends, full returns, adjustments,
//! sales without a card and NPS answers, uploaded over HTTP like tills do. The model
//! recomputes each figure from the list of generated facts (no SQL); the dashboard must
//! equal it exactly, for the whole chain and one store, over several periods.

mod owner_support;
mod support;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use loyalty_domain::{BasketLine, Fact, ProgramConfig};
use loyalty_wire::dashboard::{definitions, segment_days as seg};
use loyalty_wire::{DailyPoint, Dashboard, EventEnvelope, Nps, Roi};
use owner_support::*;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use support::*;
use uuid::Uuid;

backend_tests!(
    dashboard_equals_the_model,
    dashboard_after_member_days_backfill
);

struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[derive(Clone)]
struct Sale {
    op: Uuid,
    member: usize,
    store: usize,
    at: DateTime<Utc>,
    amount: i64,
    discount: i64,
    spent: i64,
    earned: i64,
}

struct Ret {
    member: usize,
    store: usize,
    at: DateTime<Utc>,
    sale: usize,
}

#[derive(Default)]
struct Model {
    /// (store, enrolled at, welcome points)
    members: Vec<(usize, DateTime<Utc>, i64)>,
    sales: Vec<Sale>,
    returns: Vec<Ret>,
    /// (member, store, at, points)
    adjusts: Vec<(usize, usize, DateTime<Utc>, i64)>,
    /// (store, at, amount)
    anon: Vec<(usize, DateTime<Utc>, i64)>,
    /// (store, at, score)
    nps: Vec<(usize, DateTime<Utc>, i64)>,
    balance: Vec<i64>,
}

fn day(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}

fn floor(a: i64, b: i64, c: i64) -> Option<i64> {
    (c != 0).then(|| (i128::from(a) * i128::from(b)).div_euclid(i128::from(c)) as i64)
}

impl Model {
    fn dashboard(
        &self,
        store: Option<usize>,
        ids: &[String],
        from: NaiveDate,
        to: NaiveDate,
        as_of: DateTime<Utc>,
    ) -> Dashboard {
        let at_store = |s: usize| store.is_none_or(|x| x == s);
        let inp = |t: DateTime<Utc>| day(t) >= from && day(t) <= to;
        let p = ProgramConfig::default();
        let mut d = Dashboard {
            store: store.map(|s| ids[s].clone()),
            from,
            to,
            as_of,
            currency: p.currency.clone(),
            point_value: p.point_value,
            definitions: definitions(),
            ..Dashboard::default()
        };
        let mut days: BTreeMap<NaiveDate, DailyPoint> = BTreeMap::new();
        let mut touch = |t: DateTime<Utc>| -> NaiveDate {
            days.entry(day(t)).or_insert_with(|| DailyPoint {
                day: day(t),
                ..DailyPoint::default()
            });
            day(t)
        };
        let mut points: Vec<DailyPoint> = Vec::new();
        let pt = |day, ms, an, mr, ar, nm, pe, ps| DailyPoint {
            day,
            member_sales: ms,
            anonymous_sales: an,
            member_revenue: mr,
            anonymous_revenue: ar,
            new_members: nm,
            points_earned: pe,
            points_spent: ps,
            points_expired: 0,
        };
        for (s, t, w) in &self.members {
            if at_store(*s) && inp(*t) {
                points.push(pt(touch(*t), 0, 0, 0, 0, 1, *w, 0));
                d.new_members += 1;
                d.points_earned += w;
            }
        }
        for x in &self.sales {
            if at_store(x.store) && inp(x.at) {
                let after = x.amount - x.discount;
                points.push(pt(touch(x.at), 1, 0, after, 0, 0, x.earned, x.spent));
                d.member_sales += 1;
                d.member_revenue += after;
                d.discounts_given += x.discount;
                d.points_earned += x.earned;
                d.points_spent += x.spent;
            }
        }
        for (s, t, a) in &self.anon {
            if at_store(*s) && inp(*t) {
                points.push(pt(touch(*t), 0, 1, 0, *a, 0, 0, 0));
                d.anonymous_sales += 1;
                d.anonymous_revenue += a;
            }
        }
        for r in &self.returns {
            if at_store(r.store) && inp(r.at) {
                touch(r.at);
                let x = &self.sales[r.sale];
                d.returns += 1;
                d.returned_amount += x.amount - x.discount;
            }
        }
        for (_, s, t, _) in &self.adjusts {
            if at_store(*s) && inp(*t) {
                touch(*t);
            }
        }
        for p in points {
            let e = days.get_mut(&p.day).unwrap();
            e.member_sales += p.member_sales;
            e.anonymous_sales += p.anonymous_sales;
            e.member_revenue += p.member_revenue;
            e.anonymous_revenue += p.anonymous_revenue;
            e.new_members += p.new_members;
            e.points_earned += p.points_earned;
            e.points_spent += p.points_spent;
        }
        d.daily = days.into_values().collect();
        d.card_share_bp = floor(d.member_sales, 10_000, d.member_sales + d.anonymous_sales);
        d.aov_member = floor(d.member_revenue, 1, d.member_sales);
        d.aov_non_member = floor(d.anonymous_revenue, 1, d.anonymous_sales);
        let len = (to - from).num_days() + 1;
        let (pf, pt) = (from - Duration::days(len), from - Duration::days(1));
        let buyers = |a: NaiveDate, b: NaiveDate| -> (HashSet<usize>, i64) {
            let v: Vec<usize> = self
                .sales
                .iter()
                .filter(|x| at_store(x.store) && day(x.at) >= a && day(x.at) <= b)
                .map(|x| x.member)
                .collect();
            (v.iter().copied().collect(), v.len() as i64)
        };
        let (cur, n) = buyers(from, to);
        let (prev, _) = buyers(pf, pt);
        d.active_members = cur.len() as i64;
        d.purchase_frequency_x100 = floor(n, 100, d.active_members);
        d.retention_base = prev.len() as i64;
        d.retained = prev.intersection(&cur).count() as i64;
        d.retention_bp = floor(d.retained, 10_000, d.retention_base);
        // Per member, over the whole history (the member's enrolment store).
        let mut net = 0;
        for (m, (s, _, _)) in self.members.iter().enumerate() {
            if !at_store(*s) {
                continue;
            }
            d.members_total += 1;
            let mine: Vec<&Sale> = self.sales.iter().filter(|x| x.member == m).collect();
            let returned: Vec<&Ret> = self.returns.iter().filter(|r| r.member == m).collect();
            let purchases = mine.len() as i64 - returned.len() as i64;
            net += mine.iter().map(|x| x.amount - x.discount).sum::<i64>()
                - returned
                    .iter()
                    .map(|r| self.sales[r.sale].amount - self.sales[r.sale].discount)
                    .sum::<i64>();
            d.buyers_total += i64::from(purchases >= 1);
            d.repeat_buyers_total += i64::from(purchases >= 2);
            d.points_liability += self.balance[m];
            let first = mine.iter().map(|x| x.at).min();
            let last = mine.iter().map(|x| x.at).max();
            let ago = |days: i64| as_of - Duration::days(days);
            let sg = &mut d.segments;
            match (first, last) {
                (None, _) | (_, None) => sg.no_purchase += 1,
                (Some(f), Some(_)) if f >= ago(seg::NEW_WITHIN) => sg.new += 1,
                (_, Some(l)) if l >= ago(seg::LOYAL_WITHIN) => {
                    if purchases >= seg::LOYAL_MIN_PURCHASES {
                        sg.loyal += 1
                    } else {
                        sg.active += 1
                    }
                }
                (_, Some(l)) if l >= ago(seg::AT_RISK_WITHIN) => sg.at_risk += 1,
                _ => sg.lapsed += 1,
            }
        }
        d.ltv = floor(net, 1, d.members_total);
        d.repeat_purchase_rate_bp = floor(d.repeat_buyers_total, 10_000, d.buyers_total);
        d.points_liability_value = d.points_liability * d.point_value;
        d.breakage_rate_bp = floor(d.points_expired, 10_000, d.points_earned);
        let cost = d.points_earned * d.point_value + d.discounts_given;
        let inc = (d.anonymous_sales > 0).then(|| {
            d.member_revenue
                - floor(d.anonymous_revenue, d.member_sales, d.anonymous_sales).unwrap()
        });
        d.roi = Roi {
            incremental_revenue: inc,
            cost,
            roi_bp: inc.and_then(|i| floor(i - cost, 10_000, cost)),
        };
        let mut nps = Nps::default();
        for (s, t, score) in &self.nps {
            if at_store(*s) && inp(*t) {
                nps.answers += 1;
                match score {
                    9..=10 => nps.promoters += 1,
                    7..=8 => nps.passives += 1,
                    _ => nps.detractors += 1,
                }
            }
        }
        nps.score = floor(nps.promoters - nps.detractors, 100, nps.answers);
        d.nps = nps;
        d
    }
}

fn card(m: usize) -> String {
    format!("27{m:011}")
}

enum Ev {
    Enrol(usize),
    Sale(usize),
    Ret(usize),
    Adjust(usize),
}

async fn dashboard_equals_the_model(db: Db) {
    check_against_model(db, false).await
}

/// A database with sales but without `member_days` (made before migration 0005): the
/// next start backfills it from `sale_facts`, and every figure is exact again.
async fn dashboard_after_member_days_backfill(db: Db) {
    check_against_model(db, true).await
}

async fn check_against_model(db: Db, backfill: bool) {
    let s = start(db).await;
    let tills = [s.till("North").await, s.till("South").await];
    let owner = owner_token(&s).await;
    let all = s.backend.list_tills().await.unwrap();
    let ids: Vec<String> = tills
        .iter()
        .map(|t| all.iter().find(|r| r.id == t.id).unwrap().store_id.clone())
        .collect();
    let now = Utc::now();
    let mut rng = Rng(42);
    let when = |rng: &mut Rng, days: u64| {
        now - Duration::days(days as i64)
            - Duration::hours(6)
            - Duration::minutes(rng.next(720) as i64)
    };
    let mut m = Model::default();
    // Intents in time order, then simulated against the balances.
    let mut intents: Vec<(DateTime<Utc>, Ev)> = Vec::new();
    for i in 0..48usize {
        let back = 10 + rng.next(170);
        let t = when(&mut rng, back);
        m.members
            .push(((i % 3 == 0) as usize, t, [0, 50, 100][i % 3]));
        intents.push((t, Ev::Enrol(i)));
        for _ in 0..rng.next(9) {
            let sb = rng.next(back);
            intents.push((when(&mut rng, sb), Ev::Sale(i)));
        }
        if i % 5 == 0 {
            intents.push((when(&mut rng, back / 2), Ev::Adjust(i)));
        }
    }
    intents.sort_by_key(|x| x.0);
    m.balance = vec![0; m.members.len()];
    let mut events: Vec<(usize, Fact, DateTime<Utc>)> = Vec::new();
    let mut k = 0;
    while k < intents.len() {
        let t = intents[k].0;
        match intents[k].1 {
            Ev::Enrol(i) => {
                m.balance[i] = m.members[i].2;
                let mut f = enrol(&format!("acc-{i}"), &card(i), m.members[i].2);
                if let Fact::Enrol { profile, .. } = &mut f {
                    profile.marketing_consent = i % 2 == 0;
                }
                events.push((m.members[i].0, f, t));
            }
            Ev::Sale(i) => {
                let store = rng.next(2) as usize;
                let amount = 1_000 + rng.next(50_000) as i64;
                let discount = if rng.next(3) == 0 { amount / 20 } else { 0 };
                let spent = m.balance[i].min(rng.next(40) as i64);
                let earned = (amount - discount) / 1000;
                m.balance[i] += earned - spent;
                let op = Uuid::now_v7();
                m.sales.push(Sale {
                    op,
                    member: i,
                    store,
                    at: t,
                    amount,
                    discount,
                    spent,
                    earned,
                });
                let mut f = sale(&format!("acc-{i}"), &card(i), amount, spent, earned);
                if let Fact::Sale {
                    discount_total,
                    after_discounts,
                    lines,
                    to_pay,
                    ..
                } = &mut f
                {
                    *discount_total = discount;
                    *after_discounts = amount - discount;
                    *to_pay = (amount - discount - spent * 100).max(0);
                    *lines = vec![BasketLine {
                        sku: "X".into(),
                        category: Some("drinks".into()),
                        qty: 1,
                        amount,
                    }];
                }
                events.push((store, f, t));
                let last = m.sales.len() - 1;
                if rng.next(6) == 0 && t + Duration::days(2) < now - Duration::hours(1) {
                    intents.push((t + Duration::days(2), Ev::Ret(last)));
                    intents[k + 1..].sort_by_key(|x| x.0);
                }
            }
            Ev::Ret(x) => {
                let sl = m.sales[x].clone();
                if m.balance[sl.member] >= sl.earned {
                    m.balance[sl.member] += sl.spent - sl.earned;
                    let store = rng.next(2) as usize;
                    m.returns.push(Ret {
                        member: sl.member,
                        store,
                        at: t,
                        sale: x,
                    });
                    let after = sl.amount - sl.discount;
                    events.push((
                        store,
                        Fact::Return {
                            receipt_no: "R".into(),
                            sale_op_id: sl.op.to_string(),
                            account_uid: format!("acc-{}", sl.member),
                            amount: after,
                            refund: after,
                            earned_taken: sl.earned,
                            spent_restored: sl.spent,
                            expiry_months: None,
                            spend_returned: after,
                            fully_returned: true,
                        },
                        t,
                    ));
                }
            }
            Ev::Adjust(i) => {
                m.balance[i] += 100;
                let store = m.members[i].0;
                m.adjusts.push((i, store, t, 100));
                events.push((store, adjust(&format!("acc-{i}"), 100), t));
            }
        }
        k += 1;
    }
    // Upload in time order, one batch per run of the same till.
    let mut seqs = [0i64; 2];
    let mut ops: HashMap<usize, Uuid> = HashMap::new();
    let sale_ops: Vec<Uuid> = m.sales.iter().map(|x| x.op).collect();
    let mut si = 0;
    let mut i = 0;
    while i < events.len() {
        let till = events[i].0;
        let mut batch: Vec<EventEnvelope> = Vec::new();
        while i < events.len() && events[i].0 == till {
            seqs[till] += 1;
            let op = if matches!(events[i].1, Fact::Sale { .. }) {
                si += 1;
                sale_ops[si - 1]
            } else {
                Uuid::now_v7()
            };
            ops.insert(i, op);
            batch.push(EventEnvelope {
                seq: seqs[till],
                op_id: op,
                recorded_at: events[i].2,
                fact: events[i].1.clone(),
            });
            i += 1;
        }
        let r = s.upload(&tills[till], &batch).await;
        assert_eq!(r["conflicts"], json!([]), "{r}");
    }
    for n in 0..25 {
        let store = rng.next(2) as usize;
        let back = rng.next(100);
        let t = when(&mut rng, back);
        let amount = 500 + rng.next(20_000) as i64;
        m.anon.push((store, t, amount));
        let body = json!({"sales": [{"op_id": Uuid::now_v7(), "receipt_no": format!("A{n}"), "amount": amount, "recorded_at": t}]});
        let (st, v) = s
            .post(&tills[store], "/api/v1/anonymous-sales", &body)
            .await;
        assert_eq!((st, v["recorded"].as_i64()), (200, Some(1)), "{v}");
    }
    for _ in 0..20 {
        let store = rng.next(2) as usize;
        let back = rng.next(60);
        let t = when(&mut rng, back);
        let score = rng.next(11) as i64;
        m.nps.push((store, t, score));
        let body = json!({"id": Uuid::now_v7(), "op_id": null, "score": score, "recorded_at": t});
        let (st, _) = s.post(&tills[store], "/api/v1/nps", &body).await;
        assert_eq!(st, 200);
    }
    if backfill {
        use loyalty_server::backend::analytics::Stmt;
        let rows = s
            .backend
            .query(vec![Stmt::new("SELECT COUNT(*) FROM member_days", vec![])])
            .await
            .unwrap();
        assert!(rows[0][0][0].int() > 0, "ingest wrote member_days");
        s.backend
            .execute(vec![
                Stmt::new("DELETE FROM member_days", vec![]),
                Stmt::new(
                    "UPDATE analytics_state SET value = 0 WHERE name = 'member_days'",
                    vec![],
                ),
            ])
            .await
            .unwrap();
        s.backend.migrate().await.unwrap();
    }
    let today = now.date_naive();
    let month = today.with_day(1).unwrap();
    let periods = [
        (None, None),
        (Some(today - Duration::days(89)), Some(today)),
        (
            Some(today - Duration::days(60)),
            Some(today - Duration::days(20)),
        ),
        (Some(today - Duration::days(400)), Some(today)),
        (Some(today - Duration::days(364)), Some(today)),
        // Across month boundaries, not aligned to months.
        (
            Some(month - Duration::days(45)),
            Some((month + Duration::days(2)).min(today)),
        ),
        (
            Some(month - Duration::days(100)),
            Some(month - Duration::days(40)),
        ),
        // Whole months.
        (
            Some((month - Duration::days(62)).with_day(1).unwrap()),
            Some(month - Duration::days(1)),
        ),
        (
            Some(today - Duration::days(180)),
            Some(today - Duration::days(1)),
        ),
    ];
    for (from, to) in periods {
        for store in [None, Some(0usize), Some(1)] {
            let mut q = vec![];
            if let Some(f) = from {
                q.push(format!("from={f}"));
            }
            if let Some(t) = to {
                q.push(format!("to={t}"));
            }
            if let Some(x) = store {
                q.push(format!("store={}", ["North", "South"][x]));
            }
            let got: Dashboard = serde_json::from_value(
                get_json(&s, &owner, &format!("/api/v1/dashboard?{}", q.join("&"))).await,
            )
            .unwrap();
            let want = m.dashboard(store, &ids, got.from, got.to, got.as_of);
            assert_eq!(got, want, "period {from:?}..{to:?} store {store:?}");
            if store.is_none() {
                assert!(
                    got.member_sales > 0 && got.anonymous_sales > 0,
                    "the dataset covers the period"
                );
            }
        }
    }
    s.stop().await;
}
