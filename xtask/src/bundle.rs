//! The release bundle: building `dist/` with Trunk, and measuring what a browser downloads.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, Result, err, run};
use crate::tools;

/// `dist/` at the workspace root, where Trunk writes and the proxy serves from.
pub fn dist_dir() -> PathBuf {
    cmd::root().join("dist")
}

/// Builds `dist/` with `trunk build --release --offline` (after `cargo fetch`, which offline
/// mode needs), with the project's own wasm-opt first on `PATH`.
pub fn build_release() -> Result<()> {
    run(cmd::cargo().arg("fetch"))?;
    let path = std::env::join_paths(std::iter::once(tools::npm_bin_dir()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .map_err(|e| err(format!("cannot build PATH: {e}")))?;
    run(Command::new("trunk")
        .args(["build", "--release", "--offline"])
        .current_dir(cmd::root())
        .env("PATH", path)
        .env("TRUNK_SKIP_VERSION_CHECK", "true"))?;
    if !dist_dir().join("index.html").is_file() {
        return Err(err("trunk finished but dist/index.html is missing"));
    }
    precompress(&dist_dir())
}

/// Writes a gzip `name.gz` beside each wasm, JS and CSS file, which the proxy (and nginx's
/// `gzip_static`, and most CDNs) serve as they are; compressing a megabyte of wasm on every
/// request instead costs a cold load tens of milliseconds of server time. Done once per build,
/// it can afford zopfli: any gzip reader takes its output, 4 % smaller than gzip -9's for the
/// wasm, in about 3 s.
fn precompress(dist: &Path) -> Result<()> {
    for (name, _) in bundle_files(dist)? {
        let path = dist.join(&name);
        let bytes = std::fs::read(&path)
            .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
        let target = dist.join(format!("{name}.gz"));
        std::fs::write(&target, gzip(&bytes)?)
            .map_err(|e| err(format!("cannot write {}: {e}", target.display())))?;
    }
    Ok(())
}

/// One downloaded file of the bundle.
pub struct Asset {
    pub name: String,
    pub kind: &'static str,
    pub raw: u64,
    pub gzip: u64,
}

/// The wasm, JS and CSS files of `dist` (names and kinds), sorted by kind and name.
fn bundle_files(dist: &Path) -> Result<Vec<(String, &'static str)>> {
    let entries =
        std::fs::read_dir(dist).map_err(|e| err(format!("cannot list {}: {e}", dist.display())))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let kind = match entry.path().extension().and_then(|e| e.to_str()) {
            Some("wasm") => "wasm",
            Some("js") => "js",
            Some("css") => "css",
            _ => continue,
        };
        files.push((entry.file_name().to_string_lossy().into_owned(), kind));
    }
    files.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
    Ok(files)
}

/// The wasm, JS and CSS files of `dist`, with their raw sizes and the gzip sizes a browser
/// downloads: the precompressed `.gz` beside each file, or the same compression done here when
/// there is none.
pub fn measure(dist: &Path) -> Result<Vec<Asset>> {
    let mut assets = Vec::new();
    for (name, kind) in bundle_files(dist)? {
        let path = dist.join(&name);
        let bytes = std::fs::read(&path)
            .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
        let gzip = match std::fs::metadata(dist.join(format!("{name}.gz"))) {
            Ok(gz) => gz.len(),
            Err(_) => gzip(&bytes)?.len() as u64,
        };
        assets.push(Asset {
            name,
            kind,
            raw: bytes.len() as u64,
            gzip,
        });
    }
    Ok(assets)
}

/// `bytes` in the gzip format, compressed by zopfli (its default 15 iterations).
fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        bytes,
        &mut out,
    )
    .map_err(|e| err(format!("gzip failed: {e}")))?;
    Ok(out)
}

/// A Markdown table of `assets` with per-kind and overall totals.
pub fn report(assets: &[Asset]) -> String {
    let kb = |n: u64| format!("{:.1} KB", n as f64 / 1024.0);
    let mut out = String::from("| file | raw | gzip |\n|---|---:|---:|\n");
    for a in assets {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            a.name,
            kb(a.raw),
            kb(a.gzip)
        ));
    }
    for kind in ["wasm", "js", "css"] {
        let (raw, gzip) = assets
            .iter()
            .filter(|a| a.kind == kind)
            .fold((0, 0), |(r, g), a| (r + a.raw, g + a.gzip));
        out.push_str(&format!("| all {kind} | {} | {} |\n", kb(raw), kb(gzip)));
    }
    let (raw, gzip) = assets
        .iter()
        .fold((0, 0), |(r, g), a| (r + a.raw, g + a.gzip));
    out.push_str(&format!("| **total** | {} | **{}** |\n", kb(raw), kb(gzip)));
    out
}
