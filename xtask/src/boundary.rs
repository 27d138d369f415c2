//! The main wasm module's boundary with its wasm-bindgen glue, trimmed to what the app uses.
//!
//! **Exports nobody calls** ([`drop_stream_adapters`], before wasm-bindgen). Leptos's CSR build
//! links wasm-streams through its server-function client, and wasm-streams' `#[wasm_bindgen]`
//! stream adapters (`IntoUnderlyingSource`, `…Sink`, `…ByteSource`) are exported from every
//! module that links it. Userdeck has no server functions and never hands a Rust stream to JS,
//! so nothing can call them, yet as exports they keep ~4 KB of code (and its glue) in the first
//! visit. Without the exports, wasm-bindgen writes no methods for them and wasm-opt drops the
//! code. wasm-bindgen still writes the three empty class shells, whose `free` names an export
//! that is gone; [`check_stream_adapters_unused`] refuses a glue that could ever create one (a
//! `__wrap`, written when Rust code returns such an object to JS).
//!
//! **Import names** ([`shorten_imports`], after wasm-bindgen). wasm-bindgen names each JS
//! function the module imports `__wbg_<what>_<16 hex digits>`, under the module name
//! `./userdeck-<hash>_bg.js`, and writes every name twice: in the wasm's import section and as a
//! key of the object the glue instantiates the module with. For ~200 imports that is ~15 KB of
//! the first visit's wasm and ~7 KB of its JS, and the hex digits do not compress. The two sides
//! only have to agree, so each import is renamed `a`, `b`, …, `aa`, … and the module `w`, in the
//! wasm and in the glue at once; a glue that does not name each import exactly once, where it
//! is expected, stops the build.
//!
//! Both edits rewrite one section and copy every other byte for byte, so function indices, the
//! name section and debug info stay valid.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ExportSection, ImportSection, RawSection, Section};
use wasmparser::{ImportSectionReader, Imports, Parser, Payload};

use crate::cmd::{Result, err};

/// The module name the renamed imports are given (for "wasm-bindgen").
const MODULE: &str = "w";

/// The `index`-th short name: `a`…`z`, `A`…`Z`, then `aa`, `ab`, … (letters only, so each is a
/// plain identifier as an object key).
fn short_name(mut index: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(char::from(LETTERS[index % LETTERS.len()]));
        index /= LETTERS.len();
        if index == 0 {
            break;
        }
        // Bijective numbering: after `Z` comes `aa`, not `ba`.
        index -= 1;
    }
    name.iter().rev().collect()
}

/// The classes of wasm-streams' stream adapters, as their exports spell them.
const STREAM_ADAPTERS: [&str; 3] = [
    "intounderlyingbytesource",
    "intounderlyingsink",
    "intounderlyingsource",
];

/// `wasm` (before wasm-bindgen) without the exports of wasm-streams' stream adapters: their
/// methods, their `free` and their `__wbindgen_describe_*`.
pub fn drop_stream_adapters(wasm: &[u8]) -> Result<Vec<u8>> {
    let mut dropped = 0;
    let out = rewrite_section(wasm, |payload| {
        let Payload::ExportSection(reader) = payload else {
            return Ok(None);
        };
        let mut section = ExportSection::new();
        for export in reader.clone() {
            let export = export.map_err(broken)?;
            if STREAM_ADAPTERS.iter().any(|c| export.name.contains(c)) {
                dropped += 1;
            } else {
                section.export(export.name, export.kind.into(), export.index);
            }
        }
        Ok(Some(Box::new(section)))
    })?;
    if dropped == 0 {
        return Err(err(
            "the wasm exports no stream adapters: has wasm-streams left the build? \
             Then drop_stream_adapters can go too",
        ));
    }
    Ok(out)
}

/// Refuses a glue in which Rust code could hand one of the dropped stream adapters to JS.
pub fn check_stream_adapters_unused(js: &str) -> Result<()> {
    let lower = js.to_ascii_lowercase();
    for class in STREAM_ADAPTERS {
        if lower.contains(&format!("{class}.__wrap(")) {
            return Err(err(format!(
                "the glue creates {class} objects, whose exports were dropped"
            )));
        }
    }
    Ok(())
}

/// `wasm` and its glue `js` with every import from `module` renamed to a short name.
pub fn shorten_imports(wasm: &[u8], js: &str, module: &str) -> Result<(Vec<u8>, String)> {
    let mut renamed: Vec<(String, String)> = Vec::new();
    let out = rewrite_section(wasm, |payload| match payload {
        Payload::ImportSection(reader) => Ok(Some(Box::new(rename_imports(
            reader.clone(),
            module,
            &mut renamed,
        )?))),
        _ => Ok(None),
    })?;
    if renamed.is_empty() {
        return Err(err(format!("the wasm imports nothing from {module}")));
    }
    let mut glue = replace_once(js, &format!("\"{module}\":"), &format!("{MODULE}:"))?;
    for (old, new) in &renamed {
        // The key must be the glue's only mention of the name: anything else naming it would
        // be left pointing at an import that no longer exists.
        let mentions = glue.matches(old.as_str()).count();
        if mentions != 1 {
            return Err(err(format!(
                "the glue names the import {old} {mentions} times, not once"
            )));
        }
        glue = replace_once(&glue, &format!("{old}:"), &format!("{new}:"))?;
    }
    Ok((out, glue))
}

/// A wasm that wasmparser cannot read.
fn broken(e: wasmparser::BinaryReaderError) -> crate::cmd::Error {
    err(format!("cannot read the wasm: {e}"))
}

/// `wasm` with each section `edit` returns a replacement for replaced, and every other section
/// copied as it is.
fn rewrite_section(
    wasm: &[u8],
    mut edit: impl FnMut(&Payload<'_>) -> Result<Option<Box<dyn Section>>>,
) -> Result<Vec<u8>> {
    // The preamble (magic and version) as it was.
    let mut out = wasm
        .get(..8)
        .ok_or_else(|| err("the wasm is too short to be a module"))?
        .to_vec();
    let mut write = |section: &dyn Section| {
        out.push(section.id());
        section.encode(&mut out);
    };
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(broken)?;
        if let Some(section) = edit(&payload)? {
            write(section.as_ref());
        } else if let Some((id, range)) = payload.as_section() {
            let data = usize::try_from(range.start)
                .ok()
                .zip(usize::try_from(range.end).ok())
                .and_then(|(start, end)| wasm.get(start..end))
                .ok_or_else(|| err("a wasm section lies outside the file"))?;
            write(&RawSection { id, data });
        }
    }
    Ok(out)
}

/// The import section with `module`'s imports renamed, each recorded in `renamed` (old, new).
fn rename_imports(
    reader: ImportSectionReader<'_>,
    module: &str,
    renamed: &mut Vec<(String, String)>,
) -> Result<ImportSection> {
    let mut section = ImportSection::new();
    for group in reader {
        // wasm-bindgen writes one entry per import; the compact encodings are a later proposal.
        let Imports::Single(_, import) = group.map_err(broken)? else {
            return Err(err(
                "the wasm uses compact imports, which this step does not read",
            ));
        };
        let ty = RoundtripReencoder
            .entity_type(import.ty)
            .map_err(|e| err(format!("cannot re-encode the import {}: {e}", import.name)))?;
        if import.module == module {
            let new = short_name(renamed.len());
            section.import(MODULE, &new, ty);
            renamed.push((import.name.to_string(), new));
        } else {
            section.import(import.module, import.name, ty);
        }
    }
    Ok(section)
}

/// `text` with its one occurrence of `from` replaced by `to`; an error when there is not
/// exactly one.
fn replace_once(text: &str, from: &str, to: &str) -> Result<String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        n => Err(err(format!(
            "expected the glue to hold {from} once, found it {n} times"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, Instruction,
        Module, TypeSection, ValType,
    };

    /// The import section of `wasm` as (module, name) pairs.
    fn imports_of(wasm: &[u8]) -> Vec<(String, String)> {
        let mut names = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            if let Ok(Payload::ImportSection(reader)) = payload {
                for group in reader {
                    if let Ok(Imports::Single(_, i)) = group {
                        names.push((i.module.to_string(), i.name.to_string()));
                    }
                }
            }
        }
        names
    }

    /// A module importing `f` and `g` from `glue.js` and `h` from `other`, whose export `run`
    /// calls `g`; `also` are more names for `run`.
    fn module_exporting(also: &[&str]) -> Vec<u8> {
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], [ValType::I32]);
        m.section(&types);
        let mut imports = ImportSection::new();
        imports.import(
            "glue.js",
            "__wbg_f_0123456789abcdef",
            EntityType::Function(0),
        );
        imports.import("other", "h", EntityType::Function(0));
        imports.import(
            "glue.js",
            "__wbg_g_fedcba9876543210",
            EntityType::Function(0),
        );
        m.section(&imports);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut exports = ExportSection::new();
        exports.export("run", ExportKind::Func, 3);
        for name in also {
            exports.export(name, ExportKind::Func, 3);
        }
        m.section(&exports);
        let mut code = CodeSection::new();
        let mut body = Function::new([]);
        body.instruction(&Instruction::LocalGet(0));
        body.instruction(&Instruction::Call(2));
        body.instruction(&Instruction::End);
        code.function(&body);
        m.section(&code);
        m.finish()
    }

    fn module() -> Vec<u8> {
        module_exporting(&[])
    }

    /// The module's export names.
    fn exports_of(wasm: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            if let Ok(Payload::ExportSection(reader)) = payload {
                names.extend(reader.into_iter().flatten().map(|e| e.name.to_string()));
            }
        }
        names
    }

    #[test]
    fn only_the_stream_adapters_exports_are_dropped() {
        let wasm = module_exporting(&[
            "intounderlyingsink_write_58a9338f50bce61c",
            "__wbg_intounderlyingsource_free_58a9338f50bce61c",
            "__wbindgen_describe_intounderlyingbytesource_pull_58a9338f50bce61c",
            "__wbindgen_malloc",
        ]);
        let out = drop_stream_adapters(&wasm).unwrap();
        wasmparser::validate(&out).unwrap();
        assert_eq!(exports_of(&out), ["run", "__wbindgen_malloc"]);
        assert_eq!(imports_of(&out), imports_of(&wasm));
        // Nothing to drop says so: the step has outlived its reason.
        assert!(drop_stream_adapters(&module()).is_err());
    }

    #[test]
    fn a_glue_that_creates_a_stream_adapter_is_refused() {
        assert!(check_stream_adapters_unused(GLUE).is_ok());
        let wraps = format!("{GLUE}\nreturn IntoUnderlyingSource.__wrap(ret);");
        assert!(check_stream_adapters_unused(&wraps).is_err());
    }

    const GLUE: &str = "function imports() {\n    const import0 = {\n        \
        __wbg_f_0123456789abcdef: function(a) { return a; },\n        \
        __wbg_g_fedcba9876543210: function(a) { return a + 1; },\n    };\n    \
        return { \"glue.js\": import0, \"other\": import1 };\n}";

    #[test]
    fn short_names_are_letters_and_never_repeat() {
        let names: Vec<String> = (0..52 * 53 + 5).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[51], "Z");
        assert_eq!(names[52], "aa");
        assert_eq!(names[52 + 52], "ba");
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_alphabetic()))
        );
    }

    #[test]
    fn the_glue_and_the_module_are_renamed_together() {
        let (wasm, js) = shorten_imports(&module(), GLUE, "glue.js").unwrap();
        wasmparser::validate(&wasm).unwrap();
        assert_eq!(
            imports_of(&wasm),
            [("w", "a"), ("other", "h"), ("w", "b")].map(|(m, n)| (m.into(), n.into()))
        );
        assert_eq!(
            js,
            "function imports() {\n    const import0 = {\n        \
             a: function(a) { return a; },\n        \
             b: function(a) { return a + 1; },\n    };\n    \
             return { w: import0, \"other\": import1 };\n}"
        );
        // Everything but the imports is the same, byte for byte: the code still calls import 2.
        let original = module();
        let tail = |w: &[u8]| w[w.len() - 20..].to_vec();
        assert_eq!(tail(&wasm), tail(&original));
    }

    #[test]
    fn a_glue_that_does_not_name_an_import_once_is_refused() {
        // Missing.
        let missing = GLUE.replace("__wbg_g_fedcba9876543210: ", "other_g: ");
        assert!(shorten_imports(&module(), &missing, "glue.js").is_err());
        // Named again elsewhere.
        let twice = format!("{GLUE}\nwasm.__wbg_f_0123456789abcdef;");
        assert!(shorten_imports(&module(), &twice, "glue.js").is_err());
        // The module key is not there.
        let no_module = GLUE.replace("\"glue.js\": import0", "\"x.js\": import0");
        assert!(shorten_imports(&module(), &no_module, "glue.js").is_err());
        // A module that imports nothing from the glue.
        assert!(shorten_imports(&module(), GLUE, "nothing.js").is_err());
    }
}
