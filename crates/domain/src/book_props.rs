//! Property tests of the account book (filled in next).
