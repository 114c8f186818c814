//! A minimal in-memory server for the rebase tests: applies each till's uploaded facts in
//! `seq` order to pure `AccountBook`s (as the real server does), keeps customers and cards,
//! gives every change a `gseq`, and answers `changes` like `GET /api/v1/changes`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Fact, ProgramConfig};
use loyalty_store::Store;
use loyalty_wire::{
    AccountState, CardState, CategoryStat, ChangesResponse, CustomerState, EventEnvelope,
};

use super::apply_fact;

#[derive(Default)]
pub struct Server {
    pub books: BTreeMap<String, AccountBook>,
    customers: BTreeMap<String, CustomerState>,
    cards: BTreeMap<String, Vec<CardState>>,
    /// account uid → gseq of its last change.
    changed: BTreeMap<String, i64>,
    gseq: i64,
    applied: HashMap<String, i64>,
    pub programs: Vec<ProgramConfig>,
    /// account uid → its category summary (as the real server keeps `customer_categories`).
    pub categories: BTreeMap<String, Vec<CategoryStat>>,
}

fn card(number: &str, kind: &str) -> CardState {
    CardState {
        number: number.to_string(),
        status: "active".into(),
        kind: kind.into(),
    }
}

impl Server {
    /// Applies one envelope of `till` (must be the next seq).
    pub fn apply(&mut self, till: &str, e: &EventEnvelope) {
        let last = self.applied.entry(till.to_string()).or_insert(0);
        assert_eq!(e.seq, *last + 1, "gap-free upload");
        *last = e.seq;
        let op = e.op_id.hyphenated().to_string();
        apply_fact(&mut self.books, &op, e.recorded_at, &e.fact);
        self.gseq += 1;
        let uid = e.fact.account_uid().to_string();
        self.changed.insert(uid.clone(), self.gseq);
        if let Fact::Sale { lines, .. } = &e.fact {
            let stats = self.categories.entry(uid.clone()).or_default();
            let mut seen = Vec::new();
            for l in lines {
                let Some(c) = loyalty_wire::category_key(l.category.as_deref()) else {
                    continue;
                };
                let i = match stats.iter().position(|s| s.category == c) {
                    Some(i) => i,
                    None => {
                        stats.push(CategoryStat {
                            category: c.clone(),
                            purchases: 0,
                            amount: 0,
                            last_at: e.recorded_at,
                        });
                        stats.len() - 1
                    }
                };
                let s = &mut stats[i];
                s.amount += l.amount;
                s.last_at = s.last_at.max(e.recorded_at);
                if !seen.contains(&c) {
                    s.purchases += 1;
                    seen.push(c);
                }
            }
            loyalty_wire::rank_categories(stats);
        }
        match &e.fact {
            Fact::Enrol {
                customer_uid,
                card: number,
                profile,
                referrer_uid,
                ..
            } => {
                self.customers.insert(
                    uid.clone(),
                    CustomerState {
                        customer_uid: customer_uid.clone(),
                        profile: profile.clone(),
                        referrer_uid: referrer_uid.clone(),
                    },
                );
                self.cards.insert(uid, vec![card(number, "primary")]);
            }
            Fact::Sale {
                referrer: Some((r, _)),
                ..
            } => {
                self.changed.insert(r.clone(), self.gseq);
            }
            Fact::CardBlock {
                old_card, new_card, ..
            } => {
                let cards = self.cards.entry(uid).or_default();
                let mut kind = "primary".to_string();
                for c in cards.iter_mut().filter(|c| &c.number == old_card) {
                    c.status = "blocked".into();
                    kind = c.kind.clone();
                }
                cards.push(card(new_card, &kind));
            }
            Fact::FamilyCard { card: number, .. } => {
                self.cards
                    .entry(uid)
                    .or_default()
                    .push(card(number, "family"));
            }
            _ => {}
        }
    }

    /// Uploads every pending event of `store` (as till `till`) and acks them.
    pub fn upload(&mut self, till: &str, store: &mut Store) {
        let events = store.pending_events(1000).expect("pending events");
        for e in &events {
            self.apply(till, e);
        }
        let upto = self.applied.get(till).copied().unwrap_or(0);
        store.ack_upto(upto).expect("ack");
    }

    /// What `GET /api/v1/changes?since=` answers to `till`.
    pub fn changes(&self, till: &str, since: i64, server_time: DateTime<Utc>) -> ChangesResponse {
        let mut changed: Vec<(&String, &i64)> =
            self.changed.iter().filter(|(_, g)| **g > since).collect();
        changed.sort_by_key(|(_, g)| **g);
        let accounts = changed
            .iter()
            .map(|(uid, g)| AccountState {
                account_uid: (*uid).clone(),
                gseq: **g,
                customer: self.customers.get(*uid).cloned(),
                cards: self.cards.get(*uid).cloned().unwrap_or_default(),
                book: self.books[*uid].clone(),
                reserved: 0,
                categories: self.categories.get(*uid).cloned().unwrap_or_default(),
                merged_into: None,
            })
            .collect();
        ChangesResponse {
            accounts,
            programs: self.programs.clone(),
            next: self.gseq.max(since),
            has_more: false,
            server_time,
            included_upto_seq: self.applied.get(till).copied().unwrap_or(0),
        }
    }
}
