//! The release bundle: building `dist/` with Trunk, and measuring what a browser downloads.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::{Compression, write::GzEncoder};

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

/// Writes a gzip -9 `name.gz` beside each wasm, JS and CSS file, which the proxy (and nginx's
/// `gzip_static`, and most CDNs) serve as they are; compressing a megabyte of wasm on every
/// request instead costs a cold load tens of milliseconds of server time.
fn precompress(dist: &Path) -> Result<()> {
    for asset in measure(dist)? {
        let path = dist.join(&asset.name);
        let bytes = std::fs::read(&path)
            .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
        let gz = gzip(&bytes)?;
        let target = dist.join(format!("{}.gz", asset.name));
        std::fs::write(&target, gz)
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

/// The wasm, JS and CSS files of `dist`, with their raw and gzip -9 sizes.
pub fn measure(dist: &Path) -> Result<Vec<Asset>> {
    let entries =
        std::fs::read_dir(dist).map_err(|e| err(format!("cannot list {}: {e}", dist.display())))?;
    let mut assets = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let kind = match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => "wasm",
            Some("js") => "js",
            Some("css") => "css",
            _ => continue,
        };
        let bytes = std::fs::read(&path)
            .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
        assets.push(Asset {
            name: entry.file_name().to_string_lossy().into_owned(),
            kind,
            raw: bytes.len() as u64,
            gzip: gzip_len(&bytes)?,
        });
    }
    assets.sort_by(|a, b| a.kind.cmp(b.kind).then(a.name.cmp(&b.name)));
    Ok(assets)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(|e| err(format!("gzip failed: {e}")))
}

fn gzip_len(bytes: &[u8]) -> Result<u64> {
    gzip(bytes).map(|out| out.len() as u64)
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
