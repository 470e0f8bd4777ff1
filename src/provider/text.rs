//! Text that came from a platform, made safe to print.
//!
//! Error messages, model names, header values, URLs and request ids are written by
//! whoever answers the request. Printed raw, an ESC sequence repaints or retitles the
//! user's terminal, and a newline followed by `::error::` becomes a workflow command in
//! GitHub Actions, which reads stderr too. [`one_line`] is applied once, where a
//! provider's answer leaves `provider` (see `AnyProvider::generate`), so every later
//! consumer (stderr, logs, run.json, summary.md, JUnit) gets the same clean line.

/// `s` without control characters, on one line: escape sequences (CSI, OSC and the
/// other string controls, in their 7-bit and 8-bit forms) are removed whole, line and
/// paragraph breaks and tabs become one space, other C0/C1 controls, DEL and the
/// bidirectional overrides are dropped, and trailing spaces are trimmed.
#[must_use]
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // A two-character escape (ESC 7, ESC c…): the second character goes too.
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\n' | '\r' | '\t' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Skips a control sequence's parameters and its final byte (0x40..=0x7e).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// Skips an OSC/DCS-style string up to its terminator: BEL, ST (ESC `\`) or 8-bit ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// The first `n` characters of `s`, marked when cut.
pub(crate) fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_breaks_are_removed() {
        assert_eq!(
            one_line("bad \u{1b}[31mred\u{1b}[0m size\n::error::injected"),
            "bad red size ::error::injected"
        );
        assert_eq!(one_line("a\r\n\r\nb\tc"), "a b c");
        assert_eq!(one_line("\u{1b}]0;pwned title\u{7}ok"), "ok");
        assert_eq!(
            one_line("\u{1b}]8;;https://x\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        assert_eq!(one_line("\u{9b}2Jx\u{0}y\u{7f}z\u{8}"), "xyz");
        assert_eq!(one_line("abc\u{202e}def\u{2028}g"), "abcdef g");
        assert_eq!(one_line("plain — ünïcode ✓"), "plain — ünïcode ✓");
        assert_eq!(one_line("trailing\n"), "trailing");
        assert_eq!(one_line("\u{1b}"), "");
    }

    #[test]
    fn nothing_printable_survives_as_a_control() {
        let all: String = (0u32..0x2100).filter_map(char::from_u32).collect();
        let out = one_line(&all);
        assert!(!out.chars().any(char::is_control), "{out:?}");
    }
}
