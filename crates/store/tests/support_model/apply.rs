//! Applying an operation's outcome to the model, after checking it against the store's answer.

use super::*;

impl Harness {
    /// Checks the store's answer against the model and applies the effects to the model.
    pub(super) fn apply(&mut self, call: &Call, got: &Result<Res, StoreError>) {
        let now = self.now;
        match call {
            Call::Enrol(c) => {
                if let Some(p) = &c.phone {
                    if self.model.phones.contains(p) {
                        return self.expect_err(got, "DUPLICATE_PHONE");
                    }
                }
                let mut referrer_account = None;
                if let Some(r) = &c.referrer {
                    match self.card(r) {
                        None => return self.expect_err(got, "UNKNOWN_CARD"),
                        Some(card) if !card.active => return self.expect_err(got, "CARD_BLOCKED"),
                        Some(card) => referrer_account = Some(card.account),
                    }
                }
                let Ok(Res::Enrolled(e)) = got else {
                    panic!("enrol should succeed: {got:?} {}", self.ctx())
                };
                assert!(!self.model.accounts.contains_key(&e.account_id));
                assert!(self.card(&e.card).is_none(), "card number reused");
                let welcome = self.model.prog.welcome_bonus;
                assert_eq!(e.welcome_points, welcome);
                self.model.accounts.insert(
                    e.account_id,
                    MAccount {
                        referral_pending: referrer_account.is_some(),
                        referrer_account,
                        ..MAccount::default()
                    },
                );
                if welcome > 0 {
                    let exp = self.model.expiry(now);
                    self.model
                        .credit(e.account_id, welcome, now, now, exp, None);
                }
                self.model.cards.push(MCard {
                    number: e.card.clone(),
                    account: e.account_id,
                    active: true,
                });
                self.model.phones.extend(c.phone.clone());
            }
            Call::Checkout(req) => self.apply_checkout(req, got),
            Call::Return(req) => self.apply_return(req, got),
            Call::Adjust { account, points } => {
                if *points == 0 {
                    return self.expect_err(got, "INVALID_INPUT");
                }
                if !self.model.accounts.contains_key(account) {
                    return self.expect_err(got, "UNKNOWN_ACCOUNT");
                }
                let mut settled = 0;
                if *points > 0 {
                    let exp = self.model.expiry(now);
                    settled = self.model.credit(*account, *points, now, now, exp, None);
                } else if -*points > self.model.available(*account, now) {
                    return self.expect_err(got, "INSUFFICIENT_POINTS");
                } else {
                    self.model.debit_fifo(*account, -*points, now);
                }
                let Ok(Res::Adjusted(a)) = got else {
                    panic!("adjust should succeed: {got:?} {}", self.ctx())
                };
                assert_eq!(
                    (a.account_id, a.points, a.settled_shortfall),
                    (*account, *points, settled),
                    "{}",
                    self.ctx()
                );
            }
            Call::Reissue(old) => {
                let account = match self.card(old) {
                    None => return self.expect_err(got, "UNKNOWN_CARD"),
                    Some(c) if !c.active => return self.expect_err(got, "CARD_BLOCKED"),
                    Some(c) => c.account,
                };
                let Ok(Res::Card(new)) = got else {
                    panic!("reissue should succeed: {got:?} {}", self.ctx())
                };
                assert!(self.card(new).is_none(), "card number reused");
                for c in self.model.cards.iter_mut().filter(|c| &c.number == old) {
                    c.active = false;
                }
                self.model.cards.push(MCard {
                    number: new.clone(),
                    account,
                    active: true,
                });
            }
            Call::Family(account) => {
                if !self.model.accounts.contains_key(account) {
                    return self.expect_err(got, "UNKNOWN_ACCOUNT");
                }
                let Ok(Res::Card(new)) = got else {
                    panic!("family card should succeed: {got:?} {}", self.ctx())
                };
                assert!(self.card(new).is_none(), "card number reused");
                self.model.cards.push(MCard {
                    number: new.clone(),
                    account: *account,
                    active: true,
                });
            }
            Call::Expire => {
                let total = self.model.sweep(now);
                assert_eq!(
                    got.as_ref().ok(),
                    Some(&Res::Expired(total)),
                    "expired points {}",
                    self.ctx()
                );
            }
        }
    }

    fn apply_checkout(&mut self, req: &CheckoutRequest, got: &Result<Res, StoreError>) {
        let now = self.now;
        let account = match self.card(&req.card) {
            None => return self.expect_err(got, "UNKNOWN_CARD"),
            Some(c) if !c.active => return self.expect_err(got, "CARD_BLOCKED"),
            Some(c) => c.account,
        };
        let snap = self.model.snapshot(account, now);
        let q = match quote(&snap, &req.basket, &self.model.prog, now, req.spend) {
            Ok(q) => q,
            Err(e) => return self.expect_err(got, e.code()),
        };
        if let Some(r) = &req.receipt {
            if self.model.sales.iter().any(|s| &s.receipt == r) {
                return self.expect_err(got, "DUPLICATE_RECEIPT");
            }
        }
        let Ok(Res::Receipt(r)) = got else {
            panic!("checkout should succeed: {got:?} {}", self.ctx())
        };
        let sale = self.model.sales.len();
        if q.points_spent > 0 {
            self.model.debit_fifo(account, q.points_spent, now);
        }
        let (avail, exp) = (self.model.hold(now), self.model.expiry(now));
        let mut earned = 0;
        let mut settled = 0;
        for item in q.earn.iter().filter(|e| e.points > 0) {
            if item.kind == EarnKind::ReferralReferrer {
                continue;
            }
            earned += item.points;
            settled += self
                .model
                .credit(account, item.points, now, avail, exp, Some(sale));
        }
        let mut referrer_points = 0;
        if q.referrer_points > 0 {
            if let Some(ra) = self.model.accounts[&account].referrer_account {
                referrer_points = q.referrer_points;
                self.model
                    .credit(ra, referrer_points, now, avail, exp, Some(sale));
            }
        }
        let a = self.model.acct(account);
        a.lifetime_spend += q.after_discounts;
        a.purchases += 1;
        a.stamps = q.stamps_after;
        a.referral_pending = false;
        let got_fields = (
            r.account_id,
            r.sold_at,
            r.subtotal,
            r.after_discounts,
            r.points_spent,
            r.to_pay,
            r.earned,
            r.settled_shortfall,
            r.referrer_points,
            r.available_at,
            r.expires_at,
        );
        let want = (
            account,
            now,
            req.basket.total(),
            q.after_discounts,
            req.spend,
            q.to_pay,
            earned,
            settled,
            referrer_points,
            avail,
            exp,
        );
        assert_eq!(got_fields, want, "receipt {}", self.ctx());
        assert_eq!(
            q.earn_total, earned,
            "quote earn_total = Σ customer earn items"
        );
        self.model.sales.push(MSale {
            receipt: r.receipt_no.clone(),
            account,
            subtotal: q.subtotal,
            after_discounts: q.after_discounts,
            to_pay: q.to_pay,
            spent: q.points_spent,
            earned,
            returned: 0,
            lines: req
                .basket
                .lines
                .iter()
                .map(|l| MLine {
                    sku: l.sku.clone(),
                    qty: l.qty,
                    amount: l.amount,
                    returned_qty: 0,
                })
                .collect(),
        });
    }

    fn apply_return(&mut self, req: &ReturnRequest, got: &Result<Res, StoreError>) {
        let now = self.now;
        let Some(idx) = self
            .model
            .sales
            .iter()
            .position(|s| s.receipt == req.receipt_no)
        else {
            return self.expect_err(got, "UNKNOWN_RECEIPT");
        };
        let plan = match self.model.plan_return(&self.model.sales[idx], &req.items) {
            Ok(p) => p,
            Err(c) => return self.expect_err(got, c),
        };
        let Ok(Res::Returned(rr)) = got else {
            panic!("return should succeed: {got:?} {}", self.ctx())
        };
        let s = self.model.sales[idx].clone();
        let (before, after) = (s.returned, s.returned + plan.amount);
        let delta = |x: i64| share(s.subtotal, after, x) - share(s.subtotal, before, x);
        let (earned_back, spent_back) = (delta(s.earned), delta(s.spent));
        let (refund, spend_back) = (delta(s.to_pay), delta(s.after_discounts));
        let full = after == s.subtotal;
        if spent_back > 0 {
            let exp = self.model.expiry(now);
            self.model
                .credit(s.account, spent_back, now, now, exp, Some(idx));
        }
        let (taken, short) = self.model.take_back(s.account, idx, earned_back, now);
        let want = (
            req.receipt_no.as_str(),
            plan.amount,
            refund,
            taken,
            short,
            spent_back,
            full,
        );
        let got_fields = (
            rr.receipt_no.as_str(),
            rr.amount,
            rr.refund,
            rr.earned_taken,
            rr.shortfall_added,
            rr.spent_restored,
            rr.fully_returned,
        );
        assert_eq!(got_fields, want, "return receipt {}", self.ctx());
        let sale = &mut self.model.sales[idx];
        sale.returned = after;
        for (line, qty) in plan.lines {
            sale.lines[line].returned_qty += qty;
        }
        let a = self.model.acct(s.account);
        a.lifetime_spend -= spend_back;
        a.purchases = a.purchases.saturating_sub(u32::from(full));
    }
}
