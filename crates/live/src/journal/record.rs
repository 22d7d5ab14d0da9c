//! What the journal holds: [`Record`]s of a [`RecordKind`], and the chained checksum that
//! seals each one ([`record_checksum`]).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// One journaled thing, as read back from the store.
///
/// `seq` is assigned by the store on append: 1, 2, 3... with no gaps. A record returned by
/// [`JournalReader::read_all`](super::JournalReader::read_all) has had its checksum and its
/// chain link to the previous record verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the journal, starting at 1, contiguous.
    pub seq: u64,
    /// UnixNanos of the engine clock when the record was made.
    pub ts: i64,
    /// What the record is.
    pub kind: RecordKind,
    /// JSON text, opaque to the store (stored and checksummed byte for byte).
    pub body: String,
}

/// The kind of a record, stored as its snake_case text ([`RecordKind::as_str`]).
///
/// Input kinds ([`RecordKind::is_input`]) are what the loop consumed; the rest are what the
/// engine decided or observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A bar as delivered to the loop (input).
    Bar,
    /// A correction of an earlier bar.
    Correction,
    /// An order/fill report from the venue (input).
    VenueReport,
    /// A clock timer that fired (input).
    Timer,
    /// An external signal, e.g. a webhook (input).
    Signal,
    /// An operator command (input).
    Command,
    /// An order intent, durable before its request leaves the process.
    Intent,
    /// A request sent to the venue.
    Request,
    /// The venue's answer to a request.
    Response,
    /// A decision of the engine (risk, exits, EOD, reconciliation...).
    Decision,
    /// An alert raised for an operator.
    Alert,
    /// Raw bytes/text kept for forensics.
    Raw,
    /// Session lifecycle (start, stop, restart, reconciliation done...).
    Session,
}

impl RecordKind {
    /// Every kind, in declaration order.
    pub const ALL: [RecordKind; 13] = [
        RecordKind::Bar,
        RecordKind::Correction,
        RecordKind::VenueReport,
        RecordKind::Timer,
        RecordKind::Signal,
        RecordKind::Command,
        RecordKind::Intent,
        RecordKind::Request,
        RecordKind::Response,
        RecordKind::Decision,
        RecordKind::Alert,
        RecordKind::Raw,
        RecordKind::Session,
    ];

    /// The snake_case text stored in the `kind` column (and fed to the checksum).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Bar => "bar",
            RecordKind::Correction => "correction",
            RecordKind::VenueReport => "venue_report",
            RecordKind::Timer => "timer",
            RecordKind::Signal => "signal",
            RecordKind::Command => "command",
            RecordKind::Intent => "intent",
            RecordKind::Request => "request",
            RecordKind::Response => "response",
            RecordKind::Decision => "decision",
            RecordKind::Alert => "alert",
            RecordKind::Raw => "raw",
            RecordKind::Session => "session",
        }
    }

    /// The kind whose [`as_str`](Self::as_str) is exactly `s`; `None` for anything else
    /// (no case folding, no trimming).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// True for what the loop consumes: `Bar`, `VenueReport`, `Timer`, `Signal`, `Command`.
    pub fn is_input(self) -> bool {
        matches!(
            self,
            RecordKind::Bar
                | RecordKind::VenueReport
                | RecordKind::Timer
                | RecordKind::Signal
                | RecordKind::Command
        )
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record to append. The store assigns `seq` and the checksum on append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    /// UnixNanos of the engine clock.
    pub ts: i64,
    /// What the record is.
    pub kind: RecordKind,
    /// JSON text, opaque to the store.
    pub body: String,
}

impl NewRecord {
    /// A record to append with this time, kind and body.
    pub fn new(ts: i64, kind: RecordKind, body: impl Into<String>) -> Self {
        NewRecord {
            ts,
            kind,
            body: body.into(),
        }
    }
}

/// The checksum stored with a record: lowercase hex (32 characters) of the first 16 bytes of
/// sha256 over `prev ++ "\n" ++ seq ++ "\n" ++ ts ++ "\n" ++ kind ++ "\n" ++ body`, where
/// `prev` is the previous record's checksum text (empty for seq 1) and numbers are decimal.
///
/// Because `prev` is part of the input, this is both a per-record checksum and a hash chain:
/// changing or deleting any record breaks every later link.
pub fn record_checksum(prev: &str, seq: u64, ts: i64, kind: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(ts.to_string().as_bytes());
    h.update(b"\n");
    h.update(kind.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    let digest = h.finalize();
    to_hex(&digest[..16])
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_text() {
        for k in RecordKind::ALL {
            assert_eq!(RecordKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).ok(),
                Some(format!("\"{}\"", k.as_str()))
            );
        }
        assert_eq!(RecordKind::parse("Bar"), None);
        assert_eq!(RecordKind::parse(""), None);
    }

    #[test]
    fn input_kinds() {
        let inputs: Vec<_> = RecordKind::ALL
            .into_iter()
            .filter(|k| k.is_input())
            .collect();
        assert_eq!(
            inputs,
            [
                RecordKind::Bar,
                RecordKind::VenueReport,
                RecordKind::Timer,
                RecordKind::Signal,
                RecordKind::Command
            ]
        );
    }

    #[test]
    fn checksum_is_sha256_prefix_over_the_documented_text() {
        let c = record_checksum("", 1, 5, "bar", "{}");
        let full = Sha256::digest(b"\n1\n5\nbar\n{}");
        assert_eq!(c, to_hex(&full[..16]));
        assert_eq!(c.len(), 32);
        assert!(c
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        // The chain: the same record after a different predecessor has another checksum.
        assert_ne!(
            record_checksum(&c, 2, 5, "bar", "{}"),
            record_checksum("x", 2, 5, "bar", "{}")
        );
    }
}
