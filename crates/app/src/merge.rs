//! The owner merges duplicate customers (the same person enrolled twice): the duplicate's
//! cards, points and history go to the survivor, not a point lost. The till shows both
//! customers side by side from its store first ([`TillApp::merge_preview`]); the merge
//! itself is the server's (`POST /api/v1/accounts/merge` with the owner token), so that
//! every till applies the same one: this till learns of it at its next sync pull, which
//! is started at once. Owner only (`FORBIDDEN` for a cashier); needs the server (offline:
//! `NET_UNREACHABLE` / `NET_TIMEOUT`, nothing changed on the till).
//!
//! A merge is idempotent on its op id (UUIDv7): when the answer is lost (timeout, 5xx) the
//! same merge asked again is sent with the same op id, so the server answers the first
//! result (`already_applied`) instead of refusing it as `ALREADY_MERGED`.

use loyalty_store::CustomerView;
use loyalty_sync::TransportError;
use loyalty_wire::{MergeRequest, MergeResponse, MERGE_TEXT_MAX};
use uuid::Uuid;

use crate::dto::{MergeInput, MergePreview, MergeSide, MergeView};
use crate::error::{AppError, AppResult};
use crate::{lock, TillApp};

/// The code of a merge that cannot be (the same customer twice, no reason...): the
/// server's code for the same refusals.
pub const INVALID_MERGE: &str = "INVALID_MERGE";
const MERGE_PATH: &str = "/api/v1/accounts/merge";
const WHAT: &str = "merge customers";

/// A merge sent whose answer did not come: asked again, it keeps its op id.
pub(crate) struct Pending {
    survivor_uid: String,
    duplicate_uid: String,
    reason: String,
    op_id: Uuid,
}

fn side(v: CustomerView) -> MergeSide {
    let b = v.balance;
    MergeSide {
        customer_id: v.customer.id,
        account_id: v.account_id,
        name: v.customer.name,
        phone: v.customer.phone,
        email: v.customer.email,
        card: v.card,
        cards: v.cards,
        net_points: b.available + b.pending - b.shortfall,
        balance: b,
        lifetime_spend: v.lifetime_spend,
        lifetime_purchases: v.lifetime_purchases,
        enrolled_at: v.customer.enrolled_at,
        enrolled_store: v.customer.enrolled_store,
    }
}

/// The pair side by side; a customer cannot be merged into itself.
pub fn preview_of(survivor: CustomerView, duplicate: CustomerView) -> AppResult<MergePreview> {
    if survivor.account_id == duplicate.account_id {
        return Err(AppError::new(
            INVALID_MERGE,
            format!(
                "{} is on both sides (the same customer, or one already merged into the \
                 other): find the duplicate account to merge",
                survivor.customer.name
            ),
        ));
    }
    let (s, d) = (side(survivor), side(duplicate));
    Ok(MergePreview {
        points_after: s.net_points + d.net_points,
        cards_after: u32::try_from(s.cards.len() + d.cards.len()).unwrap_or(u32::MAX),
        survivor: s,
        duplicate: d,
    })
}

/// `text` trimmed, 1..=200 characters, else `INVALID_MERGE` naming `what`.
pub fn clean_text(what: &str, text: &str) -> AppResult<String> {
    let t = text.trim();
    let n = t.chars().count();
    if n == 0 {
        return Err(AppError::new(
            INVALID_MERGE,
            format!("the {what} is required"),
        ));
    }
    if n > MERGE_TEXT_MAX {
        return Err(AppError::new(
            INVALID_MERGE,
            format!("the {what} is {n} characters long: at most {MERGE_TEXT_MAX}"),
        ));
    }
    Ok(t.to_string())
}

/// A failed merge call: the server's refusal with its own code and message; offline, what
/// happened and what to do.
fn merge_error(e: TransportError) -> AppError {
    if e.is_offline() {
        return AppError::new(
            e.code(),
            format!(
                "{e}: the merge needs the server and nothing changed on this till; merge \
                 again when it is online (a merge the server did apply is not done twice)"
            ),
        );
    }
    match e {
        TransportError::Api { code, message, .. } => AppError::new(&code, message),
        e => e.into(),
    }
}

/// The server's verdict (a result or a refusal): the op id is spent. A lost answer, a
/// timeout, a 5xx or an unreadable answer may hide an applied merge: the op id is kept.
fn is_final<T>(answer: &Result<T, TransportError>) -> bool {
    match answer {
        Ok(_) => true,
        Err(e) => !e.is_offline() && matches!(e, TransportError::Api { .. }),
    }
}

impl TillApp {
    /// The two customers side by side (the till's customer ids), from this till's store.
    /// Owner only; `INVALID_MERGE` for the same customer twice.
    pub fn merge_preview(
        &self,
        survivor_customer_id: i64,
        duplicate_customer_id: i64,
    ) -> AppResult<MergePreview> {
        self.require_owner(WHAT)?;
        self.with_store(|st, now, _| {
            preview_of(
                st.customer(survivor_customer_id, now)?,
                st.customer(duplicate_customer_id, now)?,
            )
        })
    }

    /// The op id of this merge: the one of the same merge sent before without an answer,
    /// else a new UUIDv7 (kept until the server answers).
    fn merge_op(&self, survivor_uid: &str, duplicate_uid: &str, reason: &str) -> Uuid {
        let mut pending = lock(&self.merge_retry);
        if let Some(p) = pending.as_ref().filter(|p| {
            p.survivor_uid == survivor_uid && p.duplicate_uid == duplicate_uid && p.reason == reason
        }) {
            return p.op_id;
        }
        let op_id = Uuid::now_v7();
        *pending = Some(Pending {
            survivor_uid: survivor_uid.to_string(),
            duplicate_uid: duplicate_uid.to_string(),
            reason: reason.to_string(),
            op_id,
        });
        op_id
    }

    /// Merges the duplicate into the survivor on the server (the logged-in owner is the
    /// author), then starts a sync so this till shows it at once. The server's refusals
    /// keep their codes (`INVALID_MERGE`, `ACCOUNT_NOT_FOUND`, `ALREADY_MERGED`,
    /// `UNAUTHORIZED`); offline, `NET_UNREACHABLE` / `NET_TIMEOUT` and nothing changed.
    pub async fn merge_customers(&self, req: MergeInput) -> AppResult<MergeView> {
        let who = self.require_owner(WHAT)?;
        let api = self.owner_api(WHAT)?;
        let reason = clean_text("reason", &req.reason)?;
        let author = clean_text("author (the owner's name)", &who.name)?;
        let (preview, survivor_uid, duplicate_uid) = self.with_store(|st, now, _| {
            // The accounts shown (a customer merged before is shown as the one that stayed).
            let survivor = st.customer(req.survivor_customer_id, now)?;
            let duplicate = st.customer(req.duplicate_customer_id, now)?;
            let (s, d) = (survivor.account_uid.clone(), duplicate.account_uid.clone());
            Ok((preview_of(survivor, duplicate)?, s, d))
        })?;
        let op_id = self.merge_op(&survivor_uid, &duplicate_uid, &reason);
        let body = MergeRequest {
            op_id,
            survivor_account_uid: survivor_uid.clone(),
            duplicate_account_uid: duplicate_uid.clone(),
            reason,
            author,
        };
        let answer = api.post_json::<_, MergeResponse>(MERGE_PATH, &body).await;
        if is_final(&answer) {
            *lock(&self.merge_retry) = None;
        }
        let r = match answer {
            Ok(r) => r,
            Err(e) => {
                let mut err = merge_error(e);
                if err.code == "ACCOUNT_NOT_FOUND" {
                    let pending = self.with_store(|st, _, _| Ok(st.sync_pending_count()?))?;
                    if pending > 0 {
                        err.message = format!(
                            "{}; this till still has {pending} event(s) to send (a customer \
                             enrolled here may not be on the server yet): merge again after \
                             the sync",
                            err.message
                        );
                    }
                }
                return Err(err);
            }
        };
        if r.survivor_account_uid != survivor_uid || r.duplicate_account_uid != duplicate_uid {
            return Err(AppError::new(
                "BAD_RESPONSE",
                format!(
                    "the server answered a merge of {} into {}, not the one asked",
                    r.duplicate_account_uid, r.survivor_account_uid
                ),
            ));
        }
        if let Some(h) = lock(&self.sync).as_ref() {
            h.nudge();
        }
        tracing::info!(
            "merged account {duplicate_uid} into {survivor_uid} (gseq {}, {} points, {} cards{})",
            r.gseq,
            r.points_moved,
            r.cards_moved.len(),
            if r.already_applied {
                ", already applied"
            } else {
                ""
            }
        );
        Ok(MergeView {
            op_id: r.op_id.to_string(),
            survivor_customer_id: preview.survivor.customer_id,
            survivor_name: preview.survivor.name,
            duplicate_name: preview.duplicate.name,
            points_moved: r.points_moved,
            survivor_points: r.survivor_points,
            cards_moved: r.cards_moved,
            already_applied: r.already_applied,
        })
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
