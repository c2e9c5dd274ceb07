//! The release SPA's code splitting: after `trunk build --release`, the wasm is cut into the main module and
//! chunks loaded on demand, so a first load downloads only the code it runs.
//!
//! Why here: the SPA marks its split points with `wasm_split` (src/components/chunk.rs, under `--cfg
//! wasm_split`); each is an import that only a post-processing step resolves, and trunk 0.21 has none (cargo-leptos
//! does the same step with the same crate). It must run on cargo's own output, before wasm-bindgen, because it
//! reads the linker's relocations (`-Clink-arg=--emit-relocs`, [`crate::dist`]), which wasm-bindgen drops. So trunk
//! builds as usual (its wasm-bindgen and wasm-opt output of the unsplit wasm is thrown away), and this step then
//! redoes the wasm side from cargo's wasm:
//!
//! 1. `wasm_split_cli_support` cuts it into the main module, the chunks (`split_<name>.wasm` for each split
//!    point, `chunk_<n>.wasm` for code several of them share) and the loader `__wasm_split.js`, which fetches a
//!    chunk with the main module's memory, table and functions as its imports;
//! 2. wasm-bindgen makes the main module's JS glue as trunk would (`--target web`), keeping the exports the chunks
//!    import (`--keep-lld-exports`);
//! 3. wasm-opt optimises every piece with the level and flags index.html gives trunk, so they stay in one place;
//! 4. the pieces get names carrying one hash of the whole output (a changed chunk renames all: an old cached
//!    loader never meets a new main module), replace trunk's JS and wasm in dist/, and index.html names the new
//!    files with fresh `integrity` hashes, plus a `modulepreload` of the loader (the glue imports it, so the browser
//!    would otherwise find it one round trip later).

use crate::budget;
use crate::minify::{self, Kind};
use crate::process::{command, run_checked};
use crate::wasm_names;
use anyhow::{Context, Result, bail};
use base64::Engine;
use sha2::{Digest, Sha256, Sha384};
use std::path::{Path, PathBuf};

/// The name the split step gives the loader, and that the main module imports it by; replaced by the hashed name.
const LOADER: &str = "__wasm_split.js";
/// The name the loader imports the main JS glue by (`initSync`, for the main module's exports); replaced too.
const MAIN_JS: &str = "__wasm_split_main.js";
/// The module the main wasm imports the glue's functions from, as wasm-bindgen names it (`--out-name=main`).
const GLUE_MODULE: &str = "./main_bg.js";

/// The SPA's split points (the `chunk!` functions of src/), each a chunk `<base>-split_<name>.wasm` that no first
/// load fetches; [`check_dist`] fails when one is missing, so a build that stopped splitting cannot pass unseen.
pub(crate) const SPLIT_POINTS: [&str; 8] = [
    "project_list",
    "user_list",
    "inspector_panel",
    "sign_in_code",
    "user_sign_in_code",
    "callback_code",
    "sign_out_code",
    "api_reading",
];

/// What the step wrote into dist/, names below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Output {
    pub(crate) js: String,
    pub(crate) wasm: String,
    pub(crate) loader: String,
    /// Every chunk, in name order.
    pub(crate) chunks: Vec<String>,
}

/// Splits the release build in `dist`: `cargo_wasm` is the wasm cargo linked for trunk, `work` a scratch
/// directory (emptied first).
pub(crate) fn run(dist: &Path, cargo_wasm: &Path, work: &Path) -> Result<Output> {
    let index_path = dist.join("index.html");
    let html = std::fs::read_to_string(&index_path).with_context(|| format!("reading {}", index_path.display()))?;
    let trunk = TrunkOutput::find(&html)?;
    let wasm_opt_args = wasm_opt_args(&source_index()?)?;

    if work.exists() {
        std::fs::remove_dir_all(work).with_context(|| format!("emptying {}", work.display()))?;
    }
    let pieces = work.join("pieces");
    std::fs::create_dir_all(&pieces).with_context(|| format!("creating {}", pieces.display()))?;
    let input = std::fs::read(cargo_wasm).with_context(|| format!("reading {}", cargo_wasm.display()))?;
    let main_unbound = work.join("main.wasm");
    let main_module = format!("./{MAIN_JS}");
    let link_name = format!("./{LOADER}");
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&input);
        options.output_dir = &pieces;
        options.main_out_path = &main_unbound;
        options.main_module = &main_module;
        options.link_name = &link_name;
        options
    })
    .map_err(|err| anyhow::anyhow!("{err:#}"))
    .with_context(|| format!("splitting {}", cargo_wasm.display()))?;
    if split.split_modules.is_empty() {
        bail!(
            "{} has no split points: was it built with `--cfg wasm_split` and `--emit-relocs` (dist.rs)?",
            cargo_wasm.display()
        );
    }

    // The main module's glue, as trunk's wasm-bindgen call makes it, keeping the exports the chunks import.
    let bindgen = work.join("bindgen");
    run_checked(
        command("wasm-bindgen")
            .args(["--target=web", "--no-typescript", "--keep-lld-exports", "--no-demangle", "--out-name=main"])
            .arg(format!("--out-dir={}", bindgen.display()))
            .arg(&main_unbound),
    )?;
    let mut wasm_files: Vec<PathBuf> = vec![bindgen.join("main_bg.wasm")];
    let mut chunk_paths = split.split_modules.clone();
    chunk_paths.sort();
    wasm_files.extend(chunk_paths.iter().cloned());
    for file in &wasm_files {
        run_checked(command("wasm-opt").args(&wasm_opt_args).arg(file).arg("-o").arg(file))?;
    }

    // Short names for the calls between the main module and its glue, then both JS files minified.
    let read = |path: &Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let glue = String::from_utf8(read(&bindgen.join("main.js"))?).context("wasm-bindgen's glue is not UTF-8")?;
    let loader = String::from_utf8(read(&pieces.join(LOADER))?).context("the split loader is not UTF-8")?;
    let shortened = wasm_names::shorten(&read(&wasm_files[0])?, &glue, GLUE_MODULE, &loader)
        .context("shortening the names between the main wasm and its glue")?;
    std::fs::write(&wasm_files[0], &shortened.wasm).with_context(|| format!("writing {}", wasm_files[0].display()))?;
    println!("shortened {} names between the main wasm and its glue", shortened.renamed);
    let glue = minify::minify(&shortened.glue, Kind::Module, "glue", work)?;
    let loader = minify::minify(&loader, Kind::Module, "loader", work)?;

    // One hash over every piece, as it will be served but for the names.
    let mut hasher = Sha256::new();
    hasher.update(glue.as_bytes());
    hasher.update(loader.as_bytes());
    for file in &wasm_files {
        hasher.update(read(file)?);
    }
    let hash: String = hasher.finalize().iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    let names = Names::new(&trunk.base_name, &hash);

    let chunk_names: Vec<(String, String)> = chunk_paths
        .iter()
        .map(|path| {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            (format!("{stem}.wasm"), names.chunk(&stem))
        })
        .collect();
    let loader = rename_in_loader(&loader, &names.js, &chunk_names)?;
    let glue = rename_in_glue(&glue, &names.loader)?;

    let write = |name: &str, bytes: &[u8]| {
        let path = dist.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    };
    let old_js = read(&dist.join(&trunk.js))?;
    let old_wasm = read(&dist.join(&trunk.wasm))?;
    write(&names.js, glue.as_bytes())?;
    write(&names.wasm, &shortened.wasm)?;
    write(&names.loader, loader.as_bytes())?;
    for ((_, name), path) in chunk_names.iter().zip(&chunk_paths) {
        write(name, &read(path)?)?;
    }
    let mut files: Vec<(String, Vec<u8>, String, Vec<u8>)> = vec![
        (trunk.js.clone(), old_js, names.js.clone(), glue.into_bytes()),
        (trunk.wasm.clone(), old_wasm, names.wasm.clone(), shortened.wasm),
    ];
    // The stylesheet and the classic scripts (fatal.js) trunk copied, minified in place under their names.
    for path in budget::referenced_paths(&html) {
        let name = path.trim_start_matches('/');
        let kind = match name.rsplit_once('.').map(|(_, extension)| extension) {
            Some("css") => Kind::Css,
            Some("js") if name != trunk.js => Kind::Script,
            _ => continue,
        };
        let old = read(&dist.join(name))?;
        let text = String::from_utf8(old.clone()).with_context(|| format!("{name} is not UTF-8"))?;
        let minified = minify::minify(&text, kind, name.trim_end_matches(".css").trim_end_matches(".js"), work)?;
        write(name, minified.as_bytes())?;
        files.push((name.to_string(), old, name.to_string(), minified.into_bytes()));
    }
    let html = rewrite_index(&html, &files, &names.loader, loader.as_bytes())?;
    write("index.html", html.as_bytes())?;
    for old in [&trunk.js, &trunk.wasm] {
        std::fs::remove_file(dist.join(old)).with_context(|| format!("removing trunk's {old}"))?;
    }
    Ok(Output {
        js: names.js,
        wasm: names.wasm,
        loader: names.loader,
        chunks: chunk_names.into_iter().map(|(_, name)| name).collect(),
    })
}

/// Fails unless `dist` holds a chunk for every one of [`SPLIT_POINTS`] and its index.html (the first load) names
/// none of them; returns the chunks' names.
pub(crate) fn check_dist(dist: &Path) -> Result<Vec<String>> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index).with_context(|| format!("reading {}", index.display()))?;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dist).with_context(|| format!("listing {}", dist.display()))? {
        let name = entry.with_context(|| format!("listing {}", dist.display()))?.file_name();
        names.push(name.to_string_lossy().into_owned());
    }
    names.sort();
    let chunks: Vec<String> =
        names.into_iter().filter(|name| name.contains("-split_") || name.contains("-chunk_")).collect();
    let chunks: Vec<String> = chunks.into_iter().filter(|name| name.ends_with(".wasm")).collect();
    for point in SPLIT_POINTS {
        let suffix = format!("-split_{point}.wasm");
        if !chunks.iter().any(|name| name.ends_with(&suffix)) {
            bail!(
                "{} has no chunk *{suffix}: the release build no longer splits `{point}` off (SPLIT_POINTS in \
                 xtask/src/split.rs; is it still a `chunk!` function, and does dist.rs still set --cfg wasm_split?)",
                dist.display()
            );
        }
    }
    let first_load = budget::referenced_paths(&html);
    if let Some(chunk) =
        chunks.iter().find(|chunk| first_load.iter().any(|path| path.trim_start_matches('/') == chunk.as_str()))
    {
        bail!("index.html names the chunk {chunk}, so the first load fetches it");
    }
    Ok(chunks)
}

/// The root's index.html, which holds trunk's wasm-opt settings.
fn source_index() -> Result<String> {
    let path = crate::workspace::root().join("index.html");
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

/// The names trunk gave the glue and the wasm (below dist), and their common base (`permission-spa-<hash>`).
#[derive(Debug, PartialEq, Eq)]
struct TrunkOutput {
    js: String,
    wasm: String,
    base_name: String,
}

impl TrunkOutput {
    /// Finds them in trunk's index.html: the wasm is the one `_bg.wasm` it names, the glue the `.js` of that base.
    fn find(html: &str) -> Result<TrunkOutput> {
        let paths = budget::referenced_paths(html);
        let Some(wasm) = paths.iter().find(|path| path.ends_with("_bg.wasm")) else {
            bail!("trunk's index.html names no `_bg.wasm`");
        };
        let wasm = wasm.trim_start_matches('/').to_string();
        let base = wasm.trim_end_matches("_bg.wasm").to_string();
        let js = format!("{base}.js");
        if !paths.iter().any(|path| path.trim_start_matches('/') == js) {
            bail!("trunk's index.html names {wasm} but not its glue {js}");
        }
        // The base without trunk's hash: `permission-spa-1a2b` -> `permission-spa`.
        let base_name = match base.rsplit_once('-') {
            Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
            _ => base,
        };
        Ok(TrunkOutput { js, wasm, base_name })
    }
}

/// The names of this build's files.
struct Names {
    base: String,
    js: String,
    wasm: String,
    loader: String,
}

impl Names {
    fn new(base_name: &str, hash: &str) -> Names {
        let base = format!("{base_name}-{hash}");
        Names { js: format!("{base}.js"), wasm: format!("{base}_bg.wasm"), loader: format!("{base}-split.js"), base }
    }

    fn chunk(&self, stem: &str) -> String {
        format!("{}-{stem}.wasm", self.base)
    }
}

/// wasm-opt's arguments from index.html's trunk link: `-O<data-wasm-opt>`, then `data-wasm-opt-params`, as trunk
/// passes them.
fn wasm_opt_args(index_html: &str) -> Result<Vec<String>> {
    let Some(start) = index_html.find("rel=\"rust\"") else { bail!("index.html has no trunk rust link") };
    let tag_start = index_html[..start].rfind('<').unwrap_or(0);
    let tag_end = index_html[start..].find('>').map_or(index_html.len(), |end| start + end);
    let tag = &index_html[tag_start..tag_end];
    let attribute = |name: &str| {
        let key = format!("{name}=\"");
        tag.find(&key).and_then(|at| {
            let value = &tag[at + key.len()..];
            value.find('"').map(|end| value[..end].to_string())
        })
    };
    let level = attribute("data-wasm-opt").context("index.html's rust link has no data-wasm-opt")?;
    if level == "0" {
        bail!("index.html turns wasm-opt off (data-wasm-opt=\"0\"), but the split pieces need it");
    }
    let mut args = vec![format!("-O{level}")];
    args.extend(attribute("data-wasm-opt-params").unwrap_or_default().split_whitespace().map(String::from));
    Ok(args)
}

/// The loader with the final names: the main glue it imports `initSync` from, and each chunk it fetches
/// (`(old file name, new file name)`).
fn rename_in_loader(loader: &str, js: &str, chunks: &[(String, String)]) -> Result<String> {
    let mut out = replace_exactly_once(loader, &format!("\"./{MAIN_JS}\""), &format!("\"./{js}\""), LOADER)?;
    for (old, new) in chunks {
        out = replace_exactly_once(&out, &format!("\"./{old}\""), &format!("\"./{new}\""), LOADER)?;
    }
    Ok(out)
}

/// The glue with the loader's final name in its imports (`import * as import1 from "./__wasm_split.js"`, or
/// minified `from"./__wasm_split.js"`). Only the module specifiers change: the keys of the wasm's imports object
/// stay the module name the wasm imports.
fn rename_in_glue(glue: &str, loader: &str) -> Result<String> {
    let mut out = glue.to_string();
    let mut found = false;
    for space in [" ", ""] {
        for quote in ['"', '\''] {
            let old = format!("from{space}{quote}./{LOADER}{quote}");
            found |= out.contains(&old);
            out = out.replace(&old, &format!("from{space}{quote}./{loader}{quote}"));
        }
    }
    if !found {
        bail!("wasm-bindgen's glue does not import ./{LOADER}: the main module has no split point");
    }
    Ok(out)
}

/// `text` with `old` replaced by `new`, failing unless `old` occurs exactly once (`what` names the text).
fn replace_exactly_once(text: &str, old: &str, new: &str, what: &str) -> Result<String> {
    match text.matches(old).count() {
        1 => Ok(text.replacen(old, new, 1)),
        count => bail!("{what} names {old} {count} times, expected once"),
    }
}

/// `sha384-<base64>`, the `integrity` value of `bytes`.
fn integrity(bytes: &[u8]) -> String {
    format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes)))
}

/// trunk's index.html with each of trunk's files (`(old name, old bytes, new name, new bytes)`) replaced by its
/// successor (the same name for a file minified in place), names and `integrity` hashes both, and a `modulepreload` of the loader before `</head>`.
fn rewrite_index(
    html: &str,
    files: &[(String, Vec<u8>, String, Vec<u8>)],
    loader: &str,
    loader_bytes: &[u8],
) -> Result<String> {
    let mut html = html.to_string();
    for (old_name, old_bytes, new_name, new_bytes) in files {
        let old_path = format!("/{old_name}");
        if !html.contains(&old_path) {
            bail!("index.html does not name {old_path}");
        }
        html = html.replace(&old_path, &format!("/{new_name}"));
        html = html.replace(&integrity(old_bytes), &integrity(new_bytes));
    }
    let preload = format!(
        "<link rel=\"modulepreload\" href=\"/{loader}\" crossorigin=\"anonymous\" integrity=\"{}\">",
        integrity(loader_bytes)
    );
    let Some(head_end) = html.find("</head>") else { bail!("index.html has no </head>") };
    html.insert_str(head_end, &format!("{preload}\n"));
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_output_is_found_from_its_index_html() {
        let html = r#"<script type="module">import init from '/permission-spa-9f8e7d.js';
await init({ module_or_path: '/permission-spa-9f8e7d_bg.wasm' });</script>
<link rel="modulepreload" href="/permission-spa-9f8e7d.js"><link rel="stylesheet" href="/main-1a.css">"#;
        assert_eq!(
            TrunkOutput::find(html).unwrap(),
            TrunkOutput {
                js: "permission-spa-9f8e7d.js".into(),
                wasm: "permission-spa-9f8e7d_bg.wasm".into(),
                base_name: "permission-spa".into()
            }
        );
        let err = TrunkOutput::find("<link href=\"/main-1a.css\">").unwrap_err().to_string();
        assert!(err.contains("no `_bg.wasm`"), "{err}");
    }

    #[test]
    fn wasm_opt_takes_the_level_and_params_of_the_rust_link() {
        let html = r#"<link data-trunk rel="css" href="a.css" />
<link data-trunk rel="rust" data-bin="app" data-wasm-opt="s"
  data-wasm-opt-params="--flatten  -Os --enable-bulk-memory" />"#;
        assert_eq!(wasm_opt_args(html).unwrap(), ["-Os", "--flatten", "-Os", "--enable-bulk-memory"]);
        let off = r#"<link data-trunk rel="rust" data-wasm-opt="0" />"#;
        assert!(wasm_opt_args(off).unwrap_err().to_string().contains("turns wasm-opt off"));
    }

    #[test]
    fn the_root_index_html_gives_wasm_opt_its_size_flags() {
        let args = wasm_opt_args(&source_index().unwrap()).unwrap();
        assert_eq!(args[0], "-Os");
        assert!(args.iter().any(|arg| arg == "--enable-bulk-memory"), "{args:?}");
    }

    #[test]
    fn the_loader_and_the_glue_get_the_final_names() {
        let loader = format!(
            "import {{ initSync }} from \"./{MAIN_JS}\";\nconst a = fetch(new URL(\"./split_users.wasm\", \
             import.meta.url));\nconst b = fetch(new URL(\"./chunk_2.wasm\", import.meta.url));"
        );
        let chunks = [
            ("split_users.wasm".to_string(), "app-00ff-split_users.wasm".to_string()),
            ("chunk_2.wasm".to_string(), "app-00ff-chunk_2.wasm".to_string()),
        ];
        let out = rename_in_loader(&loader, "app-00ff.js", &chunks).unwrap();
        assert!(out.contains("from \"./app-00ff.js\""), "{out}");
        assert!(
            out.contains("\"./app-00ff-split_users.wasm\"") && out.contains("\"./app-00ff-chunk_2.wasm\""),
            "{out}"
        );
        let missing = [("split_projects.wasm".to_string(), "x.wasm".to_string())];
        assert!(rename_in_loader(&loader, "app-00ff.js", &missing).is_err());

        // As wasm-bindgen 0.2.130 writes it: the specifiers change, the import object's keys (the wasm's import
        // module) do not.
        let glue = format!(
            "import * as import1 from \"./{LOADER}\"\nimport * as import2 from \"./{LOADER}\"\n\
             const imports = {{ \"./{LOADER}\": import1, \"./{LOADER}\": import2 }};"
        );
        let out = rename_in_glue(&glue, "app-00ff-split.js").unwrap();
        assert_eq!(out.matches("from \"./app-00ff-split.js\"").count(), 2, "{out}");
        assert_eq!(out.matches(&format!("\"./{LOADER}\": import")).count(), 2, "{out}");
        // As esbuild writes it.
        let minified = format!("import*as o from\"./{LOADER}\";const i={{\"./{LOADER}\":o}};");
        let out = rename_in_glue(&minified, "app-00ff-split.js").unwrap();
        assert_eq!(out, format!("import*as o from\"./app-00ff-split.js\";const i={{\"./{LOADER}\":o}};"));
        assert!(rename_in_glue("import x from './other.js';", "y.js").is_err());
    }

    #[test]
    fn index_html_names_the_new_files_with_their_integrity_and_preloads_the_loader() {
        let html = format!(
            "<head><script type=\"module\">import init from '/app-1.js'; init({{ module_or_path: '/app-1_bg.wasm' }});\
             </script><link rel=\"modulepreload\" href=\"/app-1.js\" integrity=\"{}\">\
             <link rel=\"preload\" href=\"/app-1_bg.wasm\" integrity=\"{}\"></head>",
            integrity(b"old js"),
            integrity(b"old wasm")
        );
        let file = |old: &str, old_bytes: &[u8], new: &str, new_bytes: &[u8]| {
            (old.to_string(), old_bytes.to_vec(), new.to_string(), new_bytes.to_vec())
        };
        let out = rewrite_index(
            &html,
            &[
                file("app-1.js", b"old js", "app-2.js", b"new js"),
                file("app-1_bg.wasm", b"old wasm", "app-2_bg.wasm", b"new wasm"),
            ],
            "app-2-split.js",
            b"loader",
        )
        .unwrap();
        assert!(!out.contains("app-1"), "{out}");
        assert!(!out.contains(&integrity(b"old js")) && !out.contains(&integrity(b"old wasm")), "{out}");
        assert!(out.contains(&format!("href=\"/app-2.js\" integrity=\"{}\"", integrity(b"new js"))), "{out}");
        assert!(out.contains(&format!("href=\"/app-2_bg.wasm\" integrity=\"{}\"", integrity(b"new wasm"))), "{out}");
        let preload = format!(
            "<link rel=\"modulepreload\" href=\"/app-2-split.js\" crossorigin=\"anonymous\" integrity=\"{}\">",
            integrity(b"loader")
        );
        assert!(out.contains(&format!("{preload}\n</head>")), "{out}");
        // The loader is then part of what the size budget counts.
        assert!(budget::referenced_paths(&out).contains(&"/app-2-split.js".to_string()));
    }

    /// A fresh directory under the system's temporary directory.
    fn temp_dist(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-split-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_dist_with_every_chunk_outside_the_first_load_passes_the_check() {
        let dist = temp_dist("ok");
        std::fs::write(dist.join("index.html"), "<link rel=\"preload\" href=\"/app-1_bg.wasm\">").unwrap();
        let mut expected: Vec<String> = SPLIT_POINTS.iter().map(|point| format!("app-1-split_{point}.wasm")).collect();
        expected.push("app-1-chunk_3.wasm".into());
        for name in expected.iter().chain(["app-1_bg.wasm".to_string(), "app-1-split_user_list.wasm.br".into()].iter())
        {
            std::fs::write(dist.join(name), "\0asm").unwrap();
        }
        expected.sort();
        assert_eq!(check_dist(&dist).unwrap(), expected);
        std::fs::remove_dir_all(&dist).unwrap();
    }

    #[test]
    fn a_dist_that_stopped_splitting_or_loads_a_chunk_at_once_fails_the_check() {
        let dist = temp_dist("unsplit");
        std::fs::write(dist.join("index.html"), "<link rel=\"preload\" href=\"/app-1_bg.wasm\">").unwrap();
        std::fs::write(dist.join("app-1_bg.wasm"), "\0asm").unwrap();
        let err = check_dist(&dist).unwrap_err().to_string();
        assert!(err.contains("no longer splits `project_list` off"), "{err}");

        for point in SPLIT_POINTS {
            std::fs::write(dist.join(format!("app-1-split_{point}.wasm")), "\0asm").unwrap();
        }
        std::fs::write(
            dist.join("index.html"),
            "<link href=\"/app-1_bg.wasm\"><link href=\"/app-1-split_user_list.wasm\">",
        )
        .unwrap();
        let err = check_dist(&dist).unwrap_err().to_string();
        assert!(err.contains("names the chunk app-1-split_user_list.wasm"), "{err}");
        std::fs::remove_dir_all(&dist).unwrap();
    }

    #[test]
    fn integrity_is_sha384_in_base64() {
        // `printf abc | openssl dgst -sha384 -binary | base64`
        assert_eq!(integrity(b"abc"), "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn");
    }
}
