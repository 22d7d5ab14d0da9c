//! The fake on a thread of its own, for synchronous callers (end-to-end tests that run the
//! `lockstep` binary against it). It stops when the handle is dropped or its time limit
//! passes, whichever comes first, so no test leaves a server behind.

use super::{spawn, FakeConfig, FakeError, FakeHandle, FakeStats};
use crate::wire::{Order, Position};
use std::sync::mpsc;
use std::time::Duration;

/// What a fake leaves when it stops.
#[derive(Debug, Clone)]
pub struct FakeEnd {
    /// Its counters.
    pub stats: FakeStats,
    /// Every order it holds, in submission order.
    pub orders: Vec<Order>,
    /// The open positions.
    pub positions: Vec<Position>,
}

/// A fake running on its own thread and runtime.
pub struct FakeThread {
    base_url: String,
    data_stream_url: String,
    stats: mpsc::Receiver<FakeEnd>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeThread {
    /// Starts the fake on 127.0.0.1 (ephemeral port); it serves at most `limit` of real time.
    pub fn start(cfg: FakeConfig, limit: Duration) -> Result<FakeThread, FakeError> {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(String, String), FakeError>>();
        let (stats_tx, stats_rx) = mpsc::channel::<FakeEnd>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(FakeError::Task(e.to_string())));
                    return;
                }
            };
            rt.block_on(async move {
                let handle: FakeHandle = match spawn(cfg).await {
                    Ok(h) => h,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok((handle.base_url(), handle.data_stream_url())));
                let _ = tokio::time::timeout(limit, stop_rx).await;
                let _ = stats_tx.send(FakeEnd {
                    stats: handle.stats(),
                    orders: handle.orders(),
                    positions: handle.positions(),
                });
                handle.shutdown().await;
            });
        });
        let (base_url, data_stream_url) = ready_rx
            .recv()
            .map_err(|e| FakeError::Task(e.to_string()))??;
        Ok(FakeThread {
            base_url,
            data_stream_url,
            stats: stats_rx,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: trading and market-data REST.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The market-data websocket (stocks, IEX path).
    pub fn data_stream_url(&self) -> &str {
        &self.data_stream_url
    }

    /// Stops the fake and returns what it counted.
    pub fn stop(self) -> Option<FakeStats> {
        self.finish().map(|end| end.stats)
    }

    /// Stops the fake and returns its counters, orders and positions.
    pub fn finish(mut self) -> Option<FakeEnd> {
        self.halt();
        self.stats.recv().ok()
    }

    fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FakeThread {
    fn drop(&mut self) {
        self.halt();
    }
}
