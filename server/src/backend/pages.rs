//! Paging rules shared by every backend's reads.

/// Cuts a changes page read with `LIMIT limit + 1` (rows `(uid, gseq, book)` ordered by
/// gseq): keeps at most `limit` rows and never splits a gseq (one fact can change two
/// accounts). Returns whether more rows follow.
pub fn cut_changes(rows: &mut Vec<(String, i64, String)>, limit: usize) -> bool {
    let has_more = rows.len() > limit;
    if has_more {
        let cut = rows[limit].1;
        rows.truncate(limit);
        while rows.len() > 1 && rows.last().map(|r| r.1) == Some(cut) {
            rows.pop();
        }
    }
    has_more
}

/// The page size of a changes read: at least 2, so a page holds a whole gseq.
pub fn changes_limit(limit: u32) -> usize {
    limit.max(2) as usize
}

/// Cuts a snapshot page read with `LIMIT limit + 1` (ordered by uid); returns the
/// `next_after` cursor when more rows follow.
pub fn cut_snapshot(rows: &mut Vec<(String, i64, String)>, limit: usize) -> Option<String> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    if more {
        rows.last().map(|r| r.0.clone())
    } else {
        None
    }
}
