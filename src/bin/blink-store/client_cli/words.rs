//! Splits a typed command line into its words the way `redis-cli` does: spaces separate
//! words, quotes group them (`SET "a key" 'a value'`), and inside double quotes escapes
//! give any byte (`"line\nbreak"`, `"\x00"`).

/// Why a line cannot be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WordsError {
    /// A quote opened and never closed.
    #[error("unbalanced quotes")]
    Unbalanced,
    /// A closing quote followed by more of the word, as in `"a"b`.
    #[error("a closing quote must be followed by a space or the end of the line")]
    AfterQuote,
}

/// Where the splitter is within a word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// Outside quotes: whitespace ends the word.
    None,
    /// Inside double quotes: backslash escapes.
    Double,
    /// Inside single quotes: only `\'` is an escape.
    Single,
}

/// The words of `line`, each as bytes; none for a blank line.
///
/// # Errors
/// [`WordsError`] for an unclosed quote or a closing quote glued to more text.
pub fn split(line: &[u8]) -> Result<Vec<Vec<u8>>, WordsError> {
    let mut words = Vec::new();
    let mut rest = line;
    loop {
        rest = trim_start(rest);
        if rest.is_empty() {
            return Ok(words);
        }
        let (word, after) = next_word(rest)?;
        words.push(word);
        rest = after;
    }
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// The word at the start of `line` (which starts with no whitespace), and what follows it.
fn next_word(line: &[u8]) -> Result<(Vec<u8>, &[u8]), WordsError> {
    let mut word = Vec::new();
    let mut quote = Quote::None;
    let mut i = 0;
    while i < line.len() {
        let byte = line[i];
        i += 1;
        match (quote, byte) {
            (Quote::None, b) if b.is_ascii_whitespace() => return Ok((word, &line[i..])),
            (Quote::None, b'"') => quote = Quote::Double,
            (Quote::None, b'\'') => quote = Quote::Single,
            (Quote::Double, b'"') | (Quote::Single, b'\'') => {
                if line.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
                    return Err(WordsError::AfterQuote);
                }
                return Ok((word, &line[i..]));
            }
            (Quote::Double, b'\\') if i < line.len() => {
                let (escaped, used) = unescape(&line[i..]);
                word.push(escaped);
                i += used;
            }
            (Quote::Single, b'\\') if line.get(i) == Some(&b'\'') => {
                word.push(b'\'');
                i += 1;
            }
            (_, b) => word.push(b),
        }
    }
    match quote {
        Quote::None => Ok((word, &[])),
        Quote::Double | Quote::Single => Err(WordsError::Unbalanced),
    }
}

/// The byte an escape inside double quotes stands for (`after` follows the backslash),
/// and how many bytes of `after` it took.
fn unescape(after: &[u8]) -> (u8, usize) {
    let hex = |b: u8| char::from(b).to_digit(16);
    if let [b'x', high, low, ..] = after {
        if let (Some(high), Some(low)) = (hex(*high), hex(*low)) {
            // Two hex digits make at most 0xff.
            return (u8::try_from(high * 16 + low).unwrap_or(u8::MAX), 3);
        }
    }
    let byte = match after[0] {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    };
    (byte, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Result<Vec<String>, WordsError> {
        split(line.as_bytes()).map(|words| {
            words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect()
        })
    }

    #[test]
    fn words_are_split_as_redis_cli_splits_them() {
        let table: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   \t ", &[]),
            ("GET user", &["GET", "user"]),
            ("  SET  a   b \r\n", &["SET", "a", "b"]),
            (r#"SET "key with space" v"#, &["SET", "key with space", "v"]),
            (r#"SET k "line\nbreak""#, &["SET", "k", "line\nbreak"]),
            (
                r#"SET k "tab\there \"q\" \\ \x41\x4a""#,
                &["SET", "k", "tab\there \"q\" \\ AJ"],
            ),
            (r#"SET k "\xZZ""#, &["SET", "k", "xZZ"]),
            (
                r#"SET k 'it\'s "raw" \n'"#,
                &["SET", "k", "it's \"raw\" \\n"],
            ),
            (r#"SET "" ''"#, &["SET", "", ""]),
        ];
        for (line, expected) in table {
            assert_eq!(words(line).unwrap(), *expected, "{line:?}");
        }
        // A quote inside a word opens a quoted part of it; the closing one must end it.
        assert_eq!(words(r#"a"b c""#).unwrap(), ["ab c"]);
    }

    #[test]
    fn bytes_beyond_text_come_from_hex_escapes() {
        assert_eq!(
            split(br#"SET k "\x00\xff""#).unwrap(),
            [b"SET".to_vec(), b"k".to_vec(), vec![0, 0xff]]
        );
    }

    #[test]
    fn unclosed_or_glued_quotes_are_refused() {
        assert_eq!(words(r#"SET "a b"#), Err(WordsError::Unbalanced));
        assert_eq!(words("SET 'a b"), Err(WordsError::Unbalanced));
        assert_eq!(words(r#"SET "a\""#), Err(WordsError::Unbalanced));
        assert_eq!(words(r#"SET "a"b"#), Err(WordsError::AfterQuote));
        assert_eq!(words("SET 'a'b"), Err(WordsError::AfterQuote));
    }
}
