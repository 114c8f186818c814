//! Card management: lost-card block and reissue, family cards on a shared account.

use chrono::{DateTime, Utc};
use loyalty_cards::card;
use loyalty_domain::Fact;
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use crate::customers::{insert_card, issue_card_number};
use crate::error::{Result, StoreError};
use crate::lookup::by_account;
use crate::ops::{self, ms, Done};
use crate::Store;

impl Store {
    /// Blocks a (lost/stolen) card and issues a new one on the same account, so the balance,
    /// history and family cards carry over. Returns the new card number. Scanning the old
    /// card afterwards fails with `CARD_BLOCKED` naming the new card.
    pub fn block_card_and_reissue(
        &mut self,
        op_id: Uuid,
        old_card: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let old = card::normalize(old_card)?;
        let prefix = self.card_prefix.clone();
        ops::run(
            &mut self.conn,
            &self.programs.at(now).tiers.window,
            op_id,
            "reissue",
            &old,
            now,
            |tx, op| {
                let row: Option<(i64, String, String, Option<String>)> = tx
                    .prepare_cached(
                        "SELECT account_id, kind, status, replaced_by FROM cards WHERE number = ?1",
                    )?
                    .query_row([&old], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .optional()?;
                let (account, kind, status, replaced_by) =
                    row.ok_or_else(|| StoreError::UnknownCard(old.clone()))?;
                if status == "blocked" {
                    return Err(StoreError::CardBlocked {
                        card: old.clone(),
                        replaced_by,
                    });
                }
                let new = issue_card_number(tx, &prefix)?;
                insert_card(tx, &new, account, &kind, op, now)?;
                tx.prepare_cached(
                    "UPDATE cards SET status = 'blocked', replaced_by = ?2, blocked_at = ?3
                 WHERE number = ?1",
                )?
                .execute(params![old, new, ms(now)])?;
                let account_uid = by_account(tx, account)?.account_uid;
                Ok(Done {
                    result: new.clone(),
                    event: Some(Fact::CardBlock {
                        account_uid,
                        old_card: old.clone(),
                        new_card: new,
                    }),
                })
            },
        )
    }

    /// Issues a family card on `account_id`: it earns onto and spends from the same balance.
    pub fn add_family_card(
        &mut self,
        op_id: Uuid,
        account_id: i64,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let prefix = self.card_prefix.clone();
        ops::run(
            &mut self.conn,
            &self.programs.at(now).tiers.window,
            op_id,
            "family_card",
            &account_id,
            now,
            |tx, op| {
                let account_uid = by_account(tx, account_id)?.account_uid;
                let new = issue_card_number(tx, &prefix)?;
                insert_card(tx, &new, account_id, "family", op, now)?;
                Ok(Done {
                    result: new.clone(),
                    event: Some(Fact::FamilyCard {
                        account_uid,
                        card: new,
                    }),
                })
            },
        )
    }
}
