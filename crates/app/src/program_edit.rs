//! The owner's program settings (issue 6 §1): the published versions, a draft checked and
//! previewed locally with the same domain code the till uses at checkout
//! (`ProgramConfig::problems`, `loyalty_domain::quote`), and publishing it to the server
//! with an effective-from time (`POST /api/v1/program`); every till, this one included,
//! receives it through sync. Owner only (`FORBIDDEN` for a cashier).
//!
//! The draft is kept in `owner/program-draft.json` in the data folder (0600) whenever the
//! UI saves it and before every publish, so an owner who is offline loses nothing; a
//! successful publish removes it.

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use loyalty_domain::TierWindow;
use loyalty_domain::{quote, CustomerSnapshot, ProgramConfig, Quote, RuleError, TierBasis};
use loyalty_wire::{ProgramVersions, PublishProgramRequest};

use crate::dto::{
    FieldError, PreviewDiff, PreviewSide, ProgramCheck, ProgramCurrent, ProgramDraft,
    ProgramVersionView, SampleCheck, SavedProgramDraft,
};
use crate::error::{AppError, AppResult};
use crate::{lock, settings, TillApp};

const DRAFT_DIR: &str = "owner";
const DRAFT_FILE: &str = "program-draft.json";
/// How far in the past an effective-from time may be (the minutes between opening the
/// screen, where "now" was picked, and confirming).
pub const EFFECTIVE_FROM_GRACE_MINUTES: i64 = 60;
/// The code of a setting the domain refuses.
pub const INVALID_CONFIG: &str = "INVALID_CONFIG";
/// The code of an effective-from time too far in the past.
pub const EFFECTIVE_IN_PAST: &str = "EFFECTIVE_IN_PAST";

/// Every invalid setting of `config` and of the effective-from time, checked at `now`.
pub fn field_errors(
    config: &ProgramConfig,
    effective_from: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = config
        .problems()
        .into_iter()
        .map(|e| match e {
            RuleError::InvalidConfig { field, reason } => FieldError {
                field,
                code: INVALID_CONFIG.into(),
                message: reason,
            },
            other => FieldError {
                field: String::new(),
                code: other.code().into(),
                message: other.to_string(),
            },
        })
        .collect();
    if effective_from.is_some_and(|t| t < now - Duration::minutes(EFFECTIVE_FROM_GRACE_MINUTES)) {
        out.push(FieldError {
            field: "effective_from".into(),
            code: EFFECTIVE_IN_PAST.into(),
            message: "must not be in the past: sales already made keep their program".into(),
        });
    }
    out
}

/// The sample customer under `p`: the owner's figures, lifted to the threshold of the
/// chosen tier (as `p` measures it) when one is chosen.
pub fn sample_customer(s: &SampleCheck, p: &ProgramConfig, now: DateTime<Utc>) -> CustomerSnapshot {
    let spend = s.lifetime_spend.max(0);
    let mut c = CustomerSnapshot {
        available: s.available.max(0),
        lifetime_spend: spend,
        window_spend: spend,
        stamps: s.stamps,
        birthday: s.birthday.then(|| now.date_naive()),
        club_until: s.club.then(|| now + Duration::days(30)),
        ..CustomerSnapshot::default()
    };
    let tier = s
        .tier_code
        .as_deref()
        .and_then(|code| p.tier_index(code))
        .map(|i| p.tiers.levels[i].threshold.max(0));
    if let Some(t) = tier {
        let count = u32::try_from(t).unwrap_or(u32::MAX);
        match (p.tiers.basis, p.tiers.window) {
            (TierBasis::Spend, TierWindow::Lifetime) => c.lifetime_spend = t,
            (TierBasis::Spend, TierWindow::RollingDays(_)) => c.window_spend = t,
            (TierBasis::Purchases, _) => {
                c.lifetime_purchases = count;
                c.window_purchases = count;
            }
        }
    }
    c
}

fn side(p: &ProgramConfig, s: &SampleCheck, now: DateTime<Utc>) -> PreviewSide {
    let c = sample_customer(s, p, now);
    match quote(&c, &s.basket, p, now, 0) {
        Ok(q) => PreviewSide {
            version: p.version,
            quote: Some(q),
            error: None,
        },
        Err(e) => PreviewSide {
            version: p.version,
            quote: None,
            error: Some(AppError::new(e.code(), e.to_string())),
        },
    }
}

fn diff(d: &Quote, c: &Quote) -> PreviewDiff {
    PreviewDiff {
        discount_total: d.discount_total.saturating_sub(c.discount_total),
        earn_total: d.earn_total.saturating_sub(c.earn_total),
        max_redeemable: d.max_redeemable.saturating_sub(c.max_redeemable),
        to_pay: d.to_pay.saturating_sub(c.to_pay),
    }
}

/// The check of a draft against the version in force `current`, at `now`: pure.
pub fn check(draft: &ProgramDraft, current: &ProgramConfig, now: DateTime<Utc>) -> ProgramCheck {
    let errors = field_errors(&draft.config, draft.effective_from, now);
    let d = side(&draft.config, &draft.sample, now);
    let c = side(current, &draft.sample, now);
    let diff = match (&d.quote, &c.quote) {
        (Some(dq), Some(cq)) => Some(diff(dq, cq)),
        _ => None,
    };
    ProgramCheck {
        errors,
        draft: d,
        current: c,
        diff,
    }
}

/// The version in force at `now` among `(version, effective_from)`: the highest version
/// already effective, else the one effective first (the store's rule).
fn in_force(list: &[(u32, DateTime<Utc>)], now: DateTime<Utc>) -> u32 {
    let effective = list
        .iter()
        .filter(|(_, from)| *from <= now)
        .map(|(v, _)| *v)
        .max();
    let first = || list.iter().min_by_key(|(v, from)| (*from, *v)).map(|x| x.0);
    effective.or_else(first).unwrap_or(1)
}

impl TillApp {
    fn draft_path(&self) -> PathBuf {
        self.data_dir.join(DRAFT_DIR).join(DRAFT_FILE)
    }

    fn load_draft(&self) -> Option<SavedProgramDraft> {
        let bytes = std::fs::read(self.draft_path()).ok()?;
        serde_json::from_slice(&bytes)
            .map_err(|e| tracing::warn!("program draft unreadable: {e}"))
            .ok()
    }

    fn write_draft(&self, draft: ProgramDraft) -> AppResult<SavedProgramDraft> {
        let saved = SavedProgramDraft {
            draft,
            saved_at: Utc::now(),
        };
        let bytes = serde_json::to_vec_pretty(&saved).map_err(|e| AppError::io("draft", e))?;
        std::fs::create_dir_all(self.data_dir.join(DRAFT_DIR))
            .map_err(|e| AppError::io("creating the owner folder", e))?;
        settings::write_private(&self.draft_path(), &bytes)?;
        Ok(saved)
    }

    /// The till's stored versions and the clock.
    fn local_programs(&self) -> AppResult<(Vec<ProgramConfig>, DateTime<Utc>)> {
        self.with_store(|st, now, _| Ok((st.program_versions().to_vec(), now)))
    }

    /// The program versions from the server; offline, this till's own copies (what it
    /// received through sync). With the owner's saved draft, if any.
    pub async fn program_current(&self) -> AppResult<ProgramCurrent> {
        let api = self.owner_api("see the program settings")?;
        let (local, now) = self.local_programs()?;
        let local_view = |p: &ProgramConfig| ProgramVersionView {
            version: p.version,
            effective_from: p.effective_from,
            created_at: None,
            in_force: false,
            config: p.clone(),
        };
        let (mut versions, offline, error) = match api
            .get_json::<ProgramVersions>("/api/v1/program", &[])
            .await
        {
            Ok(server) => {
                // The built-in version 1 is not on the server; it is in force until the
                // first published version takes over.
                let mut v: Vec<ProgramVersionView> = local
                    .iter()
                    .filter(|p| !server.versions.iter().any(|s| s.version == p.version))
                    .map(local_view)
                    .collect();
                v.extend(server.versions.into_iter().map(|s| ProgramVersionView {
                    version: s.version,
                    effective_from: s.effective_from,
                    created_at: Some(s.created_at),
                    in_force: false,
                    config: s.config,
                }));
                (v, false, None)
            }
            Err(e) if e.is_offline() => {
                (local.iter().map(local_view).collect(), true, Some(e.into()))
            }
            Err(e) => return Err(e.into()),
        };
        versions.sort_by_key(|v| v.version);
        let list: Vec<(u32, DateTime<Utc>)> = versions
            .iter()
            .map(|v| (v.version, v.effective_from))
            .collect();
        let current = in_force(&list, now);
        for v in &mut versions {
            v.in_force = v.version == current;
        }
        Ok(ProgramCurrent {
            versions,
            in_force: current,
            offline,
            error,
            draft: self.load_draft(),
        })
    }

    /// Checks a draft: every invalid setting, and the sample check quoted under the draft
    /// and under the version in force on this till now. Local; nothing is written.
    pub fn program_check(&self, mut draft: ProgramDraft) -> AppResult<ProgramCheck> {
        self.require_owner("check the program settings")?;
        let (current, next, now) = self.with_store(|st, now, _| {
            let next = st.program_versions().iter().map(|p| p.version).max();
            Ok((st.program_at(now).clone(), next.unwrap_or(1) + 1, now))
        })?;
        // The server numbers a published version; preview it under the next number.
        draft.config.version = next;
        Ok(check(&draft, &current, now))
    }

    /// Keeps the draft in the data folder (the settings screen saves as the owner edits).
    pub fn program_save_draft(&self, draft: ProgramDraft) -> AppResult<SavedProgramDraft> {
        self.require_owner("edit the program settings")?;
        self.write_draft(draft)
    }

    /// Forgets the saved draft.
    pub fn program_discard_draft(&self) -> AppResult<()> {
        self.require_owner("edit the program settings")?;
        match std::fs::remove_file(self.draft_path()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(AppError::io("removing the program draft", e)),
        }
    }

    /// Publishes the draft on the server, in force from its effective-from time (none =
    /// now). The draft is kept first; a refused or unreachable publish keeps it
    /// (`INVALID_PROGRAM` with the settings, or the server's code such as
    /// `NET_UNREACHABLE`), a published one removes it.
    pub async fn program_publish(&self, draft: ProgramDraft) -> AppResult<ProgramVersionView> {
        let api = self.owner_api("publish the program")?;
        self.write_draft(draft.clone())?;
        let (_, now) = self.local_programs()?;
        let errors = field_errors(&draft.config, draft.effective_from, now);
        if !errors.is_empty() {
            let list: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            return Err(AppError::new("INVALID_PROGRAM", list.join("; ")));
        }
        let req = PublishProgramRequest {
            effective_from: draft.effective_from.unwrap_or(now),
            config: draft.config,
        };
        let info: loyalty_wire::ProgramVersionInfo =
            match api.post_json("/api/v1/program", &req).await {
                Ok(info) => info,
                Err(e) if e.is_offline() => {
                    return Err(AppError::new(
                        e.code(),
                        format!(
                            "{e}: nothing was published; the draft is kept on this till, \
                             publish again when the server is reachable"
                        ),
                    ))
                }
                Err(e) => return Err(e.into()),
            };
        if let Err(e) = self.program_discard_draft() {
            tracing::warn!("published, but the draft stays: {e}");
        }
        if let Some(h) = lock(&self.sync).as_ref() {
            h.nudge();
        }
        tracing::info!(
            "program version {} published, in force from {}",
            info.version,
            info.effective_from
        );
        Ok(ProgramVersionView {
            version: info.version,
            effective_from: info.effective_from,
            created_at: Some(info.created_at),
            in_force: info.effective_from <= now,
            config: info.config,
        })
    }
}

#[cfg(test)]
#[path = "program_edit_tests.rs"]
mod tests;
