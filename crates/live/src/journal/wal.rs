//! Reading the journal's `-wal` file the way SQLite's recovery does, to report the tail it
//! discards: SQLite silently ignores every frame from the first one that is torn or fails its
//! checksum, and every frame after the last commit, so without this scan a damaged log
//! would lose its last transactions without a word.
//!
//! Format (sqlite.org/fileformat2.html, "The Write-Ahead Log"): a 32-byte header (magic,
//! version, page size, checkpoint seq, two salts, a checksum of the first 24 bytes), then
//! frames of a 24-byte header (page number, db size after commit or 0, the two salts, a
//! running checksum) followed by one page. All fields are big-endian; the checksums run over
//! 32-bit words in the byte order the magic's last bit names.

use super::db::{sidecar, unused_path};
use super::error::JournalStoreError;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

const MAGIC: u32 = 0x377f_0682;
const VERSION: u32 = 3_007_000;
const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// A tail of the journal's `-wal` file that SQLite discarded when the journal was opened:
/// torn or corrupt frames, and frames after the last intact commit. Whatever records those
/// transactions held are lost (they are not in the journal any more), and any later commit
/// in the log went with them: SQLite keeps the log only up to the last commit before the
/// first bad frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalTail {
    /// The `-wal` file.
    pub wal: PathBuf,
    /// Bytes of the log SQLite uses: its header and every frame up to the last intact commit.
    pub kept_bytes: u64,
    /// Bytes after those, which SQLite ignores.
    pub discarded_bytes: u64,
    /// Index (from 0) of the first ignored frame.
    pub first_frame: u64,
    /// Why SQLite stops there ("frame 7 fails its checksum", "frame 7 is cut short", ...).
    pub reason: String,
    /// Where a copy of the whole log was kept before the journal was written again (SQLite
    /// overwrites the ignored bytes with the next append); `None` if no copy was made.
    pub copy: Option<PathBuf>,
}

impl WalTail {
    /// One sentence for an [`Integrity`](super::Integrity) reason.
    pub(crate) fn describe(&self) -> String {
        let mut s = format!(
            "the write-ahead log {} was damaged: SQLite ignored its last {} bytes (from byte {}, frame {}: {}), so the transactions in them are lost",
            self.wal.display(),
            self.discarded_bytes,
            self.kept_bytes,
            self.first_frame,
            self.reason
        );
        if let Some(copy) = &self.copy {
            s.push_str(&format!(
                "; a copy of the log is kept as {}",
                copy.display()
            ));
        }
        s
    }
}

/// Scans `<db>-wal` (absent or empty: `None`). `Some` when SQLite discards part of it that
/// belongs to the current log: a bad header, a torn or corrupt frame, or frames after the
/// last commit. Frames left over from before the log last restarted (other salts) are normal
/// and not reported. Must run while no other connection writes the log (under the write
/// lock), else a frame being written looks torn.
pub(crate) fn scan_wal(db: &Path) -> Result<Option<WalTail>, JournalStoreError> {
    let wal = sidecar(db, "-wal");
    let io = |e| JournalStoreError::Io(wal.clone(), e);
    let mut file = match File::open(&wal) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok(None);
    }
    let tail = |kept: u64, frame: u64, reason: String| WalTail {
        wal: wal.clone(),
        kept_bytes: kept,
        discarded_bytes: len.saturating_sub(kept),
        first_frame: frame,
        reason,
        copy: None,
    };
    let mut header = [0u8; HEADER];
    let got = read_full(&mut file, &mut header).map_err(io)?;
    let Some(log) = Header::parse(&header[..got]) else {
        let why = "its header is torn or invalid, so SQLite ignores the whole log".to_string();
        return Ok(Some(tail(0, 0, why)));
    };
    let frame_len = FRAME_HEADER + log.page_size;
    let mut frame = vec![0u8; frame_len];
    let mut sum = log.checksum;
    let mut kept = HEADER as u64;
    let mut kept_frames = 0u64;
    let mut index = 0u64;
    let stop = loop {
        let got = read_full(&mut file, &mut frame).map_err(io)?;
        let offset = HEADER as u64 + index * frame_len as u64;
        if got == 0 {
            break None;
        }
        let ours = got >= 16 && frame[8..16] == header[16..24];
        if got < frame_len {
            break (ours || got < 16).then(|| {
                format!("frame {index} at byte {offset} is cut short, {got} of {frame_len} bytes (a torn write)")
            });
        }
        if !ours {
            // Left over from before the log restarted, unless frames of this log follow.
            break later_frame_of_log(&mut file, &header, frame_len).map_err(io)?.then(|| {
                format!("frame {index} at byte {offset} does not belong to this log, but later frames do")
            });
        }
        sum = checksum(log.big_endian, sum, &frame[..8]);
        sum = checksum(log.big_endian, sum, &frame[FRAME_HEADER..]);
        if be32(&frame[0..4]) == 0 || be32(&frame[16..20]) != sum.0 || be32(&frame[20..24]) != sum.1
        {
            break Some(format!("frame {index} at byte {offset} fails its checksum"));
        }
        index += 1;
        if be32(&frame[4..8]) != 0 {
            kept = offset + frame_len as u64;
            kept_frames = index;
        }
    };
    let uncommitted = index - kept_frames;
    let reason = match (stop, uncommitted) {
        (None, 0) => return Ok(None),
        (None, n) => format!("{n} frame(s) after the last commit were never committed"),
        (Some(why), 0) => why,
        (Some(why), n) => format!("{n} frame(s) after the last commit, then {why}"),
    };
    Ok(Some(tail(kept, kept_frames, reason)))
}

/// Copies the log named in `tail` to a free `<log>.damaged` name and records it in `tail`.
pub(crate) fn keep_copy(tail: &mut WalTail) -> Result<(), JournalStoreError> {
    let copy = unused_path(sidecar(&tail.wal, ".damaged"))?;
    std::fs::copy(&tail.wal, &copy).map_err(|e| JournalStoreError::Io(copy.clone(), e))?;
    tail.copy = Some(copy);
    Ok(())
}

/// The fields of a valid log header SQLite needs.
struct Header {
    big_endian: bool,
    page_size: usize,
    checksum: (u32, u32),
}

impl Header {
    /// `None` unless `b` is a whole header SQLite accepts (magic, version, page size, checksum).
    fn parse(b: &[u8]) -> Option<Header> {
        if b.len() < HEADER || be32(&b[0..4]) & !1 != MAGIC || be32(&b[4..8]) != VERSION {
            return None;
        }
        let big_endian = be32(&b[0..4]) & 1 == 1;
        let page_size = usize::try_from(be32(&b[8..12])).ok()?;
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return None;
        }
        let checksum = checksum(big_endian, (0, 0), &b[..24]);
        (checksum == (be32(&b[24..28]), be32(&b[28..32]))).then_some(Header {
            big_endian,
            page_size,
            checksum,
        })
    }
}

/// True when a later whole frame carries this log's salts (so the frame before it is damage,
/// not a leftover of an older log).
fn later_frame_of_log(file: &mut File, header: &[u8], frame_len: usize) -> std::io::Result<bool> {
    let mut frame = vec![0u8; frame_len];
    loop {
        let got = read_full(file, &mut frame)?;
        if got >= 16 && frame[8..16] == header[16..24] {
            return Ok(true);
        }
        if got < frame_len {
            return Ok(false);
        }
    }
}

/// SQLite's WAL checksum: over 32-bit words, `s0 += w0 + s1; s1 += w1 + s0`.
fn checksum(big_endian: bool, (mut s0, mut s1): (u32, u32), data: &[u8]) -> (u32, u32) {
    for pair in data.chunks_exact(8) {
        let word = |b: &[u8]| {
            let w = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(w)
            } else {
                u32::from_le_bytes(w)
            }
        };
        s0 = s0.wrapping_add(word(&pair[0..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..8])).wrapping_add(s0);
    }
    (s0, s1)
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
