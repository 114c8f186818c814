//! The properties checked between operations.

use super::*;

impl Harness {
    /// Every property that must hold between operations.
    pub(super) fn check(&self) {
        let ctx = || self.ctx();
        let store = &self.store;
        let now = self.now;
        assert_eq!(
            store.check_invariants().expect("check_invariants"),
            Vec::<i64>::new(),
            "{}",
            ctx()
        );
        let conn = store.connection();
        // Per account: Σ ledger = Σ lots.remaining − shortfall, and both equal the model.
        let rows: Vec<AccountRow> = conn
            .prepare(
                "SELECT a.id, a.shortfall,
                        (SELECT COALESCE(SUM(points), 0) FROM ledger WHERE account_id = a.id),
                        (SELECT COALESCE(SUM(remaining), 0) FROM lots WHERE account_id = a.id),
                        a.lifetime_spend, a.lifetime_purchases, a.stamps, a.referral_pending
                 FROM accounts a ORDER BY a.id",
            )
            .expect("prepare")
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let model_ids: Vec<i64> = self.model.accounts.keys().copied().collect();
        assert_eq!(ids, model_ids, "accounts {}", ctx());
        for (id, shortfall, ledger, lots, spend, purchases, stamps, referral) in rows {
            let m = &self.model.accounts[&id];
            let m_lots: i64 = self
                .model
                .lots
                .iter()
                .filter(|l| l.account == id)
                .map(|l| l.remaining)
                .sum();
            assert_eq!(
                ledger,
                lots - shortfall,
                "ledger invariant of {id} {}",
                ctx()
            );
            assert_eq!(
                (shortfall, ledger, lots),
                (m.shortfall, m.ledger, m_lots),
                "account {id}: (shortfall, Σ ledger, Σ lots) {}",
                ctx()
            );
            assert_eq!(
                (spend, purchases, stamps, referral),
                (
                    m.lifetime_spend,
                    i64::from(m.purchases),
                    i64::from(m.stamps),
                    m.referral_pending
                ),
                "account {id}: (lifetime spend, purchases, stamps, referral pending) {}",
                ctx()
            );
            let b = store.balance(id, now).expect("balance");
            let (soon, next) = self.model.expiring(id, now, EXPIRING_SOON_DAYS);
            let want = (
                self.model.available(id, now),
                self.model.pending(id, now),
                m.shortfall,
                soon,
                next,
            );
            assert_eq!(
                (
                    b.available,
                    b.pending,
                    b.shortfall,
                    b.expiring_soon,
                    b.next_expiry
                ),
                want,
                "balance of account {id} (available, pending, shortfall, expiring soon, next) {}",
                ctx()
            );
            assert!(b.available >= 0 && b.pending >= 0 && b.shortfall >= 0);
            // What a scan shows (the figures cached on the account when they hold) must be
            // exactly what the lots say now.
            let customer: i64 = store
                .connection()
                .query_row(
                    "SELECT customer_id FROM accounts WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .expect("customer of account");
            let view = store.customer(customer, now).expect("scan view");
            assert_eq!(view.balance, b, "scan view of account {id} {}", ctx());
        }
        // Open lots by (account, earned, available, expires): pins FIFO and expiry.
        let mut store_lots: BTreeMap<(i64, i64, i64, Option<i64>), i64> = BTreeMap::new();
        let mut st = conn
            .prepare(
                "SELECT account_id, earned_at, available_at, expires_at, SUM(remaining) FROM lots
                 WHERE remaining > 0 GROUP BY 1, 2, 3, 4",
            )
            .expect("prepare");
        for row in st
            .query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                    r.get::<_, i64>(4)?,
                ))
            })
            .expect("query")
        {
            let (k, v) = row.expect("row");
            store_lots.insert(k, v);
        }
        let mut model_lots: BTreeMap<(i64, i64, i64, Option<i64>), i64> = BTreeMap::new();
        for l in self.model.lots.iter().filter(|l| l.remaining > 0) {
            let k = (
                l.account,
                l.earned_at.timestamp_millis(),
                l.available_at.timestamp_millis(),
                l.expires_at.map(|e| e.timestamp_millis()),
            );
            *model_lots.entry(k).or_default() += l.remaining;
        }
        assert_eq!(store_lots, model_lots, "open lots {}", ctx());
        // Sales: what has been returned.
        let returned: BTreeMap<String, i64> = conn
            .prepare("SELECT receipt_no, returned_amount FROM sales")
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        let m_returned: BTreeMap<String, i64> = self
            .model
            .sales
            .iter()
            .map(|s| (s.receipt.clone(), s.returned))
            .collect();
        assert_eq!(returned, m_returned, "sales returned amounts {}", ctx());
        // Outbox: seq 1..=n, one event per successful operation but the sweep, in order.
        let events = store.outbox_after(0, u32::MAX).expect("outbox");
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        let want_seqs: Vec<i64> = (1..=i64::try_from(self.events.len()).expect("n")).collect();
        assert_eq!(seqs, want_seqs, "outbox seq {}", ctx());
        let got: Vec<(String, &str)> = events
            .iter()
            .map(|e| (e.op_id.clone(), e.kind.as_str()))
            .collect();
        let want: Vec<(String, &str)> = self.events.iter().map(|(o, k)| (o.clone(), *k)).collect();
        assert_eq!(got, want, "outbox events {}", ctx());
        assert_eq!(
            store.outbox_last_seq().expect("last seq"),
            seqs.len() as i64
        );
    }
}
