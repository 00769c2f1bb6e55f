//! The `matches` operator's regex dialect and the seam that lets a host supply the engine.
//!
//! **The dialect** (`docs/snapshot-format.md` §6.2) is the syntax of the Rust `regex` crate,
//! matched on Unicode scalar values (`.` and negated classes match whole characters,
//! literals match their UTF-8), with two narrowings: `\d \s \w` and the word boundaries
//! (`\b \B \b{start}` …) are ASCII, and Unicode property classes (`\p{…}`, `\P{…}`) are not
//! part of it (an invalid regex). `(?i)` folds case with Unicode simple case folding.
//! [`compile`] implements it with `regex-syntax` and the `regex-automata` meta engine: the
//! pattern is parsed to an AST, the AST is narrowed (Perl classes become ASCII classes, word
//! boundaries are put under `(?-u:…)`, property classes are refused), and the result is
//! translated and compiled with the crate's default configuration. No Unicode table beyond
//! case folding is needed, and the answer does not depend on which `regex-syntax` features
//! another crate in the build turns on.
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
        narrow(&mut tree)?;
        let hir = TranslatorBuilder::new().build().translate(pattern, &tree).map_err(|e| e.kind().to_string())?;
        meta::Builder::new().build_from_hir(&hir).map(Regex).map_err(|_| String::from("the compiled regex is too big"))
    }

    const NO_PROPERTIES: &str = "Unicode property classes (\\p{…}, \\P{…}) are not part of Pennon's regex dialect";

    /// Rewrites the dialect's ASCII parts into plain Rust regex syntax and refuses property
    /// classes (recursion is bounded by the parser's nesting limit).
    fn narrow(tree: &mut Ast) -> Result<(), String> {
        match tree {
            Ast::ClassUnicode(_) => return Err(NO_PROPERTIES.into()),
            Ast::ClassPerl(perl) => {
                let item = ClassSetItem::Ascii(ascii(perl));
                let span = perl.span;
                *tree = Ast::class_bracketed(ClassBracketed { span, negated: false, kind: ClassSet::Item(item) });
            }
            Ast::ClassBracketed(class) => narrow_set(&mut class.kind)?,
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
            Ast::Repetition(repetition) => narrow(&mut repetition.ast)?,
            Ast::Group(group) => narrow(&mut group.ast)?,
            Ast::Alternation(alternation) => alternation.asts.iter_mut().try_for_each(narrow)?,
            Ast::Concat(concat) => concat.asts.iter_mut().try_for_each(narrow)?,
            Ast::Empty(_) | Ast::Flags(_) | Ast::Literal(_) | Ast::Dot(_) => {}
        }
        Ok(())
    }

    fn narrow_set(set: &mut ClassSet) -> Result<(), String> {
        match set {
            ClassSet::Item(item) => narrow_item(item),
            ClassSet::BinaryOp(op) => {
                narrow_set(&mut op.lhs)?;
                narrow_set(&mut op.rhs)
            }
        }
    }

    fn narrow_item(item: &mut ClassSetItem) -> Result<(), String> {
        match item {
            ClassSetItem::Unicode(_) => return Err(NO_PROPERTIES.into()),
            ClassSetItem::Perl(perl) => *item = ClassSetItem::Ascii(ascii(perl)),
            ClassSetItem::Bracketed(class) => narrow_set(&mut class.kind)?,
            ClassSetItem::Union(union) => union.items.iter_mut().try_for_each(narrow_item)?,
            ClassSetItem::Empty(_) | ClassSetItem::Literal(_) | ClassSetItem::Range(_) | ClassSetItem::Ascii(_) => {}
        }
        Ok(())
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
    fn dot_literals_and_case_folding_stay_unicode() {
        assert!(is_match(r"^.$", "ä"));
        assert!(is_match(r"^[^a]$", "€"));
        assert!(is_match(r"^ärger$", "ärger"));
        assert!(is_match(r"(?i)^ärger$", "ÄRGER"));
        assert!(is_match(r"(?i)^k$", "\u{212A}")); // KELVIN SIGN folds to k
        assert!(is_match(r"(?i)^σ+$", "Σσς"));
        assert!(is_match(r"(?-u:\w)", "a"));
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
