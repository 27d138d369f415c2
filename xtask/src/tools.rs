//! Installing what the project needs on a fresh machine, and nothing more on a second run.
//!
//! Only the package registries are reachable here (crates.io, Debian, npm), and rustup for the
//! installed toolchain's own parts, so every tool comes from one of them: the wasm target and the
//! standard library's source from rustup, Trunk and the wasm-bindgen CLI from crates.io, Chromium
//! and npm itself from Debian, wasm-opt (binaryen), terser and axe-core from npm.
//! Each step first checks what is installed and skips when the version is right.

use std::path::PathBuf;
use std::process::Command;

use crate::bundle;
use crate::cmd::{self, Result, err, probe, run, step};

/// The Trunk release this project builds with: 0.22 needs a newer rustc than the machine has.
pub const TRUNK_VERSION: &str = "0.21.14";

/// What a command needs installed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Building the bundle: the wasm target, Trunk, wasm-bindgen, wasm-opt and terser (and
    /// axe-core, which comes in the same npm install).
    Build,
    /// Building plus a headless browser and its driver.
    Browser,
}

/// Installs whatever is missing for `needs`, one timed step per tool.
pub fn ensure(needs: Needs) -> Result<()> {
    let bindgen = wasm_bindgen_version()?;
    check_trunk_toml_pin(&bindgen)?;

    step("wasm32 target", || {
        let installed = probe("rustup", &["target", "list", "--installed"]).unwrap_or_default();
        if installed
            .lines()
            .any(|t| t.trim() == "wasm32-unknown-unknown")
        {
            println!("already installed");
            return Ok(());
        }
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
    })?;

    // The standard library's source, from the same place as the target: the release bundle
    // rebuilds std for size (bundle.rs). Without it the bundle still builds, with the stock std.
    step("standard library source (rust-src)", || {
        if bundle::std_source_installed() {
            println!("already installed");
            return Ok(());
        }
        if let Err(e) = run(Command::new("rustup").args(["component", "add", "rust-src"])) {
            println!("could not install rust-src ({e}); the bundle will use the stock std");
        }
        Ok(())
    })?;

    step(&format!("trunk {TRUNK_VERSION}"), || {
        if probe("trunk", &["--version"]).as_deref() == Some(&format!("trunk {TRUNK_VERSION}")) {
            println!("already installed");
            return Ok(());
        }
        println!("compiling Trunk from crates.io (about 6-11 minutes on 2 cores)");
        run(cmd::cargo().args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
    })?;

    step(&format!("wasm-bindgen-cli {bindgen}"), || {
        let want = format!("wasm-bindgen {bindgen}");
        let have_cli = probe("wasm-bindgen", &["--version"]).as_deref() == Some(want.as_str());
        let have_runner = probe("wasm-bindgen-test-runner", &["--version"])
            .is_some_and(|v| v.ends_with(&bindgen));
        if have_cli && have_runner {
            println!("already installed");
            return Ok(());
        }
        // Not `--locked`: the CLI's lock file names a crate version the registry no longer has.
        println!("compiling the wasm-bindgen CLI from crates.io (about 4-5 minutes)");
        run(cmd::cargo().args(["install", "wasm-bindgen-cli", "--version", &bindgen]))
    })?;

    let mut debian = Vec::new();
    if probe("npm", &["--version"]).is_none() {
        debian.extend(["nodejs", "npm"]);
    }
    if needs == Needs::Browser {
        if probe("chromium", &["--version"]).is_none() {
            debian.push("chromium");
        }
        if probe("chromedriver", &["--version"]).is_none() {
            debian.push("chromium-driver");
        }
    }
    step("Debian packages", || {
        if debian.is_empty() {
            println!("already installed");
            return Ok(());
        }
        apt_install(&debian)
    })?;

    step(
        "npm tools (wasm-opt from binaryen, terser, axe-core)",
        ensure_npm_tools,
    )?;
    Ok(())
}

/// `tools/`: the npm packages the project pins in `package.json` and `package-lock.json`.
pub fn npm_dir() -> PathBuf {
    cmd::root().join("tools")
}

/// Where the npm tools' programs are; prepended to `PATH` for Trunk, so it finds this wasm-opt
/// (Debian's binaryen 108 miscompiles wasm-bindgen's externref table: the page dies at start).
pub fn npm_bin_dir() -> PathBuf {
    npm_dir().join("node_modules/.bin")
}

/// axe-core's browser script, injected by the end-to-end tests.
pub fn axe_js() -> PathBuf {
    npm_dir().join("node_modules/axe-core/axe.min.js")
}

/// `npm ci` in `tools/` unless every package is installed at the version `package.json` pins.
fn ensure_npm_tools() -> Result<()> {
    let dir = npm_dir();
    let manifest = cmd::read_text(&dir.join("package.json"))?;
    let missing: Vec<&str> = ["axe-core", "binaryen", "terser"]
        .into_iter()
        .filter(|name| {
            let wanted = quoted_after(&manifest, &format!("\"{name}\":"));
            let installed =
                std::fs::read_to_string(dir.join("node_modules").join(name).join("package.json"))
                    .ok()
                    .and_then(|text| quoted_after(&text, "\"version\":"));
            wanted.is_none() || wanted != installed
        })
        .collect();
    if missing.is_empty() {
        println!("already installed");
        return Ok(());
    }
    println!("installing {missing:?} from the npm registry");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir))
}

/// The first string literal after `key` in a JSON text (enough for package.json files).
fn quoted_after(text: &str, key: &str) -> Option<String> {
    let rest = &text[text.find(key)? + key.len()..];
    let start = rest.find('"')? + 1;
    let len = rest[start..].find('"')?;
    Some(rest[start..start + len].to_owned())
}

fn apt_install(packages: &[&str]) -> Result<()> {
    let command = format!(
        "apt-get update && apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    if probe("id", &["-u"]).as_deref() != Some("0") {
        return Err(err(format!(
            "missing Debian packages {packages:?}; as root run:\n    {command}"
        )));
    }
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
pub fn wasm_bindgen_version() -> Result<String> {
    let lock_path = cmd::root().join("Cargo.lock");
    let lock = cmd::read_text(&lock_path)?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    Err(err(format!(
        "no wasm-bindgen package in {}",
        lock_path.display()
    )))
}

/// Trunk would otherwise try to download its own wasm-bindgen, which fails offline.
fn check_trunk_toml_pin(version: &str) -> Result<()> {
    let path = cmd::root().join("Trunk.toml");
    let text = cmd::read_text(&path)?;
    let pinned = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("wasm_bindgen = \""))
        .and_then(|v| v.strip_suffix('"'));
    if pinned == Some(version) {
        Ok(())
    } else {
        Err(err(format!(
            "Trunk.toml pins wasm_bindgen = {pinned:?} but Cargo.lock has {version}: make them equal"
        )))
    }
}
