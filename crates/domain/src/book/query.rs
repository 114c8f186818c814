//! Reads and housekeeping of a book: balance, expiry, the invariant's total.

use super::{sum, AccountBook, BookBalance, Movement};
use crate::money::Points;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

impl AccountBook {
    /// Available, pending and shortfall at `now`.
    pub fn balance(&self, now: DateTime<Utc>) -> BookBalance {
        BookBalance {
            available: sum(self
                .lots
                .iter()
                .filter(|l| l.is_available(now))
                .map(|l| l.remaining)),
            pending: sum(self
                .lots
                .iter()
                .filter(|l| l.is_pending(now))
                .map(|l| l.remaining)),
            shortfall: self.shortfall,
        }
    }

    /// Zeroes every lot expired at `now` (`expires_at <= now`) that still has points: one
    /// `expire` movement (`−remaining`, with the lot id) per lot. Idempotent.
    pub fn expire_movements(&mut self, now: DateTime<Utc>) -> Vec<Movement> {
        let mut out = Vec::new();
        for l in self.lots.iter_mut() {
            if l.remaining > 0 && l.expired(now) {
                out.push(Movement {
                    kind: "expire".to_string(),
                    points: -l.remaining,
                    lot_id: Some(l.id.clone()),
                });
                l.expired = l.expired.saturating_add(l.remaining);
                l.remaining = 0;
            }
        }
        out
    }

    /// Like [`Self::expire_movements`], returning the total points expired.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Points {
        sum(self.expire_movements(now).iter().map(|m| -m.points))
    }

    /// What expires when: each future expiry instant (`> now`) with the remaining points of
    /// the lots expiring then (pending lots included), ascending.
    pub fn expiry_schedule(&self, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, Points)> {
        let mut by_time: BTreeMap<DateTime<Utc>, Points> = BTreeMap::new();
        for l in self.lots.iter().filter(|l| l.remaining > 0) {
            if let Some(e) = l.expires_at.filter(|e| *e > now) {
                let slot = by_time.entry(e).or_insert(0);
                *slot = slot.saturating_add(l.remaining);
            }
        }
        by_time.into_iter().collect()
    }

    /// `Σ remaining − shortfall`: equals the sum of every movement ever applied.
    pub fn total_signed(&self) -> Points {
        sum(self.lots.iter().map(|l| l.remaining)).saturating_sub(self.shortfall)
    }

    /// Drops lots with nothing left (storage housekeeping between facts). Balances, FIFO
    /// order and every later result are unchanged, except the ids of lots that a later
    /// call for an op whose lots were all pruned creates (they stay unique in the book).
    pub fn prune_empty(&mut self) {
        self.lots.retain(|l| l.remaining > 0);
    }
}
