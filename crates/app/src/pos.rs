//! The cashier's operations (and the owner's adjustment), each a few lines over the store.
//! Every write takes the UI's op id, so a retried or double-pressed action is applied once.

use chrono::{DateTime, Duration, Utc};
use loyalty_cards::{qr, VirtualCard};
use loyalty_store::{
    Adjusted, CheckoutRequest, CustomerHit, CustomerView, History, NewCustomer, Receipt,
    ReturnReceipt, ReturnRequest, SaleLookup, Store,
};
use loyalty_sync::Transport;
use loyalty_wire::ReservationRequest;
use uuid::Uuid;

use crate::dto::*;
use crate::error::{AppError, AppResult};
use crate::offers::offer_for;
use crate::TillApp;

/// How long a virtual-card QR stays valid.
pub const VIRTUAL_CARD_DAYS: i64 = 365;
/// Most name-search hits shown.
const SEARCH_LIMIT: u32 = 20;

fn op(id: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id.trim())
        .map_err(|_| AppError::invalid(format!("operation id {id:?} is not a UUID")))
}

fn panel(st: &Store, v: CustomerView, now: DateTime<Utc>) -> CustomerPanel {
    let offer = offer_for(&v, st.program_at(now), now);
    CustomerPanel {
        customer_id: v.customer.id,
        account_id: v.account_id,
        name: v.customer.name,
        phone: v.customer.phone,
        email: v.customer.email,
        birthday: v.customer.birthday,
        card: v.card,
        cards: v.cards,
        tier: v.tier,
        balance: v.balance,
        lifetime_spend: v.lifetime_spend,
        lifetime_purchases: v.lifetime_purchases,
        stamps: v.stamps,
        club_until: v.club_until,
        birthday_window: v.birthday_window,
        offer,
        marketing_consent: v.customer.marketing_consent,
        preferred_channel: v.customer.preferred_channel,
    }
}

fn virtual_card(
    signer: &loyalty_cards::QrSigner,
    card: &str,
    now: DateTime<Utc>,
) -> AppResult<VirtualCardView> {
    let card = loyalty_cards::card::normalize(card)?;
    let vc = VirtualCard {
        card: card.clone(),
        issued_at: now,
        expires_at: now + Duration::days(VIRTUAL_CARD_DAYS),
    };
    let payload = signer.sign(&vc);
    Ok(VirtualCardView {
        qr_svg: qr::render_svg(&payload)?,
        qr_payload: payload,
        card,
        expires_at: vc.expires_at,
    })
}

impl TillApp {
    /// A card barcode, a virtual-card QR payload or a phone number.
    pub fn scan(&self, input: &str) -> AppResult<CustomerPanel> {
        self.require_session()?;
        let input = input.trim();
        if input.is_empty() {
            return Err(AppError::invalid("scan a card or type a phone number"));
        }
        self.with_store(|st, now, _| {
            let v = st.lookup(input, now)?;
            Ok(panel(st, v, now))
        })
    }

    /// Customers whose name starts with `query`.
    pub fn search(&self, query: &str) -> AppResult<Vec<CustomerHit>> {
        self.require_session()?;
        self.with_store(|st, _, _| Ok(st.search_name(query, SEARCH_LIMIT)?))
    }

    pub fn customer(&self, customer_id: i64) -> AppResult<CustomerPanel> {
        self.require_session()?;
        self.with_store(|st, now, _| {
            let v = st.customer(customer_id, now)?;
            Ok(panel(st, v, now))
        })
    }

    /// The most points that may be spent now: available, capped offline by the owner's
    /// offline limit.
    fn spend_limit(&self, st: &Store, available: i64, now: DateTime<Utc>) -> (i64, bool) {
        let offline = !self.is_online();
        let limit = if offline {
            available.min(st.program_at(now).offline_spend_limit)
        } else {
            available
        };
        (limit.max(0), offline)
    }

    pub fn quote(&self, req: QuoteRequest) -> AppResult<QuoteView> {
        self.require_session()?;
        self.with_store(|st, now, _| {
            let quote = st.quote(&req.card, &req.basket, req.spend, now)?;
            let available = st.lookup(&req.card, now)?.balance.available;
            let (limit, offline) = self.spend_limit(st, available, now);
            Ok(QuoteView {
                spend_limit: limit.min(quote.max_redeemable),
                quote,
                available,
                offline,
            })
        })
    }

    /// Commits the sale. Spending online is two-phase: the server reserves the points first
    /// (so two tills cannot spend the same points; `INSUFFICIENT_POINTS` when another till
    /// did), the sale fact then names the reservation and the server consumes it; a failed
    /// sale voids it. Offline (or when the server cannot be reached) the till spends from its
    /// known balance, capped by the owner's offline limit (`OFFLINE_SPEND_LIMIT`). The store
    /// enforces the program's own caps either way.
    pub async fn checkout(&self, req: CheckoutInput) -> AppResult<Receipt> {
        self.require_session()?;
        let op_id = op(&req.op_id)?;
        let (card, transport) = self
            .with_store(|st, now, o| Ok((st.lookup(&req.card, now)?.card, o.transport.clone())))?;
        let mut reservation = None;
        if req.spend > 0 && self.is_online() {
            let ask = ReservationRequest {
                op_id,
                card: card.clone(),
                points: req.spend,
            };
            match transport.reserve(ask).await {
                Ok(r) => reservation = Some(r.reservation_id),
                Err(e) if e.is_offline() => {}
                Err(e) => return Err(e.into()),
            }
        }
        let result = self.with_store(|st, now, _| {
            if req.spend > 0 && reservation.is_none() {
                let available = st.lookup(&card, now)?.balance.available;
                let limit = available.min(st.program_at(now).offline_spend_limit).max(0);
                if req.spend > limit {
                    return Err(AppError::new(
                        "OFFLINE_SPEND_LIMIT",
                        format!(
                            "offline, at most {limit} points may be spent on this check \
                             (owner's offline limit {}); spend fewer or wait for the connection",
                            st.program_at(now).offline_spend_limit
                        ),
                    ));
                }
            }
            let request = CheckoutRequest {
                card: card.clone(),
                basket: req.basket.clone(),
                spend: req.spend,
                receipt: None,
            };
            Ok(st.checkout_reserved(op_id, request, reservation, now)?)
        });
        match result {
            Ok(receipt) => {
                self.after_local_write()?;
                Ok(receipt)
            }
            Err(e) => {
                if let Some(id) = reservation {
                    if let Err(v) = transport.void(id).await {
                        tracing::warn!("reservation {id} not voided ({v}); it expires by itself");
                    }
                }
                Err(e)
            }
        }
    }

    pub fn find_sale(&self, receipt_no: &str) -> AppResult<SaleLookup> {
        self.require_session()?;
        self.with_store(|st, _, _| Ok(st.sale_by_receipt(receipt_no)?))
    }

    pub fn return_sale(&self, req: ReturnInput) -> AppResult<ReturnReceipt> {
        self.require_session()?;
        let op_id = op(&req.op_id)?;
        let r = self.with_store(|st, now, _| {
            let request = ReturnRequest {
                receipt_no: req.receipt_no.clone(),
                items: req.items.clone(),
            };
            Ok(st.return_sale(op_id, request, now)?)
        })?;
        self.after_local_write()?;
        Ok(r)
    }

    /// Enrols a member and gives them a card number and its virtual-card QR.
    pub fn enrol(&self, req: EnrolInput) -> AppResult<EnrolView> {
        self.require_session()?;
        let op_id = op(&req.op_id)?;
        let blank = |s: Option<String>| s.map(|x| x.trim().to_string()).filter(|x| !x.is_empty());
        let view = self.with_store(|st, now, o| {
            let c = NewCustomer {
                name: req.name.trim().to_string(),
                phone: blank(req.phone.clone()),
                email: blank(req.email.clone()),
                birthday: req.birthday,
                preferred_channel: req.preferred_channel,
                marketing_consent: req.marketing_consent,
                referrer: blank(req.referrer.clone()),
                ..NewCustomer::default()
            };
            if c.name.is_empty() {
                return Err(AppError::invalid("the customer's name is required"));
            }
            let e = st.enrol(op_id, c, now)?;
            Ok(EnrolView {
                customer_id: e.customer_id,
                account_id: e.account_id,
                virtual_card: virtual_card(&o.signer, &e.card, now)?,
                card: e.card,
                welcome_points: e.welcome_points,
            })
        })?;
        self.after_local_write()?;
        Ok(view)
    }

    /// The virtual-card QR of a card (to show or re-send).
    pub fn virtual_card(&self, card: &str) -> AppResult<VirtualCardView> {
        self.require_session()?;
        self.with_store(|st, now, o| {
            let v = st.lookup(card, now)?;
            virtual_card(&o.signer, &v.card, now)
        })
    }

    /// Lost card: blocks it and moves the account to a new card.
    pub fn reissue(&self, req: ReissueInput) -> AppResult<Reissued> {
        self.require_session()?;
        let op_id = op(&req.op_id)?;
        let r = self.with_store(|st, now, _| {
            let old = loyalty_cards::card::normalize(&req.card)?;
            let new_card = st.block_card_and_reissue(op_id, &old, now)?;
            Ok(Reissued {
                old_card: old,
                new_card,
            })
        })?;
        self.after_local_write()?;
        Ok(r)
    }

    pub fn history(&self, customer_id: i64) -> AppResult<History> {
        self.require_session()?;
        self.with_store(|st, _, _| Ok(st.history(customer_id)?))
    }

    /// Owner only: corrects a balance with a reason; the owner's name is the author.
    pub fn adjust(&self, req: AdjustInput) -> AppResult<Adjusted> {
        let who = self.require_owner("adjust a balance")?;
        let op_id = op(&req.op_id)?;
        let a = self.with_store(|st, now, _| {
            let account = st.customer(req.customer_id, now)?.account_id;
            Ok(st.adjust(op_id, account, req.points, &req.reason, &who.name, now)?)
        })?;
        self.after_local_write()?;
        Ok(a)
    }
}
