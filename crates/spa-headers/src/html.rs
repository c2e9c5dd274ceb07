//! The inline scripts of an HTML document, found where the browser's tokenizer finds them, with the text it hashes.
//!
//! Not an HTML parser: a scanner for the few rules that decide what an inline script's text is. The input stream
//! is normalised first (CR LF and lone CR become LF, as the browser does before tokenizing, so a file saved with
//! Windows line ends hashes as the browser sees it); comments are skipped; the raw-text elements (`script`,
//! `style`, `title`, `textarea`, `noscript`, ...) run to their end tag whatever they hold, so a `<script>` written
//! inside one is text, not a script. A script's text is every character between its start tag's `>` and the first
//! `</script` followed by a space, `/` or `>`, character references included as written: script text is raw.

use crate::Error;

/// One inline script of the document: `<script>` without `src`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InlineScript {
    /// Its text exactly as the browser hashes it (after newline normalisation).
    pub(crate) text: String,
    /// Whether it is a module script (`type="module"`): trunk's loader is one.
    pub(crate) is_module: bool,
}

/// Elements whose content is text up to their end tag (the HTML standard's raw text and escapable raw text
/// elements, and `noscript`, which is raw text when scripting is enabled, as it is wherever the SPA runs).
const RAW_TEXT: [&str; 9] =
    ["script", "style", "title", "textarea", "noscript", "xmp", "iframe", "noembed", "noframes"];

/// The inline scripts of `html`, in document order.
pub(crate) fn inline_scripts(html: &str) -> Result<Vec<InlineScript>, Error> {
    let html = html.replace("\r\n", "\n").replace('\r', "\n");
    // ASCII lower-casing keeps every byte offset, so positions found in `lower` index `html` too.
    let lower = html.to_ascii_lowercase();
    let line_of = |at: usize| html[..at].matches('\n').count() + 1;
    let mut scripts = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find('<') {
        let start = at + found;
        let rest = &lower[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            // An unterminated comment runs to the end of the document.
            let Some(end) = comment.find("-->") else { break };
            at = start + "<!--".len() + end + "-->".len();
            continue;
        }
        let Some(name) = RAW_TEXT.into_iter().find(|name| opens(rest, name)) else {
            at = start + 1;
            continue;
        };
        let (attributes, content_start) = start_tag(&html, start + 1 + name.len())
            .ok_or(Error::UnterminatedTag { element: name, line: line_of(start) })?;
        let content_end = end_tag(&lower, content_start, name)
            .ok_or(Error::UnterminatedElement { element: name, line: line_of(start) })?;
        if name == "script" && !attributes.iter().any(|(attribute, _)| attribute == "src") {
            let text = &html[content_start..content_end];
            // `<!--` inside a script switches the tokenizer into its escaped states, where a `<script>` in the text
            // moves the end of the element; rather than guess, such a script is refused.
            if text.contains("<!--") {
                return Err(Error::EscapedScript { line: line_of(start) });
            }
            let is_module = attributes
                .iter()
                .any(|(attribute, value)| attribute == "type" && value.trim().eq_ignore_ascii_case("module"));
            scripts.push(InlineScript { text: text.to_owned(), is_module });
        }
        at = content_end;
    }
    Ok(scripts)
}

/// Whether `rest` (lower-cased, at a `<`) opens a `name` element: the name, then a space, `/` or `>`.
fn opens(rest: &str, name: &str) -> bool {
    rest.strip_prefix('<')
        .and_then(|tail| tail.strip_prefix(name))
        .and_then(|tail| tail.bytes().next())
        .is_some_and(ends_name)
}

/// Whether a byte ends a tag name: HTML's whitespace, `/` or `>`.
fn ends_name(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | b'\x0c' | b' ' | b'/' | b'>')
}

/// The attributes (names lower-cased, values as written) of the start tag whose name ends at `from`, and the
/// offset just after its `>`; `None` if the document ends inside the tag.
fn start_tag(html: &str, from: usize) -> Option<(Vec<(String, String)>, usize)> {
    let bytes = html.as_bytes();
    let mut attributes = Vec::new();
    let mut at = from;
    loop {
        // Between attributes: whitespace and stray slashes (`<script/>` is an ordinary start tag in HTML).
        while matches!(bytes.get(at)?, b'\t' | b'\n' | b'\x0c' | b' ' | b'/') {
            at += 1;
        }
        if bytes[at] == b'>' {
            return Some((attributes, at + 1));
        }
        // The name runs to whitespace, `/`, `>` or `=` (a leading `=` belongs to the name).
        let name_start = at;
        at += 1;
        while !matches!(bytes.get(at)?, b'\t' | b'\n' | b'\x0c' | b' ' | b'/' | b'>' | b'=') {
            at += 1;
        }
        let name = html[name_start..at].to_ascii_lowercase();
        while matches!(bytes.get(at)?, b'\t' | b'\n' | b'\x0c' | b' ') {
            at += 1;
        }
        let mut value = String::new();
        if bytes[at] == b'=' {
            at += 1;
            while matches!(bytes.get(at)?, b'\t' | b'\n' | b'\x0c' | b' ') {
                at += 1;
            }
            match bytes[at] {
                quote @ (b'"' | b'\'') => {
                    let end = at + 1 + html[at + 1..].find(quote as char)?;
                    value = html[at + 1..end].to_owned();
                    at = end + 1;
                }
                _ => {
                    let value_start = at;
                    while !matches!(bytes.get(at)?, b'\t' | b'\n' | b'\x0c' | b' ' | b'>') {
                        at += 1;
                    }
                    value = html[value_start..at].to_owned();
                }
            }
        }
        // The first of two attributes with one name wins, as in the browser.
        if !attributes.iter().any(|(seen, _)| *seen == name) {
            attributes.push((name, value));
        }
    }
}

/// The offset of the `</name` that ends a raw-text element whose content starts at `from`, if there is one.
fn end_tag(lower: &str, from: usize, name: &str) -> Option<usize> {
    let closing = format!("</{name}");
    let mut at = from;
    loop {
        let found = at + lower[at..].find(&closing)?;
        if lower.as_bytes().get(found + closing.len()).copied().is_some_and(ends_name) {
            return Some(found);
        }
        at = found + closing.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(html: &str) -> Vec<String> {
        inline_scripts(html).unwrap().into_iter().map(|script| script.text).collect()
    }

    #[test]
    fn the_text_is_everything_between_the_tags_as_written() {
        let html = "<head><script type=\"module\">\nimport init from '/a.js';\nawait init(); // &amp; <b>\n</script>";
        assert_eq!(texts(html), ["\nimport init from '/a.js';\nawait init(); // &amp; <b>\n"]);
        assert_eq!(texts("<script></script>"), [""]);
    }

    #[test]
    fn scripts_with_src_are_not_inline_and_any_spelling_of_the_tag_counts() {
        let html = "<script src=/fatal.js defer></script><SCRIPT\ttype=module>a</SCRIPT ><script/>b</script\n>\
                    <script data-src=x>c</script><script SRC=''>d</script>";
        assert_eq!(texts(html), ["a", "b", "c"]);
        let modules: Vec<bool> = inline_scripts(html).unwrap().into_iter().map(|s| s.is_module).collect();
        assert_eq!(modules, [true, false, false]);
    }

    #[test]
    fn a_script_ends_only_at_its_own_end_tag() {
        // `</scripts>` and `</script-x>` are text; a quoted `>` in an attribute does not end the start tag.
        let html = "<script title='a>b'>x = '</scripts>'; y = '</script-x>';</script>";
        assert_eq!(texts(html), ["x = '</scripts>'; y = '</script-x>';"]);
    }

    #[test]
    fn scripts_in_comments_and_raw_text_elements_are_text() {
        let html = "<!-- <script>a</script> --><title><script>b</script></title><noscript><script>c</script>\
                    </noscript><textarea><script>d</script></textarea><script>e</script>";
        assert_eq!(texts(html), ["e"]);
    }

    #[test]
    fn line_ends_are_normalised_as_the_browser_does() {
        assert_eq!(texts("<script>a\r\nb\rc\n</script>"), ["a\nb\nc\n"]);
    }

    #[test]
    fn unterminated_and_escaped_scripts_are_refused() {
        assert!(matches!(
            inline_scripts("<p>\n<script>never closed"),
            Err(Error::UnterminatedElement { element: "script", line: 2 })
        ));
        assert!(matches!(inline_scripts("<script type=\"module"), Err(Error::UnterminatedTag { .. })));
        assert!(matches!(inline_scripts("<script><!-- x --></script>"), Err(Error::EscapedScript { line: 1 })));
    }
}
