//! Deterministic ids that look like UUIDv4: a counter mixed by splitmix64, with the version
//! and variant bits set. The same run always hands out the same ids.

use sha2::{Digest, Sha256};

/// Id kinds (each kind has its own sequence space).
pub(crate) const ORDER: u64 = 1;
/// Execution ids of fills.
pub(crate) const EXECUTION: u64 = 2;
/// Client order ids the server generates when the client sends none.
pub(crate) const CLIENT: u64 = 3;
/// The account id.
pub(crate) const ACCOUNT: u64 = 4;

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn format_uuid(hi: u64, lo: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        0x8000 | ((lo >> 48) & 0x3fff),
        lo & 0xffff_ffff_ffff
    )
}

/// The `n`-th id of `kind`.
pub(crate) fn uuid_like(kind: u64, n: u64) -> String {
    let hi = splitmix64(kind.wrapping_mul(0x1000_0000_0000_0001) ^ n);
    let lo = splitmix64(hi ^ 0xD1B5_4A32_D192_ED03);
    format_uuid(hi, lo)
}

/// A stable asset id for a symbol.
pub(crate) fn asset_id(symbol: &str) -> String {
    let d = Sha256::digest(symbol.as_bytes());
    let mut hi = [0u8; 8];
    let mut lo = [0u8; 8];
    hi.copy_from_slice(&d[0..8]);
    lo.copy_from_slice(&d[8..16]);
    format_uuid(u64::from_be_bytes(hi), u64::from_be_bytes(lo))
}

/// True for the canonical 8-4-4-4-12 hex form of a UUID.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_uuid_v4_and_repeat() {
        let a = uuid_like(ORDER, 1);
        assert!(is_uuid(&a), "{a}");
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_eq!(a, uuid_like(ORDER, 1));
        assert_ne!(a, uuid_like(ORDER, 2));
        assert_ne!(a, uuid_like(EXECUTION, 1));
        assert!(is_uuid(&asset_id("SPY")));
        assert!(!is_uuid("not-a-uuid"));
    }
}
