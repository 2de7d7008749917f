//! [`Secrets`]: every value that must never be shown, and the one function that hides them.
//!
//! `config` fills it with the values `${NAME}` expanded from the environment (so that its own
//! diagnostics never quote one); `plan::build` adds the values of secret headers, `-H` values and
//! URL credentials, and carries it in the `Plan` for the engine, which redacts failure examples
//! before storing them. Redacting is replacing: what a secret looked like is never kept, hashed or
//! abbreviated anywhere.
//!
//! The floor: a value shorter than [`Secrets::FLOOR`] characters is not treated as a secret when
//! it is only *possibly* secret (an environment value, an `-H` value, a password, the credential
//! part of a header): hiding `1` or `en` everywhere would garble every number and word of a report
//! while protecting nothing a guess could not find. The value of an always-secret header
//! (`authorization`, `proxy-authorization`, `cookie`, `x-api-key` and the `[target] redact`
//! names) is hidden whatever its length: someone said it is a secret.

use std::borrow::Cow;
use std::fmt;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Values to hide, longest first. Cloning copies a few short strings (once per run, not per
/// request). `Debug` shows how many there are, never what they are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// Non-empty, unique, longest first.
    values: Vec<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} values)", self.values.len())
    }
}

impl Secrets {
    /// Values shorter than this many characters are only secret when they must be (see the
    /// module docs).
    pub const FLOOR: usize = 4;

    /// Adds a value that may be secret: kept if it has at least [`Secrets::FLOOR`] characters.
    pub fn add(&mut self, value: &str) {
        if value.chars().count() >= Self::FLOOR {
            self.add_always(value);
        }
    }

    /// Adds a value that is secret whatever its length (an empty one hides nothing and is
    /// skipped).
    pub fn add_always(&mut self, value: &str) {
        self.insert(value);
        // Failure examples are flattened onto one line (control characters become spaces): a
        // multi-line secret must be found in that form too.
        if value.chars().any(char::is_control) {
            let flat: String = value
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            self.insert(&flat);
        }
    }

    /// Every value of `other` too.
    pub fn extend(&mut self, other: &Secrets) {
        for v in &other.values {
            self.insert(v);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether `text` holds no secret at all.
    pub fn is_clean(&self, text: &str) -> bool {
        !self.values.iter().any(|v| text.contains(v.as_str()))
    }

    fn insert(&mut self, value: &str) {
        if value.is_empty() || self.values.iter().any(|v| v == value) {
            return;
        }
        let at = self.values.partition_point(|v| v.len() >= value.len());
        self.values.insert(at, value.to_string());
    }

    /// `text` with every occurrence of every secret replaced by [`MASK`]. Occurrences that
    /// overlap or touch (two secrets sharing characters, or one written twice in a row) become a
    /// single mask, so no character of any secret is left showing. Borrowed when nothing matched.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut hidden: Vec<(usize, usize)> = Vec::new();
        for secret in &self.values {
            let mut from = 0;
            while let Some(found) = text[from..].find(secret.as_str()) {
                let start = from + found;
                hidden.push((start, start + secret.len()));
                // Step one character, not the whole secret: `aaa` holds `aa` twice.
                from = start + text[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if hidden.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(mask(text, hidden))
    }

    /// [`Secrets::redact`] for text that was cut off (the first bytes of a response body): also
    /// hides a tail that is the beginning of a secret, since the cut may fall inside one.
    pub fn redact_truncated<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let redacted = self.redact(text);
        match self.cut_off(&redacted) {
            None => redacted,
            Some(len) => {
                let keep = redacted.len() - len;
                Cow::Owned(format!("{}{MASK}", &redacted[..keep]))
            }
        }
    }

    /// [`Secrets::redact`] for a message that may quote a value shortened with `…`: also hides
    /// the beginning of a secret cut off by each `…`.
    pub fn redact_ellipsized(&self, text: &str) -> String {
        let redacted = self.redact(text);
        let mut out = String::with_capacity(redacted.len());
        let mut pieces = redacted.split('…').peekable();
        while let Some(piece) = pieces.next() {
            let last = pieces.peek().is_none();
            match self.cut_off(piece).filter(|_| !last) {
                Some(len) => {
                    out.push_str(&piece[..piece.len() - len]);
                    out.push_str(MASK);
                }
                None => out.push_str(piece),
            }
            if !last {
                out.push('…');
            }
        }
        out
    }

    /// The length of the longest proper beginning of a secret that ends `text`.
    fn cut_off(&self, text: &str) -> Option<usize> {
        self.values
            .iter()
            .filter_map(|secret| {
                secret
                    .char_indices()
                    .map(|(i, _)| i)
                    .skip(1)
                    .filter(|&i| text.ends_with(&secret[..i]))
                    .max()
            })
            .max()
    }

    /// [`Secrets::redact`] of an owned string, reusing it when nothing matched.
    pub fn redact_owned(&self, text: String) -> String {
        match self.redact(&text) {
            Cow::Owned(redacted) => redacted,
            Cow::Borrowed(_) => text,
        }
    }
}

/// Replaces the union of the byte ranges in `hidden` with one mask per connected stretch.
fn mask(text: &str, mut hidden: Vec<(usize, usize)>) -> String {
    hidden.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut shown_from = 0;
    let mut ranges = hidden.into_iter().peekable();
    while let Some((start, mut end)) = ranges.next() {
        while let Some(&(next_start, next_end)) = ranges.peek() {
            if next_start > end {
                break;
            }
            end = end.max(next_end);
            ranges.next();
        }
        out.push_str(&text[shown_from..start]);
        out.push_str(MASK);
        shown_from = end;
    }
    out.push_str(&text[shown_from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::{MASK, Secrets};

    fn secrets(always: &[&str], maybe: &[&str]) -> Secrets {
        let mut s = Secrets::default();
        for v in always {
            s.add_always(v);
        }
        for v in maybe {
            s.add(v);
        }
        s
    }

    #[test]
    fn every_occurrence_is_masked_and_clean_text_is_borrowed() {
        let s = secrets(&[], &["tok-123"]);
        assert_eq!(s.redact("a tok-123 b tok-123"), "a *** b ***");
        assert!(matches!(
            s.redact("nothing here"),
            std::borrow::Cow::Borrowed("nothing here")
        ));
        assert_eq!(s.redact_owned("x tok-123".into()), "x ***");
        assert!(s.is_clean("tok-12") && !s.is_clean("<tok-123>"));
    }

    #[test]
    fn the_longest_secret_wins_and_overlaps_leave_nothing_showing() {
        // The header value and the token inside it: the whole value is one mask, not
        // "Bearer ***".
        let s = secrets(&["Bearer tok-123"], &["tok-123"]);
        assert_eq!(
            s.redact("authorization: Bearer tok-123"),
            "authorization: ***"
        );
        assert_eq!(s.redact("just tok-123"), "just ***");
        // Two secrets sharing characters: neither's remainder is left behind.
        let s = secrets(&[], &["abcdef", "defghi"]);
        assert_eq!(s.redact("xabcdefghix"), "x***x");
        // Overlapping occurrences of one secret.
        let s = secrets(&[], &["aaaa"]);
        assert_eq!(s.redact("baaaaab"), "b***b");
        assert_eq!(s.redact("é aaaa é"), "é *** é");
    }

    #[test]
    fn the_floor_spares_short_values_unless_they_must_be_secret() {
        let s = secrets(&[], &["1", "en", "abc", ""]);
        assert!(s.is_empty(), "{s:?}");
        assert_eq!(s.redact("1 en abc"), "1 en abc");
        assert_eq!(Secrets::FLOOR, 4);
        let s = secrets(&[], &["abcd"]);
        assert_eq!(s.redact("abcd"), MASK);
        // An always-secret header's value is hidden whatever its length; an empty one is not
        // a secret.
        let s = secrets(&["k", ""], &[]);
        assert_eq!(s.redact("key: k"), "***ey: ***");
        // Counted in characters, not bytes.
        let s = secrets(&[], &["ééé"]);
        assert!(s.is_empty());
    }

    #[test]
    fn a_cut_off_secret_is_hidden_too() {
        let s = secrets(&["Bearer tok-123"], &["tok-123"]);
        assert_eq!(
            s.redact_truncated("authorization: Bearer tok-1"),
            "authorization: ***"
        );
        assert_eq!(s.redact_truncated("x-key: tok"), "x-key: ***");
        assert_eq!(s.redact_truncated("whole tok-123"), "whole ***");
        assert_eq!(s.redact_truncated("nothing"), "nothing");
        // Without a cut, a prefix is just text.
        assert_eq!(s.redact("x-key: tok"), "x-key: tok");
        // A message that quotes a value shortened with `…`.
        assert_eq!(
            s.redact_ellipsized("found string \"tok-1…\" and tok-123, export X=…"),
            "found string \"***…\" and ***, export X=…"
        );
    }

    #[test]
    fn multi_line_secrets_are_found_flattened_and_debug_shows_no_value() {
        let s = secrets(&[], &["line one\nline two"]);
        assert_eq!(s.redact("got line one line two"), "got ***");
        assert_eq!(s.redact("got line one\nline two"), "got ***");
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secrets(2 values)");
    }
}
