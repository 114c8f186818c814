//! `POST /api/v1/accounts/merge` (owner): the same person enrolled twice. The server
//! applies a `merge` fact under its own till: the survivor absorbs the duplicate's lots,
//! shortfall, counters, cards and active reservations; the duplicate's later facts, also
//! those tills recorded offline before they heard of it, are applied to the survivor.
//! Tills learn of it through changes ([`crate::AccountState::merged_into`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest reason or author accepted (characters).
pub const MERGE_TEXT_MAX: usize = 200;

/// What to merge.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The caller's id of this merge (UUIDv7): sending the same request again answers the
    /// first result (`already_applied`) instead of merging twice.
    #[schema(value_type = String, format = Uuid)]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub op_id: Uuid,
    /// The account that stays.
    pub survivor_account_uid: String,
    /// The account merged into it.
    pub duplicate_account_uid: String,
    /// Why (shown in both customers' histories), 1..=200 characters.
    pub reason: String,
    /// Who (the owner's name), 1..=200 characters.
    pub author: String,
}

/// What the merge did.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct MergeResponse {
    #[schema(value_type = String, format = Uuid)]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub op_id: Uuid,
    pub survivor_account_uid: String,
    pub duplicate_account_uid: String,
    /// The global sequence number of the merge (tills pulling changes see it there).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub gseq: i64,
    /// This op id had merged these accounts already: nothing was done again.
    pub already_applied: bool,
    /// The duplicate's net points (`Σ remaining − shortfall`) moved to the survivor.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub points_moved: i64,
    /// The survivor's points after the merge (`Σ remaining − shortfall`, also in hold).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub survivor_points: i64,
    /// Card numbers that now belong to the survivor.
    pub cards_moved: Vec<String>,
}
