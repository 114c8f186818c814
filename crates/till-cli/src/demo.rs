//! `loyalty-till demo`: a cashier's year on a fresh store, on a simulated clock, printed step
//! by step. Everything goes through the real store on a real SQLite file.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use loyalty_cards::{QrSigner, VirtualCard};
use loyalty_domain::{Basket, BasketLine};
use loyalty_store::{
    Channel, CheckoutRequest, NewCustomer, ReturnItems, ReturnLine, ReturnRequest, Store,
    StoreError,
};
use uuid::Uuid;

use crate::commands::CliError;
use crate::render;
use crate::setup::TillSetup;

fn step(title: &str, at: DateTime<Utc>) {
    println!("\n== {} — {}", at.format("%Y-%m-%d"), title);
}

fn line(sku: &str, category: &str, qty: i64, amount: i64) -> BasketLine {
    BasketLine {
        sku: sku.into(),
        category: Some(category.into()),
        qty,
        amount,
    }
}

/// Shows a refused operation the way the cashier sees it: a code and a message.
fn refused(what: &str, r: Result<impl std::fmt::Debug, StoreError>) {
    match r {
        Ok(v) => println!("   {what}: unexpectedly accepted: {v:?}"),
        Err(e) => println!("   {what}: refused with {} — {e}", e.code()),
    }
}

pub fn run(setup: &TillSetup) -> Result<(), CliError> {
    let dir = setup.data_dir.join("demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| CliError::Io(e.to_string()))?;
    }
    let demo = TillSetup {
        data_dir: dir,
        till: setup.till.clone(),
        store: setup.store.clone(),
        region: setup.region.clone(),
    };
    let mut s = demo.open()?;
    let mut now = Utc::now() - Duration::days(400);
    let cur = s.program_at(now).currency.clone();
    println!(
        "Demo till {} of shop {} — store file {}",
        demo.till,
        demo.store,
        demo.data_dir.join("till.db").display()
    );

    step("enrol Анна and her friend Boris (referred by Анна)", now);
    let anna = s.enrol(
        Uuid::now_v7(),
        NewCustomer {
            name: "Анна Иванова".into(),
            phone: Some("8 916 123-45-67".into()),
            birthday: NaiveDate::from_ymd_opt(1990, 6, 15),
            preferred_channel: Channel::Messenger,
            marketing_consent: true,
            ..NewCustomer::default()
        },
        now,
    )?;
    println!(
        "   Анна: card {} (+{} welcome points)",
        anna.card, anna.welcome_points
    );
    let boris = s.enrol(
        Uuid::now_v7(),
        NewCustomer {
            name: "Boris Petrov".into(),
            phone: Some("+359 888 123 456".into()),
            referrer: Some(anna.card.clone()),
            ..NewCustomer::default()
        },
        now,
    )?;
    println!("   Boris: card {}", boris.card);
    refused(
        "enrol the same phone again",
        s.enrol(
            Uuid::now_v7(),
            NewCustomer {
                name: "Anna again".into(),
                phone: Some("+7 (916) 123 45 67".into()),
                ..NewCustomer::default()
            },
            now,
        ),
    );

    step(
        "Анна buys coffee and a book; the cashier scans her phone number",
        now,
    );
    render::customer(&s.lookup("89161234567", now)?, &cur);
    let basket = Basket {
        lines: vec![
            line("COFFEE", "drinks", 2, 36_000),
            line("BOOK", "books", 1, 120_000),
        ],
    };
    render::quote(&s.quote(&anna.card, &basket, 0, now)?, &cur);
    checkout(&mut s, &anna.card, basket, 0, now, &cur)?;

    step("Boris's first purchase: referral points for both", now);
    checkout(
        &mut s,
        &boris.card,
        Basket {
            lines: vec![line("TEA", "drinks", 1, 50_000)],
        },
        0,
        now,
        &cur,
    )?;

    now += Duration::days(15);
    step("15 days later the hold is over: Анна spends points", now);
    render::customer(&s.lookup(&anna.card, now)?, &cur);
    let big = Basket {
        lines: vec![
            line("LAMP", "home", 1, 300_000),
            line("BULB", "home", 4, 40_000),
        ],
    };
    let pen = Basket {
        lines: vec![line("PEN", "office", 1, 50_000)],
    };
    let cap = s.quote(&anna.card, &pen, 0, now)?.max_redeemable;
    println!("   on a 500.00 check at most {cap} points may be spent (30 % cap)");
    refused(
        "spend one point over the cap",
        s.quote(&anna.card, &pen, cap + 1, now),
    );
    let spend = s.quote(&anna.card, &big, 0, now)?.max_redeemable;
    let second = checkout(&mut s, &anna.card, big, spend, now, &cur)?;

    step("partial return: the lamp goes back", now);
    let r = s.return_sale(
        Uuid::now_v7(),
        ReturnRequest {
            receipt_no: second.clone(),
            items: ReturnItems::Lines(vec![ReturnLine {
                sku: "LAMP".into(),
                qty: 1,
            }]),
        },
        now,
    )?;
    render::return_receipt(&r, &cur);
    refused(
        "return the lamp a second time",
        s.return_sale(
            Uuid::now_v7(),
            ReturnRequest {
                receipt_no: second,
                items: ReturnItems::Lines(vec![ReturnLine {
                    sku: "LAMP".into(),
                    qty: 1,
                }]),
            },
            now,
        ),
    );

    step("Анна lost her card: block it and move the balance", now);
    let new_card = s.block_card_and_reissue(Uuid::now_v7(), &anna.card, now)?;
    println!("   new card {new_card}");
    refused("scan the old card", s.lookup(&anna.card, now));
    let family = s.add_family_card(Uuid::now_v7(), s.lookup(&new_card, now)?.account_id, now)?;
    println!("   family card {family} shares her balance");

    step("owner correction with a reason", now);
    let acc = s.lookup(&new_card, now)?.account_id;
    s.adjust(
        Uuid::now_v7(),
        acc,
        50,
        "apology for a slow queue",
        "owner",
        now,
    )?;
    let forged = QrSigner::from_seed(&[9; 32]).sign(&VirtualCard {
        card: new_card.clone(),
        issued_at: now,
        expires_at: now + Duration::days(30),
    });
    refused("scan a QR signed with another key", s.lookup(&forged, now));
    refused(
        "return an unknown receipt",
        s.return_sale(
            Uuid::now_v7(),
            ReturnRequest {
                receipt_no: "NOPE-1".into(),
                items: ReturnItems::All,
            },
            now,
        ),
    );

    now += Duration::days(352);
    step(
        "a year later: points earned on the first visit expire (oldest first)",
        now,
    );
    println!("   expired {} points", s.expire(Uuid::now_v7(), now)?);
    render::customer(&s.lookup(&family, now)?, &cur);
    render::history(&s.history(s.lookup(&new_card, now)?.customer.id)?, &cur);
    println!(
        "\n{} events wait in the outbox for the server.",
        s.outbox_pending_count()?
    );
    Ok(())
}

fn checkout(
    s: &mut Store,
    card: &str,
    basket: Basket,
    spend: i64,
    now: DateTime<Utc>,
    cur: &str,
) -> Result<String, CliError> {
    let r = s.checkout(
        Uuid::now_v7(),
        CheckoutRequest {
            card: card.into(),
            basket,
            spend,
            receipt: None,
        },
        now,
    )?;
    render::receipt(&r, cur);
    Ok(r.receipt_no)
}
