//! Short names for the calls between the main wasm and its JS glue, a step of the release SPA's split
//! ([`crate::split`]).
//!
//! wasm-bindgen names each JS function the wasm imports after what it wraps plus a 16-digit hash
//! (`__wbg_set_search_79a1604a24707ef7`), and the closures the glue calls back by their mangled Rust paths. Every
//! such name is written twice, in the wasm's import or export section and in the glue, and the hashes are what
//! brotli cannot shrink: 174 imports cost about 4.5 KB of a first load's brotli bytes (issue 8). Nothing outside
//! this pair of files reads them, so the step renames each to a short one in both.
//!
//! Which names change, and which are deliberately kept:
//! - every import of the glue's own module (`./<out-name>_bg.js`), and that module's name;
//! - every export the glue calls as `wasm.<name>`, but for those the split loader also reads by name (the
//!   memory, the function table, the shared globals of the chunks);
//! - not the loader's imports (`./__wasm_split.js`, one per split point), nor any export the glue does not name:
//!   those are the contract between the loader, the chunks and the main module.
//!
//! A name of the glue that is not an object key or `wasm.` access the step expects (another use would be left
//! dangling) is an error, so a wasm-bindgen upgrade that writes the glue differently fails the build, not the page.

use anyhow::{Context, Result, bail, ensure};

/// The module name the main wasm gets for the glue's imports.
const GLUE_MODULE: &str = "w";

/// The renamed wasm and glue.
#[derive(Debug)]
pub(crate) struct Shortened {
    pub(crate) wasm: Vec<u8>,
    pub(crate) glue: String,
    /// How many imports and exports were renamed.
    pub(crate) renamed: usize,
}

/// Renames the calls between `wasm` and `glue`: the imports of `glue_module` (as wasm-bindgen names the glue's
/// module, `./main_bg.js`), and the exports the glue reads as `wasm.<name>` that `loader` does not mention.
pub(crate) fn shorten(wasm: &[u8], glue: &str, glue_module: &str, loader: &str) -> Result<Shortened> {
    let mut names = ShortNames::default();
    let mut glue = glue.to_string();
    let mut renamed = 0;
    let mut out = Vec::with_capacity(wasm.len());
    let mut reader = Reader::new(wasm);
    ensure!(reader.bytes(8)? == b"\0asm\x01\0\0\0", "not a wasm module (version 1)");
    out.extend_from_slice(&wasm[..8]);
    while !reader.done() {
        let id = reader.byte()?;
        let size = reader.leb()? as usize;
        let body = reader.bytes(size)?;
        let body = match id {
            IMPORT_SECTION => rename_imports(body, |module, field| {
                if module != glue_module {
                    return Ok(None);
                }
                let short = names.next();
                glue = replace_token(&glue, field, &short, 1).with_context(|| format!("the glue's import {field}"))?;
                renamed += 1;
                Ok(Some((GLUE_MODULE.to_string(), short)))
            })?,
            EXPORT_SECTION => rename_exports(body, |field| {
                let access = format!("wasm.{field}");
                let uses = count_token(&glue, &access);
                if uses == 0 || count_token(loader, field) > 0 {
                    return Ok(None);
                }
                let short = format!("x{}", names.next());
                // The glue's JS wrapper of a closure export has the export's name too: an identifier of its
                // own, left as it is. Any other property access or string naming it would be left dangling.
                let other_access = token_positions(&glue, field).into_iter().any(|at| {
                    let before = glue[..at].chars().next_back();
                    matches!(before, Some('.' | '"' | '\'' | '`')) && !glue[..at].ends_with("wasm.")
                });
                ensure!(!other_access, "the glue names the export {field} other than as `{access}`");
                glue = replace_token(&glue, &access, &format!("wasm.{short}"), uses)?;
                renamed += 1;
                Ok(Some(short))
            })?,
            _ => body.to_vec(),
        };
        out.push(id);
        write_leb(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
    }
    let key = format!("\"{glue_module}\":");
    ensure!(glue.matches(&key).count() == 1, "the glue's imports object does not name {glue_module} once");
    let glue = glue.replacen(&key, &format!("\"{GLUE_MODULE}\":"), 1);
    Ok(Shortened { wasm: out, glue, renamed })
}

const IMPORT_SECTION: u8 = 2;
const EXPORT_SECTION: u8 = 7;

/// The import section `body` with each import that `rename(module, field)` answers `Some((module, field))` for
/// renamed so; each import's description is copied as it is.
fn rename_imports(
    body: &[u8],
    mut rename: impl FnMut(&str, &str) -> Result<Option<(String, String)>>,
) -> Result<Vec<u8>> {
    let mut reader = Reader::new(body);
    let count = reader.leb()?;
    let mut out = Vec::with_capacity(body.len());
    write_leb(&mut out, count);
    for _ in 0..count {
        let module = reader.name()?;
        let field = reader.name()?;
        let start = reader.at;
        match reader.byte()? {
            // A function (its type index) or a tag (attribute, type index).
            0x00 => _ = reader.leb()?,
            0x04 => {
                reader.byte()?;
                reader.leb()?;
            }
            // A table: its element type, then limits.
            0x01 => {
                reader.byte()?;
                reader.limits()?;
            }
            0x02 => reader.limits()?,
            // A global: value type, mutability.
            0x03 => _ = reader.bytes(2)?,
            kind => bail!("an import of unknown kind {kind:#x}"),
        }
        let description = &body[start..reader.at];
        let (module, field) = rename(module, field)?.unwrap_or_else(|| (module.to_string(), field.to_string()));
        write_name(&mut out, &module);
        write_name(&mut out, &field);
        out.extend_from_slice(description);
    }
    ensure!(reader.done(), "the import section has bytes after its last import");
    Ok(out)
}

/// The export section `body` with each export that `rename(name)` answers `Some(new)` for renamed so.
fn rename_exports(body: &[u8], mut rename: impl FnMut(&str) -> Result<Option<String>>) -> Result<Vec<u8>> {
    let mut reader = Reader::new(body);
    let count = reader.leb()?;
    let mut out = Vec::with_capacity(body.len());
    write_leb(&mut out, count);
    for _ in 0..count {
        let name = reader.name()?;
        let start = reader.at;
        reader.byte()?;
        reader.leb()?;
        let description = &body[start..reader.at];
        write_name(&mut out, &rename(name)?.unwrap_or_else(|| name.to_string()));
        out.extend_from_slice(description);
    }
    ensure!(reader.done(), "the export section has bytes after its last export");
    Ok(out)
}

/// Short names in order: `a` … `z`, `A` … `Z`, `aa`, `ab`, …; valid JS property names and identifiers.
#[derive(Default)]
struct ShortNames {
    issued: u64,
}

impl ShortNames {
    fn next(&mut self) -> String {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let base = LETTERS.len() as u64;
        let mut n = self.issued;
        self.issued += 1;
        let mut name = Vec::new();
        loop {
            name.push(LETTERS[(n % base) as usize]);
            if n < base {
                break;
            }
            n = n / base - 1;
        }
        name.reverse();
        String::from_utf8(name).unwrap_or_default()
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// Where `token` occurs in `text` as a whole word: not preceded nor followed by an identifier character (so
/// `fg` is not a use of `f`; `wasm.f` is one).
fn token_positions(text: &str, token: &str) -> Vec<usize> {
    text.match_indices(token)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before = text[..at].chars().next_back();
            let after = text[at + token.len()..].chars().next();
            !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
        })
        .collect()
}

fn count_token(text: &str, token: &str) -> usize {
    token_positions(text, token).len()
}

/// `text` with each whole `token` replaced by `new`, failing unless there are exactly `expected` of them.
fn replace_token(text: &str, token: &str, new: &str, expected: usize) -> Result<String> {
    let positions = token_positions(text, token);
    ensure!(positions.len() == expected, "{token} occurs {} times in the glue, expected {expected}", positions.len());
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for at in positions {
        out.push_str(&text[last..at]);
        out.push_str(new);
        last = at + token.len();
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// Reads a wasm module's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn bytes(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(len).filter(|&end| end <= self.bytes.len()).context("the wasm ends early")?;
        let bytes = &self.bytes[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    /// An unsigned LEB128 number.
    fn leb(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        bail!("a number in the wasm is too long")
    }

    fn name(&mut self) -> Result<&'a str> {
        let len = self.leb()? as usize;
        std::str::from_utf8(self.bytes(len)?).context("a name in the wasm is not UTF-8")
    }

    /// A table's or memory's limits: flags, minimum, and a maximum when flagged.
    fn limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    write_leb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module importing `imports` (`(module, field)`, each a function of type 0) and exporting `exports` (each
    /// function 0), with a type section and a custom section around them that must come out unchanged.
    fn module(imports: &[(&str, &str)], exports: &[&str]) -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let section = |wasm: &mut Vec<u8>, id: u8, body: &[u8]| {
            wasm.push(id);
            write_leb(wasm, body.len() as u64);
            wasm.extend_from_slice(body);
        };
        section(&mut wasm, 1, &[1, 0x60, 0, 0]);
        let mut body = Vec::new();
        write_leb(&mut body, imports.len() as u64 + 1);
        for (module, field) in imports {
            write_name(&mut body, module);
            write_name(&mut body, field);
            body.extend_from_slice(&[0, 0]);
        }
        // A memory import too, with a maximum: its limits must be copied whole.
        write_name(&mut body, "env");
        write_name(&mut body, "memory");
        body.extend_from_slice(&[0x02, 1, 17, 0x80, 0x01]);
        section(&mut wasm, IMPORT_SECTION, &body);
        let mut body = Vec::new();
        write_leb(&mut body, exports.len() as u64);
        for name in exports {
            write_name(&mut body, name);
            body.extend_from_slice(&[0, 0]);
        }
        section(&mut wasm, EXPORT_SECTION, &body);
        section(&mut wasm, 0, b"\x04namekeep");
        wasm
    }

    const GLUE: &str = "function imports() {\nconst import0 = {\n__wbg_log_0123456789abcdef: function(arg0) {\n\
        console.log(arg0);\n},\n__wbg_now_fedcba9876543210: function() {\nreturn Date.now();\n},\n};\n\
        return { \"./main_bg.js\": import0, \"./__wasm_split.js\": import1 };\n}\n\
        function f(n) { return wasm.__wbindgen_malloc(n) + wasm.__wbindgen_malloc(1) + wasm.memory.buffer; }\n\
        function _RINvNvNtNtCs_closure_invoke() { wasm._RINvNvNtNtCs_closure_invoke(); }\n";
    const LOADER: &str = "const { __indirect_function_table, memory } = initSync();";

    #[test]
    fn the_glue_calls_and_callbacks_get_short_names_in_both_files() {
        let wasm = module(
            &[
                ("./main_bg.js", "__wbg_log_0123456789abcdef"),
                ("./main_bg.js", "__wbg_now_fedcba9876543210"),
                ("./__wasm_split.js", "__wasm_split_load_users"),
            ],
            &["__wbindgen_malloc", "memory", "_RINvNvNtNtCs_closure_invoke", "__wasm_split_shared0", "main"],
        );
        let out = shorten(&wasm, GLUE, "./main_bg.js", LOADER).unwrap();
        assert_eq!(out.renamed, 4);
        assert_eq!(
            out.wasm,
            module(
                &[("w", "a"), ("w", "b"), ("./__wasm_split.js", "__wasm_split_load_users")],
                &["xc", "memory", "xd", "__wasm_split_shared0", "main"],
            )
        );
        assert!(out.glue.contains("a: function(arg0)") && out.glue.contains("b: function()"), "{}", out.glue);
        assert!(out.glue.contains("return wasm.xc(n) + wasm.xc(1) + wasm.memory.buffer;"), "{}", out.glue);
        assert!(out.glue.contains("function _RINvNvNtNtCs_closure_invoke() { wasm.xd(); }"), "{}", out.glue);
        assert!(out.glue.contains("{ \"w\": import0, \"./__wasm_split.js\": import1 }"), "{}", out.glue);
        assert!(!out.glue.contains("__wbg_") && !out.glue.contains("__wbindgen"), "{}", out.glue);
        assert!(!out.glue.contains("wasm._RIN"), "{}", out.glue);
    }

    #[test]
    fn a_name_the_glue_uses_in_another_way_fails_rather_than_dangle() {
        let wasm = module(&[("./main_bg.js", "__wbg_log_0123456789abcdef")], &[]);
        let twice = GLUE.replace("console.log(arg0);", "console.log(__wbg_log_0123456789abcdef);");
        let err = format!("{:#}", shorten(&wasm, &twice, "./main_bg.js", LOADER).unwrap_err());
        assert!(err.contains("occurs 2 times"), "{err}");

        let wasm = module(&[], &["__wbindgen_malloc"]);
        let bare = GLUE.replace("+ wasm.memory.buffer", "+ instance.exports.__wbindgen_malloc");
        let err = format!("{:#}", shorten(&wasm, &bare, "./main_bg.js", LOADER).unwrap_err());
        assert!(err.contains("other than as `wasm.__wbindgen_malloc`"), "{err}");

        let quoted = GLUE.replace("+ wasm.memory.buffer", "+ wasm[\"__wbindgen_malloc\"]");
        assert!(shorten(&wasm, &quoted, "./main_bg.js", LOADER).is_err());

        let missing = module(&[("./main_bg.js", "__wbg_gone_0000000000000000")], &[]);
        assert!(shorten(&missing, GLUE, "./main_bg.js", LOADER).is_err());
        assert!(shorten(b"\0asm\x02\0\0\0", GLUE, "./main_bg.js", LOADER).is_err());
        assert!(shorten(&module(&[], &[])[..20], GLUE, "./main_bg.js", LOADER).is_err());
    }

    #[test]
    fn short_names_are_distinct_letters_first() {
        let mut names = ShortNames::default();
        let issued: Vec<String> = (0..3000).map(|_| names.next()).collect();
        assert_eq!(&issued[..3], ["a", "b", "c"]);
        assert_eq!(issued[51], "Z");
        assert_eq!(issued[52], "aa");
        assert_eq!(issued[53], "ab");
        assert_eq!(issued[52 + 52 * 52], "aaa");
        let mut sorted = issued.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), issued.len());
        assert!(issued.iter().all(|name| name.chars().all(|c| c.is_ascii_alphabetic())));
    }
}
