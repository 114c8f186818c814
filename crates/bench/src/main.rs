//! `loyalty-bench store --members N`: builds (or reuses) a realistic till database, then
//! measures the store API against raw SQLite side by side. `loyalty-bench sync`: the
//! server and the till sync end to end (`sync`). `loyalty-bench app`: the till app in its
//! real window (`app`). `loyalty-bench dashboard`: the owner's dashboard on the server
//! (`dashboard`). See `cli::USAGE`.

mod app;
mod cli;
mod dashboard;
mod generate;
mod measure;
mod pipeline;
mod report;
mod stats;
mod sync;

#[cfg(test)]
mod tests;

use cli::Command;

fn main() {
    let result = match cli::parse(std::env::args().skip(1)) {
        Err(e) => Err(format!(
            "{e}\n\n{}{}{}{}",
            cli::USAGE,
            sync::args::USAGE,
            app::args::USAGE,
            dashboard::args::USAGE
        )),
        Ok(Command::Help) => {
            println!(
                "{}{}{}{}",
                cli::USAGE,
                sync::args::USAGE,
                app::args::USAGE,
                dashboard::args::USAGE
            );
            Ok(())
        }
        Ok(Command::Sync(args)) => sync::run(&args).map(|r| {
            println!("{}", r.table());
            println!("{}", r.json());
        }),
        Ok(Command::Dashboard(args)) => dashboard::run(&args).map(|r| {
            println!("{}", r.table());
            println!("{}", r.json());
        }),
        Ok(Command::App(args)) => app::run(&args).map(|r| {
            println!("{}", r.table());
            println!("{}", r.json());
        }),
        Ok(Command::Store(args)) => pipeline::run_store(&args).map(|r| {
            println!("{}", r.table());
            println!("{}", r.json());
        }),
        Ok(Command::StoreMeasure { db, args }) => measure::run(&db, &args, true).and_then(|m| {
            let line = serde_json::to_string(&m).map_err(|e| e.to_string())?;
            println!("{}{line}", pipeline::MEASUREMENT_PREFIX);
            Ok(())
        }),
    };
    if let Err(e) = result {
        eprintln!("loyalty-bench: {e}");
        std::process::exit(1);
    }
}
