//! The CLI commands: each parses its arguments, calls one store operation, prints the result.

use chrono::{Duration, NaiveDate, Utc};
use clap::Args;
use loyalty_cards::{CardError, QrSigner, VirtualCard};
use loyalty_domain::{Basket, BasketLine, Points};
use loyalty_store::{
    Channel, CheckoutRequest, NewCustomer, ReturnItems, ReturnLine, ReturnRequest, StoreError,
};
use uuid::Uuid;

use crate::money::{parse_amount, BadAmount};
use crate::setup::TillSetup;
use crate::{demo, render, Command};

/// Everything a command can fail with; `code()` is shown before the message.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error(transparent)]
    Amount(#[from] BadAmount),
    #[error("{0}")]
    Usage(String),
    #[error("file error: {0}")]
    Io(String),
}

impl CliError {
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Store(e) => e.code(),
            CliError::Card(e) => e.code(),
            CliError::Amount(_) => "INVALID_AMOUNT",
            CliError::Usage(_) => "USAGE",
            CliError::Io(_) => "IO",
        }
    }
}

#[derive(Args, Debug)]
pub struct EnrolArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    /// YYYY-MM-DD
    #[arg(long)]
    pub birthday: Option<NaiveDate>,
    /// Consents to marketing messages.
    #[arg(long)]
    pub consent: bool,
    /// sms | email | messenger | none
    #[arg(long, default_value = "none")]
    pub channel: String,
    /// Card number or phone of the customer who brought this one.
    #[arg(long)]
    pub referrer: Option<String>,
}

#[derive(Args, Debug)]
pub struct SaleArgs {
    /// Card number, QR payload or phone.
    pub card: String,
    /// Check amount (e.g. 1250.00); or give --line.
    pub amount: Option<String>,
    /// A basket line `sku:qty:amount[:category]` (repeatable).
    #[arg(long = "line")]
    pub lines: Vec<String>,
    /// Points to spend on this check.
    #[arg(long, default_value_t = 0)]
    pub spend: Points,
}

#[derive(Args, Debug)]
pub struct ReturnArgs {
    pub receipt: String,
    /// Return this part of the check amount instead of everything.
    #[arg(long)]
    pub amount: Option<String>,
    /// Return `sku:qty` (repeatable).
    #[arg(long = "line")]
    pub lines: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AdjustArgs {
    pub card: String,
    /// Signed points, e.g. 150 or -40.
    #[arg(allow_hyphen_values = true)]
    pub points: Points,
    #[arg(long)]
    pub reason: String,
    #[arg(long, default_value = "owner")]
    pub author: String,
}

#[derive(Args, Debug)]
pub struct QrArgs {
    pub card: String,
    /// Days the virtual card stays valid.
    #[arg(long, default_value_t = 365)]
    pub days: i64,
}

/// Parses `sku:qty:amount[:category]`.
pub fn parse_line(s: &str) -> Result<BasketLine, CliError> {
    let parts: Vec<&str> = s.split(':').collect();
    let usage = || {
        CliError::Usage(format!(
            "bad line {s:?}: expected sku:qty:amount[:category]"
        ))
    };
    if !(3..=4).contains(&parts.len()) || parts[0].trim().is_empty() {
        return Err(usage());
    }
    let qty: i64 = parts[1].trim().parse().map_err(|_| usage())?;
    Ok(BasketLine {
        sku: parts[0].trim().to_string(),
        category: parts.get(3).map(|c| c.trim().to_string()),
        qty,
        amount: parse_amount(parts[2])?,
    })
}

pub fn basket(args: &SaleArgs) -> Result<Basket, CliError> {
    let mut lines = args
        .lines
        .iter()
        .map(|l| parse_line(l))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(a) = &args.amount {
        lines.push(BasketLine {
            sku: "CHECK".into(),
            category: None,
            qty: 1,
            amount: parse_amount(a)?,
        });
    }
    if lines.is_empty() {
        return Err(CliError::Usage("give a check amount or --line".into()));
    }
    Ok(Basket { lines })
}

fn channel(s: &str) -> Result<Channel, CliError> {
    match s {
        "sms" => Ok(Channel::Sms),
        "email" => Ok(Channel::Email),
        "messenger" => Ok(Channel::Messenger),
        "none" => Ok(Channel::None),
        _ => Err(CliError::Usage(format!("unknown channel {s:?}"))),
    }
}

fn return_items(args: &ReturnArgs) -> Result<ReturnItems, CliError> {
    if let Some(a) = &args.amount {
        return Ok(ReturnItems::Amount(parse_amount(a)?));
    }
    if args.lines.is_empty() {
        return Ok(ReturnItems::All);
    }
    let lines = args
        .lines
        .iter()
        .map(|l| {
            let (sku, qty) = l
                .split_once(':')
                .ok_or_else(|| CliError::Usage(format!("bad line {l:?}: expected sku:qty")))?;
            let qty = qty
                .trim()
                .parse()
                .map_err(|_| CliError::Usage(format!("bad quantity in {l:?}")))?;
            Ok(ReturnLine {
                sku: sku.trim().to_string(),
                qty,
            })
        })
        .collect::<Result<Vec<_>, CliError>>()?;
    Ok(ReturnItems::Lines(lines))
}

pub fn run(setup: &TillSetup, command: Command) -> Result<(), CliError> {
    match command {
        Command::Demo => demo::run(setup),
        other => store_command(setup, other),
    }
}

fn store_command(setup: &TillSetup, command: Command) -> Result<(), CliError> {
    let mut store = setup.open()?;
    let now = Utc::now();
    let currency = store.program_at(now).currency.clone();
    match command {
        Command::Demo => demo::run(setup)?,
        Command::Enrol(a) => {
            let new = NewCustomer {
                name: a.name,
                phone: a.phone,
                email: a.email,
                birthday: a.birthday,
                preferred_channel: channel(&a.channel)?,
                marketing_consent: a.consent,
                referrer: a.referrer,
                ..NewCustomer::default()
            };
            let e = store.enrol(Uuid::now_v7(), new, now)?;
            println!(
                "enrolled: card {}  (+{} welcome points)",
                e.card, e.welcome_points
            );
        }
        Command::Lookup { input } => match store.lookup(&input, now) {
            Ok(v) => render::customer(&v, &currency),
            Err(StoreError::UnknownCard(_)) if !input.trim().is_empty() => {
                let hits = store.search_name(&input, 20)?;
                if hits.is_empty() {
                    return Err(StoreError::UnknownCard(input).into());
                }
                render::hits(&hits);
            }
            Err(e) => return Err(e.into()),
        },
        Command::Quote(a) => {
            let q = store.quote(&a.card, &basket(&a)?, a.spend, now)?;
            render::quote(&q, &currency);
        }
        Command::Checkout(a) => {
            let req = CheckoutRequest {
                card: a.card.clone(),
                basket: basket(&a)?,
                spend: a.spend,
                receipt: None,
            };
            let r = store.checkout(Uuid::now_v7(), req, now)?;
            render::receipt(&r, &currency);
        }
        Command::Return(a) => {
            let req = ReturnRequest {
                receipt_no: a.receipt.clone(),
                items: return_items(&a)?,
            };
            let r = store.return_sale(Uuid::now_v7(), req, now)?;
            render::return_receipt(&r, &currency);
        }
        Command::Adjust(a) => {
            let v = store.lookup(&a.card, now)?;
            let r = store.adjust(
                Uuid::now_v7(),
                v.account_id,
                a.points,
                &a.reason,
                &a.author,
                now,
            )?;
            println!("adjusted account {} by {} points", r.account_id, r.points);
        }
        Command::Block { card } => {
            let new = store.block_card_and_reissue(Uuid::now_v7(), &card, now)?;
            println!("card {card} blocked; balance moved to new card {new}");
        }
        Command::Family { card } => {
            let v = store.lookup(&card, now)?;
            let new = store.add_family_card(Uuid::now_v7(), v.account_id, now)?;
            println!("family card {new} added to the account of {card}");
        }
        Command::Expire => {
            let n = store.expire(Uuid::now_v7(), now)?;
            println!("expired {n} points");
        }
        Command::History { card } => {
            let v = store.lookup(&card, now)?;
            render::history(&store.history(v.customer.id)?, &currency);
        }
        Command::Qr(a) => {
            let v = store.lookup(&a.card, now)?;
            let signer = QrSigner::from_seed(&setup.qr_seed()?);
            let payload = signer.sign(&VirtualCard {
                card: v.card.clone(),
                issued_at: now,
                expires_at: now + Duration::days(a.days),
            });
            let svg = setup.data_dir.join(format!("qr-{}.svg", v.card));
            let png = setup.data_dir.join(format!("qr-{}.png", v.card));
            let write = |p: &std::path::Path, b: &[u8]| {
                std::fs::write(p, b).map_err(|e| CliError::Io(e.to_string()))
            };
            write(&svg, loyalty_cards::qr::render_svg(&payload)?.as_bytes())?;
            write(&png, &loyalty_cards::qr::render_png(&payload, 8)?)?;
            println!(
                "{payload}\nwritten: {} and {}",
                svg.display(),
                png.display()
            );
        }
        Command::Outbox => {
            let events = store.outbox_after(0, 1000)?;
            for e in events.iter().filter(|e| !e.acked) {
                println!("{:>6}  {:<10} {}  {}", e.seq, e.kind, e.op_id, e.created_at);
            }
            println!("{} events waiting to sync", store.outbox_pending_count()?);
        }
    }
    Ok(())
}
