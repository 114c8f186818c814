//! Merging duplicate customers on the owner's request, SQL-free: the request checked and
//! turned into a `merge` fact ([`fact`]), a repeated request recognised ([`repeated`]).
//! Each backend then applies the fact under the server's own till
//! ([`super::server_batch::SERVER_TILL`], next seq, next gseq) with the same planner as a
//! till's facts ([`super::apply`]), in one transaction, and answers [`MergeResponse`].

use super::apply::ApplyError;
use super::{BackendError, Result};
use loyalty_domain::Fact;
use loyalty_wire::{MergeRequest, MergeResponse, MERGE_TEXT_MAX};

fn invalid(message: impl Into<String>) -> BackendError {
    BackendError::FactRejected {
        code: "INVALID_MERGE",
        message: message.into(),
    }
}

fn text(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(invalid(format!("{field} is required")));
    }
    if v.chars().count() > MERGE_TEXT_MAX {
        return Err(invalid(format!(
            "{field} is longer than {MERGE_TEXT_MAX} characters"
        )));
    }
    if v.contains('\0') {
        return Err(invalid(format!("{field} must not contain NUL characters")));
    }
    Ok(v.to_string())
}

/// The `merge` fact of a request (`INVALID_MERGE` when it is malformed).
pub fn fact(req: &MergeRequest) -> Result<Fact> {
    let survivor = text("survivor_account_uid", &req.survivor_account_uid)?;
    let duplicate = text("duplicate_account_uid", &req.duplicate_account_uid)?;
    debug_assert_eq!(duplicate, self::duplicate(req));
    if survivor == duplicate {
        return Err(invalid("an account cannot be merged into itself"));
    }
    Ok(Fact::Merge {
        account_uid: survivor,
        duplicate_uid: duplicate,
        reason: text("reason", &req.reason)?,
        author: text("author", &req.author)?,
    })
}

/// The duplicate's uid as [`fact`] names it.
pub fn duplicate(req: &MergeRequest) -> String {
    req.duplicate_account_uid.trim().to_string()
}

/// An event with the request's op id exists already (`till`, its stored fact JSON): the
/// same merge by the server's till → `Ok(())` (answer it as already applied); anything
/// else → `OP_CONFLICT`.
pub fn repeated(req: &MergeRequest, fact: &Fact, till: &str, stored: &str) -> Result<()> {
    let same = till == super::server_batch::SERVER_TILL
        && serde_json::from_str::<Fact>(stored).is_ok_and(|f| f == *fact);
    if same {
        Ok(())
    } else {
        Err(BackendError::OpConflict(req.op_id.to_string()))
    }
}

/// What the merge did (or, `already_applied`, what an earlier request with the op id did:
/// nothing moved this time).
pub struct Outcome {
    pub survivor: String,
    pub gseq: i64,
    pub already_applied: bool,
    pub points_moved: i64,
    pub survivor_points: i64,
    pub cards_moved: Vec<String>,
}

impl Outcome {
    /// The answer to `req`.
    pub fn response(self, req: &MergeRequest) -> MergeResponse {
        if !self.already_applied {
            tracing::info!(op_id = %req.op_id, survivor = %self.survivor,
                duplicate = %duplicate(req), points_moved = self.points_moved, "accounts merged");
        }
        MergeResponse {
            op_id: req.op_id,
            survivor_account_uid: self.survivor,
            duplicate_account_uid: duplicate(req),
            gseq: self.gseq,
            already_applied: self.already_applied,
            points_moved: self.points_moved,
            survivor_points: self.survivor_points,
            cards_moved: self.cards_moved,
        }
    }
}

/// A planner rejection of the merge as the owner's error.
pub fn rejected(e: ApplyError) -> BackendError {
    match e {
        ApplyError::Backend(b) => b,
        ApplyError::Reject { code, message } => BackendError::FactRejected { code, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn req(s: &str, d: &str, reason: &str) -> MergeRequest {
        MergeRequest {
            op_id: Uuid::now_v7(),
            survivor_account_uid: s.into(),
            duplicate_account_uid: d.into(),
            reason: reason.into(),
            author: "Owner".into(),
        }
    }

    #[test]
    fn requests_are_checked() {
        let code = |r: &MergeRequest| fact(r).unwrap_err().code();
        assert_eq!(code(&req("a", "a", "x")), "INVALID_MERGE");
        assert_eq!(code(&req("a", "b", "  ")), "INVALID_MERGE");
        assert_eq!(code(&req("", "b", "x")), "INVALID_MERGE");
        assert_eq!(code(&req("a", "b", &"x".repeat(201))), "INVALID_MERGE");
        assert_eq!(code(&req("a", "b\0", "x")), "INVALID_MERGE");
        let r = req(" a ", "b", " twice ");
        let f = fact(&r).unwrap();
        assert_eq!(f.account_uid(), "a");
        let json = serde_json::to_string(&f).unwrap();
        assert!(repeated(&r, &f, "server", &json).is_ok());
        assert!(repeated(&r, &f, "till-1", &json).is_err());
        let other = fact(&req("a", "c", "x")).unwrap();
        assert!(repeated(&r, &other, "server", &json).is_err());
    }
}
