//! `report_hash`: sha256 over the canonical bytes of the CSV twins and summary.json.

use sha2::{Digest, Sha256};

/// Hashes `(name, bytes)` parts in the given order; each part is framed by its name and
/// length so no two different sets of files hash alike. Lower-case hex.
pub fn report_hash<'a>(parts: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut h = Sha256::new();
    for (name, bytes) in parts {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_separates_names_and_contents() {
        let a = report_hash([("a", b"bc".as_slice())]);
        let b = report_hash([("ab", b"c".as_slice())]);
        assert_ne!(a, b);
        assert_eq!(a, report_hash([("a", b"bc".as_slice())]));
        assert_eq!(a.len(), 64);
    }
}
