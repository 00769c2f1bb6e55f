//! The `matches` operator's regex dialect and the seam that lets a host supply the engine.
//!
//! **The dialect** (`docs/snapshot-format.md` §6.2) is the syntax of the Rust `regex` crate,
//! matched on Unicode scalar values (`.` and negated classes match whole characters,
//! literals match their UTF-8), with two narrowings: `\d \s \w` and the word boundaries
//! (`\b \B \b{start}` …) are ASCII, and Unicode property classes (`\p{…}`, `\P{…}`) are not
//! part of it (an invalid regex). `(?i)` folds ASCII letters only.
//! [`compile`] implements it with `regex-syntax` and the `regex-automata` meta engine: the
//! pattern is parsed to an AST, the AST is narrowed (Perl classes become ASCII classes, word
//! boundaries are put under `(?-u:…)`, `(?i)` is replaced by ASCII case folding of the
//! literals and classes it covers, property classes are refused), and the result is
//! translated and compiled with the crate's default configuration. No Unicode table is
//! needed (Unicode case folding alone would cost the wasm regex module 48 KB raw / 20 KB
//! gzipped: wasm/README.md, "Sizes"), and the answer does not depend on which
//! `regex-syntax` features another crate in the build turns on.
//!
//! **The seam.** With the cargo feature `regex` (on by default) core compiles patterns with
//! [`compile`]. A host may instead register one [`RegexEngine`] with [`set_regex_engine`]
//! (once per process); core then compiles every pattern through it. The wasm main module is
//! built without the feature and registers an engine that forwards to the separate regex
//! module, which runs this very [`compile`]: every binding matches with one engine and one
//! configuration. Without the feature and without a registered engine, a `matches`
//! condition is an `invalid_regex` load error of its flag.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;
use once_cell::race::OnceBox;

/// A compiled pattern of the dialect.
pub trait Pattern: Send + Sync {
    /// Whether the pattern matches somewhere in `text` (unanchored).
    fn is_match(&self, text: &str) -> bool;
}

impl fmt::Debug for dyn Pattern + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pattern")
    }
}

/// Compiles patterns of the dialect; registered by a host with [`set_regex_engine`].
pub trait RegexEngine: Send + Sync {
    /// The compiled pattern, or the reason it is not valid (the text after
    /// "is not a valid regular expression: " in the `invalid_regex` message).
    fn compile(&self, pattern: &str) -> Result<Box<dyn Pattern>, String>;
}

static ENGINE: OnceBox<Box<dyn RegexEngine>> = OnceBox::new();

/// Registers the engine core compiles `matches` patterns with, instead of its own. Only the
/// first call takes effect (`Err` gives the engine back when one is already registered).
/// Register before loading snapshots: patterns compiled earlier keep their engine.
pub fn set_regex_engine(engine: Box<dyn RegexEngine>) -> Result<(), Box<dyn RegexEngine>> {
    ENGINE.set(Box::new(engine)).map_err(|boxed| *boxed)
}

/// Compiles `pattern` with the registered engine, else with core's own.
pub(crate) fn compile_pattern(pattern: &str) -> Result<Box<dyn Pattern>, String> {
    if let Some(engine) = ENGINE.get() {
        return engine.compile(pattern);
    }
    #[cfg(feature = "regex")]
    {
        compile(pattern).map(|regex| Box::new(regex) as Box<dyn Pattern>)
    }
    #[cfg(not(feature = "regex"))]
    {
        Err(String::from("this build of Pennon has no regex engine (no `regex` feature, none registered)"))
    }
}

#[cfg(feature = "regex")]
pub use builtin::{Regex, compile};

#[cfg(feature = "regex")]
mod builtin {
    use alloc::boxed::Box;
    use alloc::string::{String, ToString};
    use alloc::vec;
    use alloc::vec::Vec;
    use regex_automata::meta;
    use regex_syntax::ast::{
        self, Ast, ClassAscii, ClassAsciiKind, ClassBracketed, ClassPerl, ClassPerlKind, ClassSet, ClassSetItem, Flag,
        Flags, FlagsItem, FlagsItemKind, GroupKind,
    };
    use regex_syntax::hir::translate::TranslatorBuilder;

    use super::Pattern;

    /// A pattern compiled by [`compile`].
    #[derive(Debug, Clone)]
    pub struct Regex(meta::Regex);

    impl Pattern for Regex {
        fn is_match(&self, text: &str) -> bool {
            self.0.is_match(text)
        }
    }

    impl Regex {
        /// Whether the pattern matches somewhere in `text` (unanchored).
        pub fn is_match(&self, text: &str) -> bool {
            self.0.is_match(text)
        }
    }

    /// Compiles a pattern of Pennon's regex dialect (module docs), or gives the reason it
    /// is not one.
    pub fn compile(pattern: &str) -> Result<Regex, String> {
        // The errors' short kind texts ("unclosed group"), not their multi-line Display
        // with the pattern underlined: the pattern is in the message already, and the
        // formatting code would be most of what the regex module spends on errors.
        let mut tree = ast::parse::Parser::new().parse(pattern).map_err(|e| e.kind().to_string())?;
        narrow(&mut tree, &mut false)?;
        let hir = TranslatorBuilder::new().build().translate(pattern, &tree).map_err(|e| e.kind().to_string())?;
        meta::Builder::new().build_from_hir(&hir).map(Regex).map_err(|_| String::from("the compiled regex is too big"))
    }

    const NO_PROPERTIES: &str = "Unicode property classes (\\p{…}, \\P{…}) are not part of Pennon's regex dialect";

    /// Rewrites the dialect's ASCII parts into plain Rust regex syntax and refuses property
    /// classes (recursion is bounded by the parser's nesting limit). `fold` is whether
    /// `(?i)` is on where `tree` stands: the walk follows the translator's flag scoping (a
    /// `(?i)` lasts to the end of its group, across `|`), folds ASCII letters itself and
    /// removes every `i` flag, so that the translator never folds with Unicode tables.
    fn narrow(tree: &mut Ast, fold: &mut bool) -> Result<(), String> {
        match tree {
            Ast::ClassUnicode(_) => return Err(NO_PROPERTIES.into()),
            Ast::ClassPerl(perl) => {
                // The ASCII classes are closed under ASCII case folding.
                let item = ClassSetItem::Ascii(ascii(perl));
                let span = perl.span;
                *tree = Ast::class_bracketed(ClassBracketed { span, negated: false, kind: ClassSet::Item(item) });
            }
            Ast::ClassBracketed(class) => narrow_set(&mut class.kind, *fold)?,
            Ast::Literal(literal) if *fold => {
                if let Some(other) = swap_case(literal.c) {
                    let span = literal.span;
                    let items = vec![
                        ClassSetItem::Literal((**literal).clone()),
                        ClassSetItem::Literal(char_literal(span, other)),
                    ];
                    let kind = ClassSet::Item(ClassSetItem::Union(ast::ClassSetUnion { span, items }));
                    *tree = Ast::class_bracketed(ClassBracketed { span, negated: false, kind });
                }
            }
            Ast::Flags(set) => *fold = take_case_flag(&mut set.flags, *fold),
            Ast::Assertion(assertion) => {
                use ast::AssertionKind::*;
                if !matches!(assertion.kind, StartLine | EndLine | StartText | EndText) {
                    let span = assertion.span;
                    let item = |kind| FlagsItem { span, kind };
                    let ascii = Flags {
                        span,
                        items: vec![item(FlagsItemKind::Negation), item(FlagsItemKind::Flag(Flag::Unicode))],
                    };
                    let inner = core::mem::replace(tree, Ast::empty(span));
                    *tree = Ast::group(ast::Group { span, kind: GroupKind::NonCapturing(ascii), ast: Box::new(inner) });
                }
            }
            Ast::Repetition(repetition) => narrow(&mut repetition.ast, fold)?,
            Ast::Group(group) => {
                let outside = *fold;
                if let GroupKind::NonCapturing(flags) = &mut group.kind {
                    *fold = take_case_flag(flags, *fold);
                }
                narrow(&mut group.ast, fold)?;
                *fold = outside;
            }
            Ast::Alternation(alternation) => alternation.asts.iter_mut().try_for_each(|ast| narrow(ast, fold))?,
            Ast::Concat(concat) => concat.asts.iter_mut().try_for_each(|ast| narrow(ast, fold))?,
            Ast::Empty(_) | Ast::Literal(_) | Ast::Dot(_) => {}
        }
        Ok(())
    }

    fn narrow_set(set: &mut ClassSet, fold: bool) -> Result<(), String> {
        match set {
            ClassSet::Item(item) => narrow_item(item, fold),
            ClassSet::BinaryOp(op) => {
                // Like the translator, fold each operand before the operation.
                narrow_set(&mut op.lhs, fold)?;
                narrow_set(&mut op.rhs, fold)
            }
        }
    }

    fn narrow_item(item: &mut ClassSetItem, fold: bool) -> Result<(), String> {
        let extra = match item {
            ClassSetItem::Unicode(_) => return Err(NO_PROPERTIES.into()),
            ClassSetItem::Perl(perl) => {
                *item = ClassSetItem::Ascii(ascii(perl));
                return Ok(());
            }
            ClassSetItem::Bracketed(class) => return narrow_set(&mut class.kind, fold),
            ClassSetItem::Union(union) => return union.items.iter_mut().try_for_each(|item| narrow_item(item, fold)),
            _ if !fold => return Ok(()),
            ClassSetItem::Literal(literal) => {
                swap_case(literal.c).map(|c| vec![ClassSetItem::Literal(char_literal(literal.span, c))])
            }
            ClassSetItem::Range(range) => {
                let (span, start, end) = (range.span, range.start.c, range.end.c);
                let swapped = |from: char, to: char| {
                    let (low, high) = (start.max(from), end.min(to));
                    (low <= high).then(|| {
                        let (low, high) = (swap_case(low).unwrap_or(low), swap_case(high).unwrap_or(high));
                        ClassSetItem::Range(ast::ClassSetRange {
                            span,
                            start: char_literal(span, low),
                            end: char_literal(span, high),
                        })
                    })
                };
                let extra: Vec<_> = [swapped('a', 'z'), swapped('A', 'Z')].into_iter().flatten().collect();
                (!extra.is_empty()).then_some(extra)
            }
            // [:lower:] gains the upper case letters and [:^lower:] (which has them) the
            // lower case ones; every other ASCII class is closed under ASCII folding.
            ClassSetItem::Ascii(class) => {
                let kind = match (&class.kind, class.negated) {
                    (ClassAsciiKind::Lower, false) | (ClassAsciiKind::Upper, true) => Some(ClassAsciiKind::Upper),
                    (ClassAsciiKind::Upper, false) | (ClassAsciiKind::Lower, true) => Some(ClassAsciiKind::Lower),
                    _ => None,
                };
                kind.map(|kind| vec![ClassSetItem::Ascii(ClassAscii { span: class.span, kind, negated: false })])
            }
            ClassSetItem::Empty(_) => None,
        };
        if let Some(mut items) = extra {
            let span = *item.span();
            items.insert(0, core::mem::replace(item, ClassSetItem::Empty(span)));
            *item = ClassSetItem::Union(ast::ClassSetUnion { span, items });
        }
        Ok(())
    }

    /// The other case of an ASCII letter.
    fn swap_case(c: char) -> Option<char> {
        match c {
            'a'..='z' => Some(c.to_ascii_uppercase()),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn char_literal(span: ast::Span, c: char) -> ast::Literal {
        ast::Literal { span, kind: ast::LiteralKind::Verbatim, c }
    }

    /// Removes the `i` flag from `flags` and returns whether case folding is on after them
    /// (`on` when they do not mention it). A negation left without flags goes too.
    fn take_case_flag(flags: &mut Flags, on: bool) -> bool {
        let mut state = on;
        let mut negated = false;
        flags.items.retain(|item| match item.kind {
            FlagsItemKind::Negation => {
                negated = true;
                true
            }
            FlagsItemKind::Flag(Flag::CaseInsensitive) => {
                state = !negated;
                false
            }
            FlagsItemKind::Flag(_) => true,
        });
        if matches!(flags.items.last(), Some(FlagsItem { kind: FlagsItemKind::Negation, .. })) {
            flags.items.pop();
        }
        state
    }

    /// `\d \s \w` (and negations) as the ASCII classes `[0-9]`, `[\t\n\v\f\r ]`,
    /// `[0-9A-Za-z_]`: what the Rust regex crate means by them with Unicode off.
    fn ascii(perl: &ClassPerl) -> ClassAscii {
        let kind = match perl.kind {
            ClassPerlKind::Digit => ClassAsciiKind::Digit,
            ClassPerlKind::Space => ClassAsciiKind::Space,
            ClassPerlKind::Word => ClassAsciiKind::Word,
        };
        ClassAscii { span: perl.span, kind, negated: perl.negated }
    }
}

#[cfg(all(test, feature = "regex"))]
mod tests {
    use super::compile;

    fn is_match(pattern: &str, text: &str) -> bool {
        let regex = compile(pattern);
        assert!(regex.is_ok(), "{pattern} should compile: {regex:?}");
        regex.is_ok_and(|regex| regex.is_match(text))
    }

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii() {
        assert!(is_match(r"^\d+$", "0123456789"));
        assert!(!is_match(r"\d", "٣")); // ARABIC-INDIC DIGIT THREE
        assert!(is_match(r"^\D$", "٣"));
        assert!(is_match(r"^[\d٣]+$", "1٣"));
        assert!(!is_match(r"^[\w]+$", "é"));
        assert!(is_match(r"^[^\w]$", "é"));
        assert!(is_match(r"^\W$", "é"));
        assert!(!is_match(r"\s", "\u{a0}"));
        assert!(is_match(r"^\s+$", " \t\n\u{b}\u{c}\r"));
        assert!(is_match(r"é\ba", "éa")); // é is not an ASCII word character
        assert!(!is_match(r"\bé", "é"));
        assert!(is_match(r"a\B", "ab"));
        assert!(is_match(r"\b{start}ab\b{end}", "ab"));
    }

    #[test]
    fn dot_literals_and_classes_stay_unicode() {
        assert!(is_match(r"^.$", "ä"));
        assert!(is_match(r"^[^a]$", "€"));
        assert!(is_match(r"^ärger$", "ärger"));
        assert!(is_match(r"(?-u:\w)", "a"));
    }

    #[test]
    fn case_insensitivity_folds_ascii_letters_only() {
        assert!(is_match(r"(?i)^abc$", "aBC"));
        assert!(is_match(r"(?i)^ärger$", "äRGER"));
        assert!(!is_match(r"(?i)^ärger$", "ÄRGER"));
        assert!(!is_match(r"(?i)^k$", "\u{212A}")); // KELVIN SIGN
        assert!(!is_match(r"(?i)^\w$", "\u{212A}"));
        assert!(is_match(r"(?i)^[a-c]+$", "aBc"));
        assert!(is_match(r"(?i)^[X-c]+$", "xYzABC[_"));
        assert!(!is_match(r"(?i)^[X-c]$", "D"));
        assert!(!is_match(r"(?i)^[^a]$", "A"));
        assert!(is_match(r"(?i)^[[:lower:]]$", "Q"));
        assert!(is_match(r"(?i)^[[:^lower:]]$", "q"));
        assert!(is_match(r"(?i)^[[:upper:]]$", "q"));
        assert!(is_match(r"(?i)^[a-z&&[^x]]+$", "ABC"));
        assert!(!is_match(r"(?i)^[a-z&&[^x]]$", "X"));
        // Scoping follows the Rust crate: a (?i) lasts to the end of its group, across |.
        assert!(is_match(r"^(?i:a)b$", "Ab"));
        assert!(!is_match(r"^(?i:a)b$", "AB"));
        assert!(is_match(r"^a(?i)b$|^c$", "C"));
        assert!(!is_match(r"^(?:a(?i)b)|^c$", "C"));
        assert!(is_match(r"(?i)^a(?-i)b$", "Ab"));
        assert!(!is_match(r"(?i)^a(?-i)b$", "AB"));
        assert!(is_match(r"(?i)^a(?-i:b)C$", "AbC"));
        assert!(is_match(r"(?i)^a(?-i:b)C$", "Abc"));
        assert!(is_match(r"(?i-u)^é$", "é"));
    }

    #[test]
    fn property_classes_and_unsupported_syntax_are_invalid() {
        for pattern in [
            r"\pL",
            r"\p{Greek}",
            r"\P{Lu}",
            r"[\p{L}]",
            r"[a&&\pN]",
            r"(?i)\p{Alphabetic}",
            "(",
            r"(?=a)",
            r"(a)\1",
            r"(?-u:.)",
        ] {
            assert!(compile(pattern).is_err(), "{pattern}");
        }
        assert!(compile(r"\\pL").is_ok());
    }
}
