//! How the CLI prints what the cashier and the owner see.

use loyalty_domain::Quote;
use loyalty_store::{CustomerHit, CustomerView, History, Receipt, ReturnReceipt};

use crate::money::format_money;

pub fn customer(v: &CustomerView, cur: &str) {
    let c = &v.customer;
    println!("┌ {}  card {}", c.name, v.card);
    println!(
        "│ phone {}  tier {}{}",
        c.phone.as_deref().unwrap_or("-"),
        v.tier.as_ref().map(|t| t.name.as_str()).unwrap_or("-"),
        if v.birthday_window {
            "  🎂 birthday"
        } else {
            ""
        }
    );
    let b = &v.balance;
    println!(
        "│ points: {} available, {} pending{}",
        b.available,
        b.pending,
        if b.shortfall > 0 {
            format!(", {} owed", b.shortfall)
        } else {
            String::new()
        }
    );
    if let Some(at) = b.next_expiry {
        println!(
            "│ next expiry {}  ({} points expire within 30 days)",
            at.format("%Y-%m-%d"),
            b.expiring_soon
        );
    }
    println!(
        "│ spent {} in {} purchases, stamps {}",
        format_money(v.lifetime_spend, cur),
        v.lifetime_purchases,
        v.stamps
    );
    let others: Vec<&str> = v
        .cards
        .iter()
        .filter(|k| k.number != v.card)
        .map(|k| k.number.as_str())
        .collect();
    if !others.is_empty() {
        println!("│ other cards: {}", others.join(", "));
    }
    println!("└");
}

pub fn hits(hits: &[CustomerHit]) {
    for h in hits {
        println!(
            "{:>8}  {:<30} {}",
            h.customer_id,
            h.name,
            h.phone.as_deref().unwrap_or("-")
        );
    }
}

pub fn quote(q: &Quote, cur: &str) {
    println!("  subtotal        {}", format_money(q.subtotal, cur));
    for d in &q.discounts {
        println!("  - {:<30} {}", d.reason, format_money(-d.amount, cur));
    }
    println!("  max redeemable  {} points", q.max_redeemable);
    if q.points_spent > 0 {
        println!(
            "  points spent    {} ({})",
            q.points_spent,
            format_money(-q.spend_value, cur)
        );
    }
    println!("  TO PAY          {}", format_money(q.to_pay, cur));
    for e in &q.earn {
        println!("  + {:<30} {} points", e.reason, e.points);
    }
    println!(
        "  earns {} points, usable from {}",
        q.earn_total,
        q.available_at.format("%Y-%m-%d")
    );
    if let Some(g) = &q.gift {
        println!("  GIFT: {g}");
    }
}

pub fn receipt(r: &Receipt, cur: &str) {
    println!(
        "receipt {}  paid {}  (discount {}, {} points spent)  earned {} points{}",
        r.receipt_no,
        format_money(r.to_pay, cur),
        format_money(r.discount_total, cur),
        r.points_spent,
        r.earned,
        if r.settled_shortfall > 0 {
            format!(" ({} settled an earlier shortfall)", r.settled_shortfall)
        } else {
            String::new()
        }
    );
}

pub fn return_receipt(r: &ReturnReceipt, cur: &str) {
    println!(
        "return of {}: refund {}, {} earned points taken back, {} spent points restored{}",
        r.receipt_no,
        format_money(r.refund, cur),
        r.earned_taken,
        r.spent_restored,
        if r.shortfall_added > 0 {
            format!(", {} points owed (already spent)", r.shortfall_added)
        } else {
            String::new()
        }
    );
}

pub fn history(h: &History, cur: &str) {
    println!("history of {} (account {})", h.customer.name, h.account_id);
    println!("sales:");
    for s in &h.sales {
        println!(
            "  {}  {}  paid {}  spent {}  earned {}{}",
            s.sold_at.format("%Y-%m-%d %H:%M"),
            s.receipt_no,
            format_money(s.to_pay, cur),
            s.points_spent,
            s.earned,
            if s.returned_amount > 0 {
                format!("  returned {}", format_money(s.returned_amount, cur))
            } else {
                String::new()
            }
        );
    }
    println!("ledger:");
    for l in &h.ledger {
        println!(
            "  {}  {:<12} {:>7}  balance {:>7}  {}",
            l.at.format("%Y-%m-%d %H:%M"),
            l.kind,
            l.points,
            l.balance,
            l.reason
        );
    }
    println!("lots:");
    for l in &h.lots {
        println!(
            "  #{:<5} {:<10} {:>6} of {:>6}  usable {}  expires {}",
            l.id,
            l.kind,
            l.remaining,
            l.original,
            l.available_at.format("%Y-%m-%d"),
            l.expires_at
                .map(|e| e.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "never".into())
        );
    }
    if !h.adjustments.is_empty() {
        println!("adjustments:");
        for a in &h.adjustments {
            println!(
                "  {}  {:>6}  by {}: {}",
                a.at.format("%Y-%m-%d %H:%M"),
                a.points,
                a.author,
                a.reason
            );
        }
    }
}
