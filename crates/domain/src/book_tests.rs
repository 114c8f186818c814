//! Unit tests of the account book (filled in next).
