//! `report_hash`: sha256 over the per-file sha256 digests of summary.json (without its
//! hash) and the CSV twins, in a fixed order.

use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Combines `(file name, file sha256 hex)` pairs, in the given order, into the run's hash:
/// sha256 of the lines `<name>\t<digest>\n`.
pub fn report_hash<'a>(parts: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut h = Sha256::new();
    for (name, digest) in parts {
        h.update(name.as_bytes());
        h.update(b"\t");
        h.update(digest.as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// A writer that hashes every byte it passes on.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The inner writer and the hex digest of everything written.
    pub fn finish(self) -> (W, String) {
        (self.inner, hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_digest_equals_one_shot_and_order_matters() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        let (bytes, d) = w.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(d, sha256_hex(b"abc"));
        let a = report_hash([("x", "1"), ("y", "2")]);
        assert_ne!(a, report_hash([("y", "2"), ("x", "1")]));
        assert_eq!(a.len(), 64);
    }
}
