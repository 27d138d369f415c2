//! The release bundle: building `dist/` with Trunk, and measuring what a browser downloads.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, Result, err, run};
use crate::{split, tools};

/// `dist/` at the workspace root, where Trunk writes and the proxy serves from.
pub fn dist_dir() -> PathBuf {
    cmd::root().join("dist")
}

/// What Cargo needs, beyond `Cargo.toml`'s `wasm-release` profile, to rebuild the standard
/// library with the bundle, for size.
///
/// The stock std is compiled for speed and carries the panic machinery: every `panic!`, index
/// check and `unwrap` in the app and its crates keeps a message, a source location and the
/// formatting code that prints them, though with `panic = "abort"` all they can do is log to the
/// console before the page's wasm stops for good. Rebuilt with the app, std is optimised for size
/// (`optimize_for_size`) and a panic stops at once (`immediate-abort`), so all of that goes:
/// 23 KB gzipped of a first visit's 273 (`cargo xtask dist`, 24 Nov 2026). A panic in the
/// release bundle then shows in the console as "RuntimeError: unreachable" instead of its
/// message; the tests' and `trunk serve`'s builds keep the stock std and the message.
///
/// Both are unstable Cargo/rustc options, and the machine has the stable toolchain only (no
/// nightly can be fetched), so `RUSTC_BOOTSTRAP=1` unlocks them for this one build. They are
/// what the toolchain pinned in `Cargo.toml` (`rust-version`) accepts; a newer compiler that
/// renames them fails this build with its own message, not silently. The variables apply to the
/// `wasm-release` profile's build only: no other build uses that profile, so the servers' and
/// tests' builds never see them, and their artifacts are never rebuilt because of them.
const STD_FOR_SIZE: [(&str, &str); 4] = [
    ("RUSTC_BOOTSTRAP", "1"),
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    ("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size"),
    // Added to `.cargo/config.toml`'s flags for the target, not in place of them.
    (
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        "-Zunstable-options -Cpanic=immediate-abort",
    ),
];

/// Whether rustup installed the standard library's source (the `rust-src` component), which
/// rebuilding std needs.
pub fn std_source_installed() -> bool {
    cmd::probe("rustc", &["--print", "sysroot"]).is_some_and(|sysroot| {
        Path::new(&sysroot)
            .join("lib/rustlib/src/rust/library/Cargo.lock")
            .is_file()
    })
}

/// Builds `dist/` with `trunk build --release --offline` (after `cargo fetch`, which offline
/// mode needs), with the project's own wasm-opt first on `PATH` and std rebuilt for size
/// ([`STD_FOR_SIZE`]) when its source is installed.
pub fn build_release() -> Result<()> {
    let std_env: &[(&str, &str)] = if std_source_installed() {
        &STD_FOR_SIZE
    } else {
        println!(
            "warning: rust-src is not installed (`rustup component add rust-src`): building \
             with the stock std, about 23 KB gzipped larger"
        );
        &[]
    };
    run(cmd::cargo().arg("fetch"))?;
    if !std_env.is_empty() {
        // std's own dependencies, which a plain fetch leaves out.
        run(cmd::cargo()
            .args(["fetch", "--target", "wasm32-unknown-unknown"])
            .envs(std_env.iter().copied()))?;
    }
    let path = std::env::join_paths(std::iter::once(tools::npm_bin_dir()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .map_err(|e| err(format!("cannot build PATH: {e}")))?;
    run(Command::new("trunk")
        .args(["build", "--release", "--offline", "--features", "split"])
        .current_dir(cmd::root())
        .env("PATH", path)
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .envs(std_env.iter().copied()))?;
    if !dist_dir().join("index.html").is_file() {
        return Err(err("trunk finished but dist/index.html is missing"));
    }
    let lazy = split::apply(&dist_dir(), &tools::npm_bin_dir())?;
    println!("split off, fetched on demand: {}", lazy.join(", "));
    precompress(&dist_dir())
}

/// Writes a gzip `name.gz` and a Brotli `name.br` beside each wasm, JS and CSS file, which the
/// proxy (and nginx's `gzip_static`/`brotli_static`, and most CDNs) serve as they are;
/// compressing a megabyte of wasm on every request instead costs a cold load tens of
/// milliseconds of server time. Done once per build, it can afford the slowest settings: zopfli,
/// whose output any gzip reader takes, 4 % smaller than gzip -9's for the wasm, and Brotli's
/// quality 11, which browsers ask for over HTTPS and from localhost (a fifth smaller for the wasm).
fn precompress(dist: &Path) -> Result<()> {
    for (name, _) in bundle_files(dist)? {
        let path = dist.join(&name);
        let bytes = cmd::read(&path)?;
        for (suffix, packed) in [("gz", gzip(&bytes)?), ("br", brotli(&bytes)?)] {
            cmd::write(&dist.join(format!("{name}.{suffix}")), packed)?;
        }
    }
    Ok(())
}

/// One downloaded file of the bundle.
pub struct Asset {
    pub name: String,
    pub kind: &'static str,
    /// A split-off wasm module (split.rs), fetched when a screen first needs it, not on the
    /// first visit.
    pub on_demand: bool,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// The wasm, JS and CSS files of `dist` (names and kinds), sorted by kind and name.
fn bundle_files(dist: &Path) -> Result<Vec<(String, &'static str)>> {
    let mut files = Vec::new();
    for entry in cmd::list(dist)?.flatten() {
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

/// The wasm, JS and CSS files of `dist`, with their raw sizes and the compressed sizes a browser
/// downloads: the precompressed `.gz` and `.br` beside each file, or the same compression done
/// here when there is none.
pub fn measure(dist: &Path) -> Result<Vec<Asset>> {
    let mut assets = Vec::new();
    for (name, kind) in bundle_files(dist)? {
        let path = dist.join(&name);
        let bytes = cmd::read(&path)?;
        let packed = |suffix: &str, pack: fn(&[u8]) -> Result<Vec<u8>>| match std::fs::metadata(
            dist.join(format!("{name}.{suffix}")),
        ) {
            Ok(file) => Ok(file.len()),
            Err(_) => pack(&bytes).map(|p| p.len() as u64),
        };
        assets.push(Asset {
            gzip: packed("gz", gzip)?,
            brotli: packed("br", brotli)?,
            on_demand: kind == "wasm" && !name.ends_with("_bg.wasm"),
            name,
            kind,
            raw: bytes.len() as u64,
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

/// `bytes` in the Brotli format at quality 11 with the default 4 MiB window, larger than the
/// wasm, so every repeat in it can be referenced.
fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
        .map_err(|e| err(format!("brotli failed: {e}")))?;
    Ok(out)
}

/// A Markdown table of `assets` with per-kind totals, then what a first visit downloads (the
/// figure the budget counts), what the split-off modules add when their screens open, and all.
pub fn report(assets: &[Asset]) -> String {
    let kb = |n: u64| format!("{:.1} KB", n as f64 / 1024.0);
    let mut out = String::from("| file | raw | gzip | brotli |\n|---|---:|---:|---:|\n");
    let mut row = |name: &str, of: &mut dyn Iterator<Item = &Asset>, bold: bool| {
        let (raw, gzip, brotli) = of.fold((0, 0, 0), |(r, g, b), a| {
            (r + a.raw, g + a.gzip, b + a.brotli)
        });
        let gzip = if bold {
            format!("**{}**", kb(gzip))
        } else {
            kb(gzip)
        };
        out.push_str(&format!(
            "| {name} | {} | {gzip} | {} |\n",
            kb(raw),
            kb(brotli)
        ));
    };
    for a in assets {
        let name = if a.on_demand {
            format!("{} (on demand)", a.name)
        } else {
            a.name.clone()
        };
        row(&name, &mut std::iter::once(a), false);
    }
    for kind in ["wasm", "js", "css"] {
        row(
            &format!("all {kind}"),
            &mut assets.iter().filter(|a| a.kind == kind),
            false,
        );
    }
    row(
        "**first visit** (wasm + js + css)",
        &mut assets.iter().filter(|a| !a.on_demand),
        true,
    );
    row(
        "on demand (split-off screens)",
        &mut assets.iter().filter(|a| a.on_demand),
        false,
    );
    row("total", &mut assets.iter(), false);
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// What `dist` holds beside each asset must unpack to the asset itself, or a browser that
    /// takes the precompressed file runs something else than was built.
    #[test]
    fn precompressed_files_unpack_to_their_asset() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let wasm: Vec<u8> = (0..5_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        std::fs::write(dir.join("app_bg.wasm"), &wasm).unwrap();
        std::fs::write(dir.join("index.html"), "<html></html>").unwrap();

        precompress(dir).unwrap();

        let mut gunzipped = Vec::new();
        let gz = std::fs::read(dir.join("app_bg.wasm.gz")).unwrap();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut gunzipped)
            .unwrap();
        assert_eq!(gunzipped, wasm);
        let mut unbrotlied = Vec::new();
        let br = std::fs::read(dir.join("app_bg.wasm.br")).unwrap();
        brotli::BrotliDecompress(&mut &br[..], &mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, wasm);
        assert!(
            !dir.join("index.html.br").exists(),
            "only the hashed assets"
        );

        let assets = measure(dir).unwrap();
        assert_eq!(assets.len(), 1);
        assert_eq!(assets[0].gzip, gz.len() as u64);
        assert_eq!(assets[0].brotli, br.len() as u64);
        assert!(assets[0].brotli < assets[0].gzip, "Brotli packs smaller");
        assert!(
            !assets[0].on_demand,
            "the main module comes on the first visit"
        );
    }

    /// The budget counts the first visit: the main wasm, the JS and the CSS, not the split-off
    /// modules a screen fetches when it opens.
    #[test]
    fn the_first_visit_leaves_out_the_split_off_modules() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for (name, len) in [
            ("app-0123456789abcdef_bg.wasm", 3000),
            ("app-0123456789abcdef.js", 1000),
            ("app-0123456789abcdef_split_screens.wasm", 700),
            ("app-0123456789abcdef_chunk_4.wasm", 200),
        ] {
            std::fs::write(dir.join(name), vec![7u8; len]).unwrap();
        }
        let assets = measure(dir).unwrap();
        let on_demand: Vec<&str> = assets
            .iter()
            .filter(|a| a.on_demand)
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            on_demand,
            [
                "app-0123456789abcdef_chunk_4.wasm",
                "app-0123456789abcdef_split_screens.wasm"
            ]
        );
        let table = report(&assets);
        let line = |label: &str| {
            table
                .lines()
                .find(|l| l.starts_with(&format!("| {label}")))
                .unwrap_or_else(|| panic!("no {label} row in\n{table}"))
                .to_string()
        };
        // Raw sizes: 3000 + 1000 bytes first, 700 + 200 on demand.
        assert!(line("**first visit**").contains("| 3.9 KB |"), "{table}");
        assert!(line("on demand").contains("| 0.9 KB |"), "{table}");
        assert!(line("total").contains("| 4.8 KB |"), "{table}");
    }
}
