//! Splitting the release wasm so a first visit fetches only what the users list needs.
//!
//! The app marks its lazily loaded screens and panels (`src/lazy.rs`, the `split` feature) and
//! links with relocations (`build.rs`). Trunk builds that binary and writes `dist/` as usual;
//! this step then redoes the wasm part from the same compiler output:
//!
//! 1. `wasm_split_cli_support` cuts it into the main module, one module per split (`screens`,
//!    `sign_in`, ...) and the chunks several splits share, plus the JS that fetches and links
//!    them (`userdeck-<hash>_split.js`);
//! 2. wasm-bindgen makes the main module's JS glue, keeping the function table and the other
//!    linker exports the split modules import, after the exports nothing calls are dropped;
//! 3. the main module's imports from that glue get short names on both sides (2 and 3 are
//!    `boundary.rs`);
//! 4. wasm-opt shrinks every module with the options `index.html` gives Trunk;
//! 5. terser minifies the JS, and the files replace Trunk's under the same content hash (the
//!    split output is a function of the binary Trunk hashed), and `index.html` gets their
//!    integrity hashes and a `modulepreload` for the loader, which the main JS imports.
//!
//! Trunk's own output of the marked binary cannot run (it imports the splitter's placeholder
//! module), so it is always replaced; `trunk build` without the feature still makes a working,
//! unsplit bundle.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use sha2::{Digest, Sha384};

use crate::boundary;
use crate::cmd::{self, Result, err, run};

/// The wasm target directory's release binary, as Cargo leaves it (before wasm-bindgen).
fn compiler_output() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cmd::root().join("target"));
    target.join("wasm32-unknown-unknown/wasm-release/userdeck.wasm")
}

/// Trunk's `userdeck-<hash>.js` in `dist`: the hash.
fn trunk_hash(dist: &Path) -> Result<String> {
    let mut hashes: Vec<String> = cmd::list(dist)?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let hash = name.strip_prefix("userdeck-")?.strip_suffix(".js")?;
            hash.chars()
                .all(|c| c.is_ascii_hexdigit())
                .then(|| hash.to_string())
        })
        .collect();
    match hashes.len() {
        1 => Ok(hashes.remove(0)),
        n => Err(err(format!(
            "expected one userdeck-<hash>.js from Trunk in {}, found {n}",
            dist.display()
        ))),
    }
}

/// The wasm-opt arguments `index.html` gives Trunk (`data-wasm-opt` and
/// `data-wasm-opt-params`), so every module is optimised alike.
pub fn wasm_opt_args(index_html: &str) -> Result<Vec<String>> {
    let attribute = |name: &str| {
        let start = index_html.find(&format!("{name}=\""))? + name.len() + 2;
        let len = index_html[start..].find('"')?;
        Some(index_html[start..start + len].to_string())
    };
    let level = attribute("data-wasm-opt")
        .ok_or_else(|| err("index.html has no data-wasm-opt for the rust asset"))?;
    let mut args = vec![format!("-O{level}")];
    args.extend(
        attribute("data-wasm-opt-params")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string),
    );
    Ok(args)
}

/// `sha384-<base64>`, the form of an `integrity` attribute.
fn integrity(bytes: &[u8]) -> String {
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
    )
}

/// Replaces `integrity=...` on the tag that references `href` (minified HTML: the attribute is
/// unquoted, as Trunk writes it), and returns the new page.
fn set_integrity(html: &str, href: &str, value: &str) -> Result<String> {
    let at = html
        .find(&format!("href=/{href} "))
        .or_else(|| html.find(&format!("href=\"/{href}\"")))
        .ok_or_else(|| err(format!("index.html does not reference {href}")))?;
    let tag_start = html[..at].rfind('<').unwrap_or(0);
    let tag_end = at + html[at..].find('>').unwrap_or(html.len() - at);
    let tag = &html[tag_start..tag_end];
    let Some(attr) = tag.find("integrity=") else {
        return Ok(html.to_string());
    };
    let value_start = tag_start + attr + "integrity=".len();
    let value_end = value_start
        + html[value_start..tag_end]
            .find([' ', '>'])
            .unwrap_or(tag_end - value_start);
    Ok(format!(
        "{}{value}{}",
        &html[..value_start],
        &html[value_end..]
    ))
}

/// Trunk's `index.html` made to load the split files: the main JS and wasm (`replaced`, same
/// names as Trunk's) get their new integrity hashes, and the loader a `modulepreload` (the main
/// JS imports it at once: fetched beside it, it costs no extra round trip).
fn index_with_split(
    html: &str,
    replaced: &[(&str, &[u8])],
    loader: (&str, &[u8]),
) -> Result<String> {
    let mut html = html.to_string();
    for (name, bytes) in replaced {
        html = set_integrity(&html, name, &integrity(bytes))?;
    }
    let head_end = html
        .find("</head>")
        .ok_or_else(|| err("index.html has no </head>"))?;
    html.insert_str(
        head_end,
        &format!(
            "<link crossorigin href=/{} integrity={} rel=modulepreload>",
            loader.0,
            integrity(loader.1)
        ),
    );
    Ok(html)
}

/// Minifies the ES module at `from` into `to` with terser. wasm-bindgen writes its glue for
/// people to read (comments, long local names, a class per exported type): minified, the main
/// glue is 27 KB instead of 58 (7 KB gzipped instead of 9), and the browser parses less before
/// the app starts. `--module` lets terser rename the module's top-level names; exports, the
/// property names the wasm imports by, and import paths stay as they are.
fn minify(npm_bin: &Path, from: &Path, to: &Path) -> Result<()> {
    run(Command::new(npm_bin.join("terser"))
        .arg(from)
        .args(["--module", "--compress", "--mangle", "--output"])
        .arg(to))
}

/// Splits the wasm Trunk just built and puts the pieces in `dist` (see the module docs).
/// Returns the names of the modules fetched on demand.
pub fn apply(dist: &Path, npm_bin: &Path) -> Result<Vec<String>> {
    let hash = trunk_hash(dist)?;
    let stem = format!("userdeck-{hash}");
    let input_path = compiler_output();
    let input = cmd::read(&input_path)?;
    let work = input_path.with_file_name("split");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)
        .map_err(|e| err(format!("cannot create {}: {e}", work.display())))?;

    // 1. Split. The loader imports the main JS by its final name, and the main module imports
    //    the loader by its own.
    let main_wasm = work.join("main.wasm");
    let main_js = format!("{stem}.js");
    let main_import = format!("./{main_js}");
    let loader = format!("{stem}_split.js");
    let link_name = format!("./{loader}");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = &work;
    options.main_out_path = &main_wasm;
    options.main_module = &main_import;
    options.link_name = &link_name;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| err(format!("wasm-split failed: {e:?}")))?;
    if split.split_modules.is_empty() {
        return Err(err(
            "wasm-split found no split points: was the app built with `--features split`?",
        ));
    }

    // 2. wasm-bindgen on the main module, without the exports nothing calls (boundary.rs).
    let main_bytes = boundary::drop_stream_adapters(&cmd::read(&main_wasm)?)?;
    cmd::write(&main_wasm, main_bytes)?;
    run(Command::new("wasm-bindgen")
        .args([
            "--target",
            "web",
            "--keep-lld-exports",
            "--no-typescript",
            "--out-name",
            &stem,
            "--out-dir",
        ])
        .arg(&work)
        .arg(&main_wasm))?;

    // 3. The main module's imports from its glue get short names, in both files
    //    (boundary.rs).
    let main_out = format!("{stem}_bg.wasm");
    let glue = cmd::read_text(&work.join(&main_js))?;
    boundary::check_stream_adapters_unused(&glue)?;
    let (main_bytes, glue) = boundary::shorten_imports(
        &cmd::read(&work.join(&main_out))?,
        &glue,
        &format!("./{stem}_bg.js"),
    )?;
    cmd::write(&work.join(&main_out), main_bytes)?;
    cmd::write(&work.join(&main_js), glue)?;

    // 4. wasm-opt every module, into `dist`; the loader fetches the split modules by their
    //    hashed names, which the proxy and CDNs may cache for good.
    let opt_args = wasm_opt_args(&cmd::read_text(&cmd::root().join("index.html"))?)?;
    let wasm_opt = npm_bin.join("wasm-opt");
    let optimise = |from: &Path, to: &Path| {
        run(Command::new(&wasm_opt)
            .args(&opt_args)
            .arg(from)
            .arg("-o")
            .arg(to))
    };
    optimise(&work.join(&main_out), &dist.join(&main_out))?;
    let mut loader_js = cmd::read_text(&work.join(&loader))?;
    let mut lazy = Vec::new();
    for module in &split.split_modules {
        let name = module
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| err(format!("odd split module path {}", module.display())))?;
        let hashed = format!("{stem}_{name}");
        let quoted = format!("\"./{name}\"");
        if !loader_js.contains(&quoted) {
            return Err(err(format!("the split loader never fetches {name}")));
        }
        loader_js = loader_js.replace(&quoted, &format!("\"./{hashed}\""));
        optimise(module, &dist.join(&hashed))?;
        lazy.push(hashed);
    }

    // 5. The JS beside them, minified, and index.html.
    cmd::write(&work.join(&loader), &loader_js)?;
    for js in [&main_js, &loader] {
        minify(npm_bin, &work.join(js), &dist.join(js))?;
    }
    let glue = cmd::read(&dist.join(&main_js))?;
    let loader_js = cmd::read(&dist.join(&loader))?;
    let main_bytes = cmd::read(&dist.join(&main_out))?;
    let index_path = dist.join("index.html");
    let html = index_with_split(
        &cmd::read_text(&index_path)?,
        &[(&main_js, &glue), (&main_out, &main_bytes)],
        (&loader, &loader_js),
    )?;
    cmd::write(&index_path, html)?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(lazy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_opt_arguments_come_from_the_rust_asset() {
        let html = r#"<link data-trunk rel="rust" data-wasm-opt="z"
              data-wasm-opt-params="--strip-debug --low-memory-unused" />"#;
        assert_eq!(
            wasm_opt_args(html).unwrap(),
            ["-Oz", "--strip-debug", "--low-memory-unused"]
        );
        assert!(wasm_opt_args("<link rel=\"css\">").is_err());
    }

    #[test]
    fn integrity_is_replaced_on_the_tag_of_the_file() {
        let html = "<head><link crossorigin href=/a-1.js integrity=sha384-OLD rel=modulepreload>\
                    <link as=fetch href=/a-1_bg.wasm integrity=sha384-KEEP rel=preload></head>";
        let out = set_integrity(html, "a-1.js", "sha384-NEW").unwrap();
        assert_eq!(
            out,
            "<head><link crossorigin href=/a-1.js integrity=sha384-NEW rel=modulepreload>\
             <link as=fetch href=/a-1_bg.wasm integrity=sha384-KEEP rel=preload></head>"
        );
        assert!(set_integrity(html, "missing.js", "x").is_err());

        // The whole page: both files re-hashed, the loader preloaded at the end of the head.
        let page = index_with_split(
            html,
            &[("a-1.js", b"js"), ("a-1_bg.wasm", b"wasm")],
            ("a-1_split.js", b"abc"),
        )
        .unwrap();
        assert!(page.contains(&format!("href=/a-1.js integrity={} ", integrity(b"js"))));
        assert!(page.contains(&format!(
            "href=/a-1_bg.wasm integrity={} ",
            integrity(b"wasm")
        )));
        assert!(!page.contains("OLD") && !page.contains("KEEP"), "{page}");
        assert!(
            page.ends_with(&format!(
                "<link crossorigin href=/a-1_split.js integrity={} rel=modulepreload></head>",
                integrity(b"abc")
            )),
            "{page}"
        );
        // The digest of "abc" (FIPS 180-2), as browsers compute it.
        assert_eq!(
            integrity(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }
}
