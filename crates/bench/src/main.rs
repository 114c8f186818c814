//! `loyalty-bench store --members N`: builds (or reuses) a realistic till database, then
//! measures the store API against raw SQLite side by side. See `cli::USAGE`.
#![allow(dead_code)]
mod cli;
mod generate;
mod stats;

fn main() {
    let cmd = cli::parse(std::env::args().skip(1)).unwrap();
    if let cli::Command::Store(a) = cmd {
        let g = generate::ensure(&a.db_path(), a.members, a.regenerate).unwrap();
        eprintln!("{g:?}");
        let s = loyalty_store::Store::open(&g.path, generate::store_options()).unwrap();
        let t = std::time::Instant::now();
        let bad = s.check_invariants().unwrap();
        eprintln!("invariants: {} bad in {:?}", bad.len(), t.elapsed());
    }
}
