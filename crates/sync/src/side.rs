//! Side records: sales without a card and NPS answers (`loyalty_store::side`), sent after
//! the outbox in each cycle. The server is idempotent on their ids, so a lost answer only
//! means they are sent again; they are marked sent when the server answered.

use loyalty_wire::{AnonymousSale, AnonymousSalesRequest, NpsRequest};
use uuid::Uuid;

use crate::error::{SyncError, TransportError};
use crate::syncer::{CycleReport, Syncer};

/// Sales without a card per request (the server's maximum is 1 000).
const SALES_BATCH: u32 = 500;
/// NPS answers sent per cycle (one request each).
const NPS_PER_CYCLE: u32 = 100;

fn uuid(s: &str) -> Result<Uuid, SyncError> {
    Uuid::parse_str(s).map_err(|e| {
        SyncError::Transport(TransportError::Config(format!("side record id {s:?}: {e}")))
    })
}

impl Syncer {
    /// Sends every unsent sale without a card and up to [`NPS_PER_CYCLE`] NPS answers.
    pub(crate) async fn send_side_records(
        &self,
        report: &mut CycleReport,
    ) -> Result<(), SyncError> {
        loop {
            let sales = self
                .store
                .run(|s| s.unsent_anonymous_sales(SALES_BATCH))
                .await?;
            if sales.is_empty() {
                break;
            }
            let req = AnonymousSalesRequest {
                sales: sales
                    .iter()
                    .map(|r| {
                        Ok(AnonymousSale {
                            op_id: uuid(&r.op_id)?,
                            receipt_no: r.receipt_no.clone(),
                            amount: r.amount,
                            recorded_at: r.recorded_at,
                        })
                    })
                    .collect::<Result<_, SyncError>>()?,
            };
            if self.transport.anonymous_sales(req).await?.is_none() {
                return Ok(()); // this transport does not carry them
            }
            let ids: Vec<String> = sales.into_iter().map(|r| r.op_id).collect();
            report.side_sent += ids.len();
            let now = (self.config.clock)();
            self.store
                .run(move |s| s.mark_anonymous_sales_sent(&ids, now))
                .await?;
        }
        let answers = self.store.run(|s| s.unsent_nps(NPS_PER_CYCLE)).await?;
        for a in answers {
            let req = NpsRequest {
                id: uuid(&a.id)?,
                op_id: a.sale_op_id.as_deref().map(uuid).transpose()?,
                score: i64::from(a.score),
                recorded_at: Some(a.recorded_at),
            };
            if self.transport.nps(req).await?.is_none() {
                return Ok(());
            }
            report.side_sent += 1;
            let now = (self.config.clock)();
            self.store.run(move |s| s.mark_nps_sent(&a.id, now)).await?;
        }
        Ok(())
    }
}
