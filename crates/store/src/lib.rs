//! The till store: rusqlite, WAL, append-only ledger with lots, outbox.
