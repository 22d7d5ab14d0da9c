//! What a run leaves behind: equity rows and the final totals.

use super::Engine;
use crate::clock::Clock;
use crate::journal::{Entry, EquityPoint, Journal, JournalError, OpenPosition, RunOutcome};
use crate::venue::Venue;

impl<V: Venue, C: Clock, J: Journal> Engine<V, C, J> {
    pub(super) fn record_equity(&mut self) -> Result<(), JournalError> {
        if self.bars == 0 {
            return Ok(());
        }
        let market = &self.market;
        let equity = self.ledger.equity(|s| market.mark(s));
        let cash = self.ledger.cash();
        let point = EquityPoint {
            ts: self.clock.now(),
            cash,
            positions_value: equity - cash,
            equity,
            realized_pnl: self.ledger.realized(),
        };
        self.record(Entry::Equity(&point))
    }

    /// `[skipped rows, rows outside the session, quoteless rows]` come from the source.
    pub(super) fn finish(self, counts: [u64; 3]) -> (RunOutcome, J) {
        let [skipped_rows, bars_outside_session, quoteless_rows] = counts;
        let market = &self.market;
        let final_equity = self.ledger.equity(|s| market.mark(s));
        let open_positions = self
            .ledger
            .open_symbols()
            .filter_map(|s| {
                let mark = self.market.mark(s)?;
                Some(OpenPosition {
                    symbol: s,
                    qty: self.ledger.position(s),
                    avg_price: self.ledger.avg_price(s)?,
                    mark,
                    unrealized_pnl: self.ledger.unrealized(s, mark),
                })
            })
            .collect();
        let outcome = RunOutcome {
            run_id: self.settings.run_id.clone(),
            strategies: self.names,
            bars: self.bars,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            skipped_rows,
            bars_outside_session,
            quoteless_rows,
            orders: self.executor.created(),
            fills: self.fills,
            open_positions,
            initial_cash: self.ledger.initial_cash(),
            final_cash: self.ledger.cash(),
            final_equity,
            fees: self.ledger.fees(),
            realized_pnl: self.ledger.realized(),
            open_lot_fees: self.ledger.open_fees(),
            symbols: self.symbols,
        };
        (outcome, self.journal)
    }
}
