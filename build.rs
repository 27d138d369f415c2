//! With the `split` feature (the release bundle, `cargo xtask dist`), the linker keeps its
//! relocations in the wasm: the splitter (`wasm_split_cli_support`, run by xtask) needs them to
//! tell which code each lazily loaded screen reaches. Only the final link gets the flag, so the
//! dependencies' build cache is shared with every other wasm build.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "wasm32");
    if wasm && std::env::var_os("CARGO_FEATURE_SPLIT").is_some() {
        println!("cargo::rustc-link-arg-bins=--emit-relocs");
    }
}
