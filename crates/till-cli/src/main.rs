//! `loyalty-till`: the till core on the command line, over the same local SQLite store the
//! desktop app uses. `loyalty-till demo` walks through a cashier's day on a fresh store.

mod commands;
mod demo;
mod money;
mod render;
mod setup;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Loyalty till (command line).
#[derive(Parser, Debug)]
#[command(name = "loyalty-till", version, about)]
struct Cli {
    /// Folder of the till's data (store file and QR key); created if missing.
    #[arg(long, default_value = "till-data", global = true)]
    data_dir: PathBuf,
    /// This till's id (its digits make the card number prefix).
    #[arg(long, default_value = "T01", global = true)]
    till: String,
    /// The shop this till belongs to.
    #[arg(long, default_value = "S1", global = true)]
    store: String,
    /// Default phone region (RU, BG, ...).
    #[arg(long, default_value = "RU", global = true)]
    region: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Walk through a cashier's day on a fresh demo store (enrol, scan, sell, return, expire).
    Demo,
    /// Enrol a customer; prints the new card number.
    Enrol(commands::EnrolArgs),
    /// Find a customer by card number, phone, virtual-card QR payload or name prefix.
    Lookup { input: String },
    /// Show what a check would cost and earn, without committing anything.
    Quote(commands::SaleArgs),
    /// Commit a sale (discounts, points spent, points earned) and print the receipt.
    Checkout(commands::SaleArgs),
    /// Return a sale, fully or partly, by receipt number.
    Return(commands::ReturnArgs),
    /// Owner correction of a balance, with a reason.
    Adjust(commands::AdjustArgs),
    /// Block a lost card and move its balance to a new card.
    Block { card: String },
    /// Add a family card to the account of a card.
    Family { card: String },
    /// Expire points whose lots are past their expiry date.
    Expire,
    /// A customer's sales, ledger with running balance, lots and adjustments.
    History { card: String },
    /// Write the virtual-card QR of a card as SVG and PNG.
    Qr(commands::QrArgs),
    /// Events waiting to be uploaded to the server.
    Outbox,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let setup = setup::TillSetup {
        data_dir: cli.data_dir,
        till: cli.till,
        store: cli.store,
        region: cli.region,
    };
    match commands::run(&setup, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error {}: {}", e.code(), e);
            ExitCode::from(2)
        }
    }
}
