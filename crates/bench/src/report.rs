//! The human-readable table and the final JSON line.

use std::fmt::Write;

use serde_json::{json, Value};

use crate::generate::Generated;
use crate::measure::{Measurement, Pair};
use crate::stats::ratio;

/// Goals (reported, never asserted).
pub const GOAL_LOOKUP_RATIO: f64 = 1.5;
pub const GOAL_CHECKOUT_RATIO: f64 = 1.3;
pub const GOAL_GENERATE_S: f64 = 60.0;
pub const GOAL_RSS_MIB: f64 = 200.0;

pub struct Report {
    pub generated: Generated,
    pub m: Measurement,
    /// The measurement ran in a fresh child process.
    pub child_process: bool,
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Report {
    pub fn lookup_ratio(&self) -> f64 {
        ratio(self.m.lookup_card.api.p99_us, self.m.lookup_card.raw.p99_us)
    }

    pub fn checkout_ratio(&self) -> f64 {
        ratio(self.m.checkout.api.p50_us, self.m.checkout.raw.p50_us)
    }

    /// The final JSON object (one line).
    pub fn json(&self) -> Value {
        let (g, m) = (&self.generated, &self.m);
        let mut v = json!({
            "members": g.members,
            "generate_s": round(g.generate_s),
            "generate_reused": g.reused,
            "rows": g.rows,
            "db_mib": round(g.db_mib),
            "lookups_per_kind": m.lookup_card.api.n,
            "lookup_p50_us": round(m.lookup_card.api.p50_us),
            "lookup_p99_us": round(m.lookup_card.api.p99_us),
            "raw_lookup_p50_us": round(m.lookup_card.raw.p50_us),
            "raw_lookup_p99_us": round(m.lookup_card.raw.p99_us),
            "lookup_ratio": round(self.lookup_ratio()),
            "checkouts": m.checkout.api.n,
            "checkouts_with_spend": m.checkouts_with_spend,
            "checkout_p50_us": round(m.checkout.api.p50_us),
            "checkout_p99_us": round(m.checkout.api.p99_us),
            "raw_checkout_p50_us": round(m.checkout.raw.p50_us),
            "raw_checkout_p99_us": round(m.checkout.raw.p99_us),
            "checkout_ratio": round(self.checkout_ratio()),
            "rss_mib": round(m.peak_rss_mib),
            "rss_open_mib": round(m.rss_open_mib),
            "rss_after_generate_mib": round(g.rss_after_mib),
            "generate_peak_rss_mib": round(g.peak_rss_mib),
            "measured_in_child_process": self.child_process,
            "invariant_violations": m.invariant_violations,
        });
        for (kind, p) in self.kinds() {
            let obj = v.as_object_mut().expect("json! object");
            obj.insert(format!("lookup_{kind}_p50_us"), json!(round(p.api.p50_us)));
            obj.insert(format!("lookup_{kind}_p99_us"), json!(round(p.api.p99_us)));
            obj.insert(
                format!("raw_lookup_{kind}_p50_us"),
                json!(round(p.raw.p50_us)),
            );
            obj.insert(
                format!("raw_lookup_{kind}_p99_us"),
                json!(round(p.raw.p99_us)),
            );
            obj.insert(
                format!("lookup_{kind}_ratio"),
                json!(round(ratio(p.api.p99_us, p.raw.p99_us))),
            );
        }
        v["goals_met"] = json!({
            "lookup_ratio": self.lookup_ratio() <= GOAL_LOOKUP_RATIO,
            "checkout_ratio": self.checkout_ratio() <= GOAL_CHECKOUT_RATIO,
            "generate_s": g.generate_s < GOAL_GENERATE_S,
            "rss_mib": m.peak_rss_mib < GOAL_RSS_MIB,
        });
        v
    }

    fn kinds(&self) -> [(&'static str, Pair); 3] {
        [
            ("card", self.m.lookup_card),
            ("phone", self.m.lookup_phone),
            ("qr", self.m.lookup_qr),
        ]
    }

    /// The table printed before the JSON line.
    pub fn table(&self) -> String {
        let (g, m) = (&self.generated, &self.m);
        let mut s = String::new();
        let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
        let _ = writeln!(
            s,
            "\ntill store benchmark: {} members, {} ({:.0} MiB, {} rows)",
            g.members,
            g.path.display(),
            g.db_mib,
            g.rows
        );
        let _ = writeln!(
            s,
            "generation: {:.1} s{} (goal < {GOAL_GENERATE_S} s: {})",
            g.generate_s,
            if g.reused { ", reused file" } else { "" },
            verdict(g.generate_s < GOAL_GENERATE_S)
        );
        let _ = writeln!(
            s,
            "\n{:<16} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8}",
            "operation", "api p50", "api p90", "api p99", "raw p50", "raw p90", "raw p99", "p99 x"
        );
        let row = |s: &mut String, name: &str, p: &Pair, r: f64| {
            let _ = writeln!(
                s,
                "{name:<16} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {r:>8.2}",
                p.api.p50_us, p.api.p90_us, p.api.p99_us, p.raw.p50_us, p.raw.p90_us, p.raw.p99_us
            );
        };
        for (kind, p) in self.kinds() {
            row(
                &mut s,
                &format!("lookup {kind}"),
                &p,
                ratio(p.api.p99_us, p.raw.p99_us),
            );
        }
        row(
            &mut s,
            "checkout",
            &m.checkout,
            ratio(m.checkout.api.p99_us, m.checkout.raw.p99_us),
        );
        let _ = writeln!(
            s,
            "(µs; {} lookups of each kind, {} checkouts of which {} spent points)",
            m.lookup_card.api.n, m.checkout.api.n, m.checkouts_with_spend
        );
        let _ = writeln!(
            s,
            "\nlookup ratio (card p99 / raw p99): {:.2} (goal ≤ {GOAL_LOOKUP_RATIO}: {})",
            self.lookup_ratio(),
            verdict(self.lookup_ratio() <= GOAL_LOOKUP_RATIO)
        );
        let _ = writeln!(
            s,
            "checkout ratio (p50 / raw p50):     {:.2} (goal ≤ {GOAL_CHECKOUT_RATIO}: {})",
            self.checkout_ratio(),
            verdict(self.checkout_ratio() <= GOAL_CHECKOUT_RATIO)
        );
        let _ = writeln!(
            s,
            "RSS: peak {:.0} MiB during measurement{} (goal < {GOAL_RSS_MIB}: {}); {:.0} MiB after \
             Store::open; generation: {:.0} MiB after, {:.0} MiB peak",
            m.peak_rss_mib,
            if self.child_process {
                " (fresh child process)"
            } else {
                ""
            },
            verdict(m.peak_rss_mib < GOAL_RSS_MIB),
            m.rss_open_mib,
            g.rss_after_mib,
            g.peak_rss_mib
        );
        let _ = writeln!(s, "\nwhere a lookup goes (components timed alone):");
        for (name, p) in &m.breakdown.parts {
            let _ = writeln!(
                s,
                "  {name:<58} p50 {:>8.1} µs  p99 {:>8.1} µs",
                p.p50_us, p.p99_us
            );
        }
        let _ = writeln!(s, "query plans:");
        for (name, plan) in &m.breakdown.plans {
            let _ = writeln!(s, "  {name}: {plan}");
        }
        s
    }
}
