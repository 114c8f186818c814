//! Sales without a loyalty card and NPS answers at the till: recorded in the store at
//! once (offline too) and sent by the sync engine (`loyalty_sync` side records), so the
//! owner's card share, non-member average check, ROI and NPS count what the till sold.

use uuid::Uuid;

use crate::dto::{AnonymousReceipt, AnonymousSaleInput, NpsInput};
use crate::error::{AppError, AppResult};
use crate::TillApp;

fn uuid(what: &str, id: &str) -> AppResult<String> {
    Uuid::parse_str(id.trim())
        .map(|u| u.to_string())
        .map_err(|_| AppError::invalid(format!("{what} {id:?} is not a UUID")))
}

impl TillApp {
    /// Records a sale to a customer without a card (cashier or owner). A retried `op_id`
    /// returns the same receipt.
    pub fn sell_without_card(&self, req: AnonymousSaleInput) -> AppResult<AnonymousReceipt> {
        self.require_session()?;
        let op_id = uuid("operation id", &req.op_id)?;
        if req.amount <= 0 {
            return Err(AppError::invalid("enter the amount of the check"));
        }
        let r =
            self.with_store(|st, now, _| Ok(st.record_anonymous_sale(&op_id, req.amount, now)?))?;
        self.after_local_write()?;
        Ok(AnonymousReceipt {
            receipt_no: r.receipt_no,
            amount: r.amount,
            sold_at: r.recorded_at,
        })
    }

    /// Records the customer's 0–10 answer to "would you recommend us?".
    pub fn nps_answer(&self, req: NpsInput) -> AppResult<()> {
        self.require_session()?;
        let id = uuid("answer id", &req.id)?;
        let sale = req
            .sale_op_id
            .as_deref()
            .map(|s| uuid("sale operation id", s))
            .transpose()?;
        if req.score > 10 {
            return Err(AppError::invalid("the answer is a score from 0 to 10"));
        }
        self.with_store(|st, now, _| {
            st.record_nps(&id, sale.as_deref(), req.score, now)?;
            Ok(())
        })?;
        self.after_local_write()
    }
}
