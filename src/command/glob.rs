//! Glob patterns as Redis matches them (`stringmatchlen`), for KEYS, SCAN's MATCH and
//! CONFIG GET: binary-safe, byte by byte, with Redis's quirks kept.
//!
//! * `*` matches any run of bytes, `?` any one byte.
//! * `[abc]` one of the bytes, `[^abc]` any byte but those, `[a-z]` a range (either way
//!   round), `\x` inside a class the byte `x`. A class left open runs to the pattern's end.
//! * `\x` outside a class is the byte `x`; a lone `\` at the end is itself.
//! * Redis's quirks: the empty string matches only the empty pattern (so `*` does not
//!   match it; KEYS and SCAN treat a pattern of exactly `*` as "everything" before
//!   matching, see [`Glob::matches_everything`]), and `[a-]` reads `]` as the end of the
//!   range `a-]`.
//!
//! A pattern is compiled once into tokens, each class into a 256-bit set, so matching a
//! key never reads the pattern's bytes again. Every token but `*` matches exactly one
//! byte, so one pass with a single backtrack point (the latest `*`) decides a match
//! without recursion, in at most tokens × text steps; a text shorter than the pattern's
//! one-byte tokens is refused at once. The compiled form takes at most 24 bytes per
//! pattern byte, and lives only while the command runs.

/// A compiled pattern, ready to match texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    /// The pattern's tokens, runs of `*` merged into one.
    tokens: Vec<Token>,
    /// The byte sets of the pattern's classes, which [`Token::Class`] indexes.
    classes: Vec<ByteSet>,
    /// Whether a literal byte matches either case of an ASCII letter (CONFIG GET).
    nocase: bool,
    /// Whether the pattern is exactly `*`.
    everything: bool,
    /// One-byte tokens in the pattern: the shortest text that can match.
    min_len: usize,
}

/// One token of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `*`: any run of bytes.
    Star,
    /// `?`: any byte.
    Any,
    /// A literal byte (escaped or not).
    Byte(u8),
    /// A class: the index of its byte set.
    Class(usize),
}

/// A set of bytes, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ByteSet([u64; 4]);

impl ByteSet {
    fn insert(&mut self, byte: u8) {
        self.0[usize::from(byte / 64)] |= 1 << (byte % 64);
    }

    fn contains(&self, byte: u8) -> bool {
        self.0[usize::from(byte / 64)] & (1 << (byte % 64)) != 0
    }

    fn complement(self) -> Self {
        Self(self.0.map(|word| !word))
    }
}

impl Glob {
    /// A case-sensitive pattern, as KEYS and SCAN match keys.
    pub fn new(pattern: &[u8]) -> Self {
        Self::compile(pattern, false)
    }

    /// A pattern whose letters (ASCII only, as C's `tolower`) match either case, as
    /// CONFIG GET matches parameter names.
    pub fn ignoring_case(pattern: &[u8]) -> Self {
        Self::compile(pattern, true)
    }

    /// Whether the pattern is exactly `*`, which KEYS and SCAN take to mean every key,
    /// the empty one included, without matching.
    pub fn matches_everything(&self) -> bool {
        self.everything
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &[u8]) -> bool {
        if text.is_empty() {
            // Redis's matcher compares nothing against an empty string.
            return self.tokens.is_empty();
        }
        if text.len() < self.min_len {
            return false;
        }
        let tokens = &self.tokens;
        let (mut p, mut t) = (0, 0);
        // After the latest `*`: where the pattern resumes, and the first text byte that
        // the `*` has not swallowed.
        let mut backtrack: Option<(usize, usize)> = None;
        while let Some(&byte) = text.get(t) {
            match tokens.get(p) {
                Some(Token::Star) => {
                    p += 1;
                    backtrack = Some((p, t));
                    continue;
                }
                Some(&token) if self.token_matches(token, byte) => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
            let Some((resume, swallowed)) = backtrack else {
                return false;
            };
            // Let the `*` swallow one more byte and try again from there.
            backtrack = Some((resume, swallowed + 1));
            (p, t) = (resume, swallowed + 1);
        }
        tokens
            .get(p..)
            .unwrap_or_default()
            .iter()
            .all(|&token| token == Token::Star)
    }

    fn token_matches(&self, token: Token, byte: u8) -> bool {
        match token {
            Token::Star | Token::Any => true,
            Token::Byte(want) if self.nocase => want.eq_ignore_ascii_case(&byte),
            Token::Byte(want) => want == byte,
            Token::Class(index) => self
                .classes
                .get(index)
                .is_some_and(|set| set.contains(byte)),
        }
    }

    fn compile(pattern: &[u8], nocase: bool) -> Self {
        let mut glob = Self {
            tokens: Vec::new(),
            classes: Vec::new(),
            nocase,
            everything: pattern == b"*",
            min_len: 0,
        };
        let mut p = 0;
        while let Some(&byte) = pattern.get(p) {
            let (token, end) = match byte {
                b'*' if glob.tokens.last() == Some(&Token::Star) => {
                    p += 1;
                    continue;
                }
                b'*' => (Token::Star, p + 1),
                b'?' => (Token::Any, p + 1),
                b'[' => {
                    let (set, end) = class(pattern, p + 1, nocase);
                    glob.classes.push(set);
                    (Token::Class(glob.classes.len() - 1), end)
                }
                b'\\' if p + 1 < pattern.len() => (Token::Byte(pattern[p + 1]), p + 2),
                byte => (Token::Byte(byte), p + 1),
            };
            if token != Token::Star {
                glob.min_len += 1;
            }
            glob.tokens.push(token);
            p = end;
        }
        glob
    }
}

/// The class whose body starts at `start`, just after its `[`, read as Redis reads it:
/// its byte set (negation applied) and where the next token starts.
fn class(pattern: &[u8], start: usize, nocase: bool) -> (ByteSet, usize) {
    let negated = pattern.get(start) == Some(&b'^');
    let mut set = ByteSet::default();
    let mut p = start + usize::from(negated);
    let end = loop {
        match pattern.get(p) {
            // Open to the end: the class is everything left.
            None => break p,
            Some(b'\\') if p + 1 < pattern.len() => {
                // An escaped byte is compared exactly, even ignoring case.
                set.insert(pattern[p + 1]);
                p += 2;
            }
            Some(b']') => break p + 1,
            // A range takes three bytes, even when the third is a `]`.
            Some(&first) if p + 2 < pattern.len() && pattern[p + 1] == b'-' => {
                let last = pattern[p + 2];
                let (low, high) = (first.min(last), first.max(last));
                for byte in 0..=u8::MAX {
                    let folded = if nocase {
                        let byte = byte.to_ascii_lowercase();
                        (low.to_ascii_lowercase()..=high.to_ascii_lowercase()).contains(&byte)
                    } else {
                        (low..=high).contains(&byte)
                    };
                    if folded {
                        set.insert(byte);
                    }
                }
                p += 3;
            }
            Some(&byte) => {
                set.insert(byte);
                if nocase {
                    set.insert(byte.to_ascii_lowercase());
                    set.insert(byte.to_ascii_uppercase());
                }
                p += 1;
            }
        }
    };
    (if negated { set.complement() } else { set }, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Glob::new(pattern.as_bytes()).matches(text.as_bytes())
    }

    /// The same match, by the uncompiled rules of Redis's `stringmatchlen`, transcribed.
    fn redis_matches(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
        let lower = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
        let (mut p, mut s) = (0, 0);
        while p < pattern.len() && s < text.len() {
            match pattern[p] {
                b'*' => {
                    while pattern.get(p + 1) == Some(&b'*') {
                        p += 1;
                    }
                    if p + 1 == pattern.len() {
                        return true;
                    }
                    return (s..text.len())
                        .any(|from| redis_matches(&pattern[p + 1..], &text[from..], nocase));
                }
                b'?' => s += 1,
                b'[' => {
                    p += 1;
                    let not = pattern.get(p) == Some(&b'^');
                    p += usize::from(not);
                    let mut hit = false;
                    loop {
                        if pattern.get(p) == Some(&b'\\') && p + 1 < pattern.len() {
                            p += 1;
                            hit |= pattern[p] == text[s];
                        } else if pattern.get(p) == Some(&b']') {
                            break;
                        } else if p >= pattern.len() {
                            p -= 1;
                            break;
                        } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' {
                            let (a, b) = (pattern[p], pattern[p + 2]);
                            let (a, b) = (lower(a.min(b)), lower(a.max(b)));
                            hit |= (a..=b).contains(&lower(text[s]));
                            p += 2;
                        } else {
                            hit |= lower(pattern[p]) == lower(text[s]);
                        }
                        p += 1;
                    }
                    if hit == not {
                        return false;
                    }
                    s += 1;
                }
                byte => {
                    let byte = if byte == b'\\' && p + 1 < pattern.len() {
                        p += 1;
                        pattern[p]
                    } else {
                        byte
                    };
                    if lower(byte) != lower(text[s]) {
                        return false;
                    }
                    s += 1;
                }
            }
            p += 1;
            if s == text.len() {
                while pattern.get(p) == Some(&b'*') {
                    p += 1;
                }
            }
        }
        p >= pattern.len() && s == text.len()
    }

    #[test]
    fn stars_and_question_marks() {
        let cases = [
            ("*", "anything", true),
            ("*", "", false),
            ("", "", true),
            ("", "a", false),
            ("**", "", false),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "hllo", true),
            ("h*llo", "heeeello", true),
            ("h*llo", "hello!", false),
            ("*o", "hello", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXcYb", false),
            ("a*", "a", true),
            ("a**", "a", true),
            ("*a*a*a*a*b", &"a".repeat(60), false),
            ("user:*:name", "user:42:name", true),
            ("user:*:name", "user:42:mail", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(matches(pattern, text), want, "{pattern:?} on {text:?}");
        }
    }

    #[test]
    fn classes_ranges_and_escapes() {
        let cases = [
            ("h[ae]llo", "hello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[b-a]llo", "hbllo", true),
            ("h[a-b]llo", "hcllo", false),
            ("[\\]]", "]", true),
            ("[\\-]", "-", true),
            // `[a-]` is the range `a-]` (both ways round: `]` to `a`), left open.
            ("[a-]", "^", true),
            ("[a-]", "b", false),
            ("[a-]x", "x", true),
            ("[a-]x", "]x", false),
            ("[\\a-c]", "a", true),
            ("[\\a-c]", "b", false),
            ("[\\a-c]", "-", true),
            ("[abc", "b", true),
            ("[abc", "d", false),
            ("[", "x", false),
            ("[]", "x", false),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("\\?x", "?x", true),
            ("a\\", "a\\", true),
            ("\\", "\\", true),
            ("*[0-9]", "key7", true),
            ("*[0-9]", "key", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(matches(pattern, text), want, "{pattern:?} on {text:?}");
        }
    }

    #[test]
    fn bytes_are_matched_exactly_and_case_only_when_asked() {
        let glob = Glob::new(b"k\x00*\xff");
        assert!(glob.matches(b"k\x00\r\n\xff"));
        assert!(!glob.matches(b"k\x01\xff"));
        assert!(!matches("MAX*", "maxmemory"));
        assert!(Glob::ignoring_case(b"MAX*").matches(b"maxmemory"));
        assert!(Glob::ignoring_case(b"[A-C]x").matches(b"bX"));
        assert!(Glob::ignoring_case(b"[a]").matches(b"A"));
        assert!(
            !Glob::ignoring_case(b"[\\a]").matches(b"A"),
            "escaped: exact"
        );
        assert!(Glob::new(b"*").matches_everything());
        assert!(!Glob::new(b"**").matches_everything());
    }

    proptest::proptest! {
        #[test]
        fn compiled_patterns_match_as_redis_does(
            pattern in proptest::collection::vec(proptest::sample::select(b"*?[]^-\\abAB".to_vec()), 0..10),
            text in proptest::collection::vec(proptest::sample::select(b"ab-]^\\AB".to_vec()), 0..8),
            nocase: bool,
        ) {
            let glob = if nocase { Glob::ignoring_case(&pattern) } else { Glob::new(&pattern) };
            proptest::prop_assert_eq!(
                glob.matches(&text),
                redis_matches(&pattern, &text, nocase),
                "{:?} on {:?}",
                String::from_utf8_lossy(&pattern),
                String::from_utf8_lossy(&text)
            );
        }
    }
}
