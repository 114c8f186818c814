//! [`StoreError`]: everything a store operation can refuse, with a stable [`StoreError::code`].
//!
//! Every error is returned before the operation's transaction commits, so an error always
//! means "nothing changed".

use loyalty_cards::CardError;
use loyalty_domain::RuleError;

/// Errors of the till store. `code()` is stable (SCREAMING_SNAKE) for logs, the API and the UI.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No card with this number (or the input is neither a card, a QR code nor a phone on file).
    #[error("unknown card or customer: {0}")]
    UnknownCard(String),
    /// The card was blocked (lost/stolen); the message names the replacement card if any.
    #[error("card {card} is blocked{}", replaced_by.as_ref().map(|r| format!("; it was replaced by card {r}")).unwrap_or_default())]
    CardBlocked {
        card: String,
        replaced_by: Option<String>,
    },
    /// No customer with this id.
    #[error("unknown customer {0}")]
    UnknownCustomer(i64),
    /// No account with this id.
    #[error("unknown account {0}")]
    UnknownAccount(i64),
    /// The account was merged into another by the owner: find the customer again (its
    /// cards and phone now show the account that stayed).
    #[error("this customer's account was merged into account {into}: find the customer again")]
    AccountMerged { account: i64, into: String },
    /// A card / QR / phone problem from `loyalty-cards` (QR_*, PHONE_INVALID, CARD_*).
    #[error(transparent)]
    Card(#[from] CardError),
    /// A rule violation from `loyalty-domain` (INSUFFICIENT_POINTS, SPEND_OVER_CAP, ...).
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// Another customer already has this phone number.
    #[error("phone {0} is already registered to another customer")]
    DuplicatePhone(String),
    /// An owner debit larger than the points available now.
    #[error("insufficient points: {available} available, {requested} requested")]
    InsufficientPoints { available: i64, requested: i64 },
    /// A return of more than what was sold (or not yet returned) on the receipt.
    #[error("return exceeds the sale: {0}")]
    ReturnExceedsSale(String),
    /// No sale with this receipt number on this till.
    #[error("unknown receipt {0}")]
    UnknownReceipt(String),
    /// A checkout asked for a receipt number that already exists.
    #[error("receipt number {0} is already used")]
    DuplicateReceipt(String),
    /// The op id was already used for a different request (or a different kind of operation).
    #[error("operation {op_id} was already applied with a different request ({kind})")]
    OpConflict { op_id: String, kind: String },
    /// Input rejected before touching the database (empty name, zero points, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A program version already stored with a different content.
    #[error("program version {0} already exists with a different configuration")]
    ProgramConflict(u32),
    /// An applied migration's text changed since it was applied: refuse to run on it.
    #[error("migration {version} ({name}) was changed after it was applied: checksum mismatch; add a new migration instead")]
    MigrationChanged { version: i64, name: String },
    /// The database was written by a newer build (it has migrations this build does not know).
    #[error(
        "database has migration {0} unknown to this build: refusing to open with an older version"
    )]
    MigrationUnknown(i64),
    /// A server state that cannot be applied (an account book that breaks its own rules, a
    /// card on another account, an unknown card status...): nothing of the batch is applied.
    #[error("server data cannot be applied: {0}")]
    SyncData(String),
    /// SQLite failed.
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// Stored data that cannot be decoded (bad timestamp, bad JSON): should never happen.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Stable SCREAMING_SNAKE code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::UnknownCard(_) => "UNKNOWN_CARD",
            StoreError::CardBlocked { .. } => "CARD_BLOCKED",
            StoreError::UnknownCustomer(_) => "UNKNOWN_CUSTOMER",
            StoreError::UnknownAccount(_) => "UNKNOWN_ACCOUNT",
            StoreError::AccountMerged { .. } => "ACCOUNT_MERGED",
            StoreError::Card(e) => e.code(),
            StoreError::Rule(e) => e.code(),
            StoreError::DuplicatePhone(_) => "DUPLICATE_PHONE",
            StoreError::InsufficientPoints { .. } => "INSUFFICIENT_POINTS",
            StoreError::ReturnExceedsSale(_) => "RETURN_EXCEEDS_SALE",
            StoreError::UnknownReceipt(_) => "UNKNOWN_RECEIPT",
            StoreError::DuplicateReceipt(_) => "DUPLICATE_RECEIPT",
            StoreError::OpConflict { .. } => "OP_CONFLICT",
            StoreError::InvalidInput(_) => "INVALID_INPUT",
            StoreError::ProgramConflict(_) => "PROGRAM_CONFLICT",
            StoreError::MigrationChanged { .. } => "DB_MIGRATION_CHANGED",
            StoreError::MigrationUnknown(_) => "DB_MIGRATION_UNKNOWN",
            StoreError::SyncData(_) => "SYNC_BAD_DATA",
            StoreError::Db(_) => "DB",
            StoreError::Corrupt(_) => "DB_CORRUPT",
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(format!("json: {e}"))
    }
}

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
