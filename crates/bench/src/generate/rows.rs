//! The rows one member contributes to the till database, built in memory by `member` and
//! inserted by `writer`. Timestamps are unix milliseconds, like the schema's.

/// `customers` (id = the member's serial, also its account id).
pub struct CustomerRow {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub name_norm: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birthday: Option<String>,
    pub gender: Option<&'static str>,
    pub age_group: Option<&'static str>,
    pub channel: &'static str,
    pub consent: bool,
    pub tags: &'static str,
    pub referrer_id: Option<i64>,
    pub enrolled_at: i64,
}

/// `accounts`.
#[derive(Default)]
pub struct AccountRow {
    pub shortfall: i64,
    pub lifetime_spend: i64,
    pub lifetime_purchases: i64,
    pub stamps: i64,
    pub referral_pending: bool,
    /// The scan figures cached on the account (migration 0003), computed at the sim's now.
    pub cache: loyalty_store::cache::CachedFigures,
}

/// `cards`.
pub struct CardRow {
    pub number: String,
    pub family: bool,
    pub blocked_at: Option<i64>,
    pub replaced_by: Option<String>,
    pub issued_at: i64,
    pub op_id: String,
}

/// `sale_lines`.
pub struct LineRow {
    pub sku: String,
    pub category: &'static str,
    pub qty: i64,
    pub amount: i64,
    pub returned_qty: i64,
}

/// `sales` with its lines.
pub struct SaleRow {
    pub id: i64,
    pub receipt: String,
    /// The stored quote (compact JSON), filled in when the sale is final.
    pub quote: String,
    pub op_id: String,
    pub card: String,
    pub sold_at: i64,
    pub subtotal: i64,
    pub discount_total: i64,
    pub after_discounts: i64,
    pub points_spent: i64,
    pub to_pay: i64,
    pub earned: i64,
    pub referrer_points: i64,
    pub returned_amount: i64,
    pub returned_spend: i64,
    pub earned_taken: i64,
    pub spent_restored: i64,
    pub lines: Vec<LineRow>,
}

/// `lots`.
pub struct LotRow {
    pub id: i64,
    pub account_id: i64,
    pub kind: &'static str,
    pub earned_at: i64,
    pub available_at: i64,
    pub expires_at: i64,
    pub original: i64,
    pub remaining: i64,
    pub expired: i64,
    pub sale_id: Option<i64>,
    pub op_id: String,
}

/// `ledger` (its id is given when written, in time order per member).
pub struct LedgerRow {
    pub account_id: i64,
    pub op_id: String,
    pub kind: &'static str,
    pub points: i64,
    pub lot_id: Option<i64>,
    pub sale_id: Option<i64>,
    pub reason: String,
    pub at: i64,
}

/// `returns` with its `return_lines` as `(line_no, qty, amount)`.
pub struct ReturnRow {
    pub id: i64,
    pub op_id: String,
    pub sale_id: i64,
    pub returned_at: i64,
    pub amount: i64,
    pub refund: i64,
    pub earned_taken: i64,
    pub shortfall: i64,
    pub spent_restored: i64,
    pub lines: Vec<(i64, i64, i64)>,
}

/// Everything of one member.
pub struct MemberRows {
    pub customer: CustomerRow,
    pub account: AccountRow,
    pub cards: Vec<CardRow>,
    pub sales: Vec<SaleRow>,
    pub lots: Vec<LotRow>,
    pub ledger: Vec<LedgerRow>,
    pub ret: Option<ReturnRow>,
}
