//! Turning generated [`Op`]s into store calls (picks, composite scenarios, replays).

use super::*;

impl Harness {
    fn pick_card(&self, i: u16) -> String {
        // One pick in 16 (or when there is no card yet) is a card nobody has.
        let n = self.model.cards.len();
        if n == 0 || i % 16 == 15 {
            loyalty_cards::card::generate("29999", 4242).expect("unknown card number")
        } else {
            self.model.cards[usize::from(i) % n].number.clone()
        }
    }

    fn pick_account(&self, i: u16) -> i64 {
        // One pick in 16 is an account that does not exist.
        let ids: Vec<i64> = self.model.accounts.keys().copied().collect();
        if ids.is_empty() || i % 16 == 15 {
            return 999_999;
        }
        ids[usize::from(i) % ids.len()]
    }

    fn checkout_call(&self, card: u16, lines: &[(u8, i64, i64)], spend: &SpendPick) -> Call {
        let card = self.pick_card(card);
        let basket = Basket {
            lines: lines
                .iter()
                .map(|(sku, qty, amount)| BasketLine {
                    sku: format!("SKU{sku}"),
                    category: None,
                    qty: *qty,
                    amount: *amount,
                })
                .collect(),
        };
        let (max, available) = match self.card(&card) {
            Some(c) => {
                let snap = self.model.snapshot(c.account, self.now);
                let max = quote(&snap, &basket, &self.model.prog, self.now, 0)
                    .map(|q| q.max_redeemable)
                    .unwrap_or(0);
                (max, snap.available)
            }
            None => (0, 0),
        };
        let spend = match spend {
            SpendPick::Zero => 0,
            SpendPick::Frac(p) => max * i64::from(*p) / 100,
            SpendPick::Max => max,
            SpendPick::OverCap(k) => max + k,
            SpendPick::OverAvailable(k) => available + k,
            SpendPick::Negative => -1,
        };
        Call::Checkout(CheckoutRequest {
            card,
            basket,
            spend,
            receipt: None,
        })
    }

    pub(super) fn step(&mut self, op: &Op) {
        self.trace.push(format!("# {op:?}"));
        match op {
            Op::Enrol { phone, referrer } => {
                let n = self.model.accounts.len();
                let referrer = referrer.map(|r| self.pick_card(r));
                self.call(Call::Enrol(NewCustomer {
                    name: format!("Customer {n}"),
                    phone: phone.map(|d| format!("+7916100000{d}")),
                    referrer,
                    ..NewCustomer::default()
                }));
            }
            Op::FamilyCard { account } => {
                self.call(Call::Family(self.pick_account(*account)));
            }
            Op::Checkout {
                card,
                lines,
                spend,
                dup_receipt,
            } => {
                let mut call = self.checkout_call(*card, lines, spend);
                if let (Some(i), Call::Checkout(req)) = (dup_receipt, &mut call) {
                    if !self.model.sales.is_empty() {
                        let i = usize::from(*i) % self.model.sales.len();
                        req.receipt = Some(self.model.sales[i].receipt.clone());
                    }
                }
                self.call(call);
            }
            Op::Return { sale, what } => {
                let sale = (!self.model.sales.is_empty())
                    .then(|| &self.model.sales[usize::from(*sale) % self.model.sales.len()]);
                let (receipt_no, items) = match (sale, what) {
                    (None, _) | (_, RetPick::Unknown) => ("NOPE-1".to_string(), ReturnItems::All),
                    (Some(s), RetPick::All) => (s.receipt.clone(), ReturnItems::All),
                    (Some(s), RetPick::Pct(p)) => (
                        s.receipt.clone(),
                        ReturnItems::Amount(s.subtotal * i64::from(*p) / 100),
                    ),
                    (Some(s), RetPick::Zero) => (s.receipt.clone(), ReturnItems::Amount(0)),
                    (Some(s), RetPick::Line { line, qty }) => {
                        let l = &s.lines[usize::from(*line) % s.lines.len()];
                        (
                            s.receipt.clone(),
                            ReturnItems::Lines(vec![ReturnLine {
                                sku: l.sku.clone(),
                                qty: *qty,
                            }]),
                        )
                    }
                };
                self.call(Call::Return(ReturnRequest { receipt_no, items }));
            }
            Op::SaleAndFullReturn { card, lines, spend } => {
                let call = self.checkout_call(*card, lines, spend);
                let account = match &call {
                    Call::Checkout(req) => self.card(&req.card).map(|c| c.account),
                    _ => None,
                };
                let before = account.map(|a| self.store.balance(a, self.now).expect("balance"));
                let Some(Res::Receipt(r)) = self.call(call) else {
                    return;
                };
                let ret = self.call(Call::Return(ReturnRequest {
                    receipt_no: r.receipt_no.clone(),
                    items: ReturnItems::All,
                }));
                assert!(
                    matches!(ret, Some(Res::Returned(ref x)) if x.fully_returned),
                    "full return of a fresh sale {}",
                    self.ctx()
                );
                let before = before.expect("account of a successful sale");
                let after = self.store.balance(r.account_id, self.now).expect("balance");
                let net = |b: &loyalty_store::Balance| b.available + b.pending - b.shortfall;
                assert_eq!(net(&after), net(&before), "sale + full return: net points");
                if before.shortfall == 0 {
                    assert_eq!(
                        (after.available, after.pending, after.shortfall),
                        (before.available, before.pending, before.shortfall),
                        "sale + full return leaves the customer as before {}",
                        self.ctx()
                    );
                }
            }
            Op::Adjust { account, points } => {
                self.call(Call::Adjust {
                    account: self.pick_account(*account),
                    points: *points,
                });
            }
            Op::Reissue { card } => {
                self.call(Call::Reissue(self.pick_card(*card)));
            }
            Op::Shortfall { card, lines, pct } => {
                let Some(Res::Receipt(a)) =
                    self.call(self.checkout_call(*card, lines, &SpendPick::Zero))
                else {
                    return;
                };
                self.now +=
                    Duration::days(i64::from(self.model.prog.hold_days)) + Duration::hours(1);
                self.check();
                let card = self.model.cards.iter().position(|c| c.number == a.card);
                let card = u16::try_from(card.unwrap_or(0)).unwrap_or(0);
                self.call(self.checkout_call(card, lines, &SpendPick::Max));
                let items = if *pct >= 100 {
                    ReturnItems::All
                } else {
                    ReturnItems::Amount((a.subtotal * i64::from(*pct) / 100).max(1))
                };
                self.call(Call::Return(ReturnRequest {
                    receipt_no: a.receipt_no.clone(),
                    items,
                }));
                self.call(self.checkout_call(card, lines, &SpendPick::Zero));
            }
            Op::Expire => {
                self.call(Call::Expire);
            }
            Op::Advance(h) => {
                self.now += Duration::hours(*h);
                self.check();
            }
            Op::Replay { idx, conflict } => self.replay(*idx, *conflict),
        }
    }

    fn replay(&mut self, idx: u16, conflict: bool) {
        if self.done.is_empty() {
            return;
        }
        let d = &self.done[usize::from(idx) % self.done.len()];
        let (op, orig) = (d.op, d.call.clone());
        let before = fingerprint(&self.store);
        if conflict {
            let other = match orig {
                Call::Checkout(mut req) => {
                    req.spend += 1;
                    Call::Checkout(req)
                }
                Call::Expire => Call::Adjust {
                    account: self.pick_account(0),
                    points: 1,
                },
                _ => Call::Expire,
            };
            let got = exec(&mut self.store, op, &other, self.now);
            self.trace
                .push(format!("conflict {op} {other:?} -> {:?}", code(&got)));
            assert_eq!(code(&got), Some("OP_CONFLICT"), "{}", self.ctx());
            self.stat("conflict".into());
        } else {
            let want = d.res.clone();
            let got = exec(&mut self.store, op, &orig, self.now);
            self.trace.push(format!("replay {op} {orig:?}"));
            assert_eq!(got.ok(), Some(want), "replay result {}", self.ctx());
            self.stat("replay".into());
        }
        assert!(
            before == fingerprint(&self.store),
            "a replayed / conflicting op id changed the database {}",
            self.ctx()
        );
        self.check();
    }
}
