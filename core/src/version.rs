//! Semantic versions for the `semver*` operators: SemVer 2.0 with missing minor and patch
//! padded (`2.1` → `2.1.0`), compared by precedence (build metadata ignored).

use alloc::string::String;
use core::cmp::Ordering;

pub(crate) use semver::Version;

/// Parses `1.2.3-rc.1+build`, `1.2` or `1`; no leading `v`.
pub(crate) fn parse(text: &str) -> Option<Version> {
    let core_end = text.find(['-', '+']).unwrap_or(text.len());
    let (numbers, suffix) = text.split_at(core_end);
    let padding = match numbers.bytes().filter(|b| *b == b'.').count() {
        0 => ".0.0",
        1 => ".0",
        _ => "",
    };
    if padding.is_empty() {
        return Version::parse(text).ok();
    }
    let mut padded = String::with_capacity(text.len() + padding.len());
    padded.push_str(numbers);
    padded.push_str(padding);
    padded.push_str(suffix);
    Version::parse(&padded).ok()
}

/// SemVer precedence: major, minor, patch, then pre-release (a release ranks above its
/// pre-releases); build metadata is ignored.
pub(crate) fn compare(left: &Version, right: &Version) -> Ordering {
    (left.major, left.minor, left.patch)
        .cmp(&(right.major, right.minor, right.patch))
        .then_with(|| left.pre.cmp(&right.pre))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(&parse(a).unwrap(), &parse(b).unwrap())
    }

    #[test]
    fn precedence() {
        assert_eq!(cmp("1.0.0-alpha", "1.0.0"), Ordering::Less);
        assert_eq!(cmp("1.0.0-alpha", "1.0.0-alpha.1"), Ordering::Less);
        assert_eq!(cmp("1.0.0-alpha.beta", "1.0.0-beta"), Ordering::Less);
        assert_eq!(cmp("1.0.0-beta.2", "1.0.0-beta.11"), Ordering::Less);
        assert_eq!(cmp("1.0.0-rc.1", "1.0.0"), Ordering::Less);
        assert_eq!(cmp("1.0.0+a", "1.0.0+b"), Ordering::Equal);
        assert_eq!(cmp("2", "2.0.0"), Ordering::Equal);
        assert_eq!(cmp("2.1-rc.1", "2.1.0"), Ordering::Less);
        assert_eq!(cmp("1.10.0", "1.9.0"), Ordering::Greater);
    }

    #[test]
    fn rejects() {
        for bad in ["", "v1.2.3", "1.2.3.4", "01.2.3", "1..2", "a.b.c", "1.2.3-"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
