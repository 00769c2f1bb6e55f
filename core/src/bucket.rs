//! The byte-exact bucketing rule (algorithm name `xxh3-100k`):
//! `bucket = (XXH3_64(seed 0, salt ++ ":" ++ unit) as u128 × 100 000) >> 64`.
//!
//! It never changes under this name; a new rule needs a new name in the snapshot format.

use alloc::vec::Vec;
use serde_json::Value;

/// Buckets per 100 %: one bucket is 0.001 %.
pub const BUCKETS: u32 = 100_000;

/// Largest integer every host can represent exactly (JavaScript numbers are f64): 2^53.
const MAX_SAFE_INTEGER: i64 = 1 << 53;

/// XXH3-64 (seed 0) of `salt ++ ":" ++ unit`.
pub fn hash(salt: &str, unit: &str) -> u64 {
    let mut prefix = Vec::with_capacity(salt.len() + 1);
    prefix.extend_from_slice(salt.as_bytes());
    prefix.push(b':');
    hash_prefixed(&prefix, unit.as_bytes())
}

/// The bucket in `[0, 100 000)` of a unit under a salt.
pub fn bucket(salt: &str, unit: &str) -> u32 {
    bucket_of_hash(hash(salt, unit))
}

/// Maps a 64-bit hash onto `[0, 100 000)` with integer arithmetic only.
pub fn bucket_of_hash(hash: u64) -> u32 {
    // The product is < 2^64 · 10^5, so the shifted value is < 10^5 and fits in u32.
    ((u128::from(hash) * u128::from(BUCKETS)) >> 64) as u32
}

/// Hashes `prefix ++ unit`, where `prefix` is the salt followed by `:`.
pub(crate) fn hash_prefixed(prefix: &[u8], unit: &[u8]) -> u64 {
    let total = prefix.len() + unit.len();
    let mut stack = [0u8; 256];
    match stack.get_mut(..total) {
        Some(buffer) => {
            let (head, tail) = buffer.split_at_mut(prefix.len());
            head.copy_from_slice(prefix);
            tail.copy_from_slice(unit);
            twox_hash::XxHash3_64::oneshot(buffer)
        }
        None => {
            let mut heap = Vec::with_capacity(total);
            heap.extend_from_slice(prefix);
            heap.extend_from_slice(unit);
            twox_hash::XxHash3_64::oneshot(&heap)
        }
    }
}

/// Why a context value cannot be a bucketing unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitError {
    /// Absent or null.
    Missing,
    /// Not a string or an integral number within ±2^53.
    Unusable,
}

/// A bucketing unit's bytes: a string as UTF-8, an integral number in decimal.
pub(crate) enum UnitBytes<'a> {
    Text(&'a str),
    Integer(itoa_buffer::Buffer),
}

impl UnitBytes<'_> {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            UnitBytes::Text(text) => text.as_bytes(),
            UnitBytes::Integer(buffer) => buffer.as_bytes(),
        }
    }
}

/// Turns a context value into unit bytes following the snapshot format §5.3.
pub(crate) fn unit_bytes(value: Option<&Value>) -> Result<UnitBytes<'_>, UnitError> {
    match value {
        None | Some(Value::Null) => Err(UnitError::Missing),
        Some(Value::String(text)) => Ok(UnitBytes::Text(text)),
        Some(Value::Number(number)) => {
            let integer = if let Some(i) = number.as_i64() {
                i
            } else if let Some(f) = number.as_f64() {
                // `as` saturates; the round trip proves the value is integral.
                let i = f as i64;
                if i as f64 != f {
                    return Err(UnitError::Unusable);
                }
                i
            } else {
                // A u64 above i64::MAX.
                return Err(UnitError::Unusable);
            };
            if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&integer) {
                return Err(UnitError::Unusable);
            }
            Ok(UnitBytes::Integer(itoa_buffer::Buffer::format(integer)))
        }
        Some(_) => Err(UnitError::Unusable),
    }
}

/// A stack buffer holding an `i64` in decimal (no allocation on the hot path).
mod itoa_buffer {
    pub(crate) struct Buffer {
        bytes: [u8; 20],
        start: usize,
    }

    impl Buffer {
        pub(crate) fn format(value: i64) -> Self {
            let mut bytes = [0u8; 20];
            let mut start = bytes.len();
            let mut magnitude = value.unsigned_abs();
            loop {
                start -= 1;
                if let Some(slot) = bytes.get_mut(start) {
                    *slot = b'0' + (magnitude % 10) as u8;
                }
                magnitude /= 10;
                if magnitude == 0 {
                    break;
                }
            }
            if value < 0 {
                start -= 1;
                if let Some(slot) = bytes.get_mut(start) {
                    *slot = b'-';
                }
            }
            Buffer { bytes, start }
        }

        pub(crate) fn as_bytes(&self) -> &[u8] {
            self.bytes.get(self.start..).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use serde_json::json;

    #[test]
    fn bucket_is_in_range_and_matches_manual_formula() {
        for unit in ["", "user-1", "Jürgen", "用户", "🚀"] {
            let h = hash("flag", unit);
            let mut bytes = Vec::new();
            bytes.extend_from_slice(b"flag:");
            bytes.extend_from_slice(unit.as_bytes());
            assert_eq!(h, twox_hash::XxHash3_64::oneshot(&bytes));
            assert!(bucket("flag", unit) < BUCKETS);
        }
        assert_eq!(bucket_of_hash(0), 0);
        assert_eq!(bucket_of_hash(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn long_units_use_the_heap_path_with_the_same_result() {
        let long = "x".repeat(1000);
        let mut bytes = b"s:".to_vec();
        bytes.extend_from_slice(long.as_bytes());
        assert_eq!(hash("s", &long), twox_hash::XxHash3_64::oneshot(&bytes));
    }

    #[test]
    fn units_from_values() {
        let text = |v: Value| unit_bytes(Some(&v)).map(|u| String::from_utf8(u.as_bytes().to_vec()).unwrap());
        assert_eq!(text(json!("abc")), Ok("abc".into()));
        assert_eq!(text(json!(42)), Ok("42".into()));
        assert_eq!(text(json!(-7)), Ok("-7".into()));
        assert_eq!(text(json!(42.0)), Ok("42".into()));
        assert_eq!(text(json!(-0.0)), Ok("0".into()));
        assert_eq!(text(json!(9_007_199_254_740_992_i64)), Ok("9007199254740992".into()));
        assert_eq!(text(json!(9_007_199_254_740_993_i64)).err(), Some(UnitError::Unusable));
        assert_eq!(text(json!(1.5)).err(), Some(UnitError::Unusable));
        assert_eq!(text(json!(true)).err(), Some(UnitError::Unusable));
        assert_eq!(text(json!(u64::MAX)).err(), Some(UnitError::Unusable));
        assert_eq!(unit_bytes(None).err(), Some(UnitError::Missing));
        assert_eq!(text(Value::Null).err(), Some(UnitError::Missing));
    }
}
