//! Cross-crate tests of the till core live here.
