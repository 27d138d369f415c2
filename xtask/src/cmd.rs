//! Running other programs: every command is echoed before it runs, so a CI log shows exactly what
//! happened, and failures carry the command line.

use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// An error of a project command, with what to do about it when we know.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Builds an error from anything printable.
pub fn err(message: impl Into<String>) -> Error {
    Error(message.into())
}

/// The bytes of `path`; the error names the file.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| err(format!("cannot read {}: {e}", path.display())))
}

/// The text of `path`; the error names the file.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| err(format!("cannot read {}: {e}", path.display())))
}

/// Writes `bytes` to `path`; the error names the file.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| err(format!("cannot write {}: {e}", path.display())))
}

/// The entries of the folder `path`; the error names it.
pub fn list(path: &Path) -> Result<std::fs::ReadDir> {
    std::fs::read_dir(path).map_err(|e| err(format!("cannot list {}: {e}", path.display())))
}

fn describe(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs `cmd` with inherited output; an unsuccessful exit is an error.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = describe(cmd);
    println!("$ {line}");
    let status = cmd
        .status()
        .map_err(|e| err(format!("could not start `{line}`: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(err(format!("`{line}` failed ({status})")))
    }
}

/// Runs `cmd`, captures stdout, and returns it trimmed; `None` if it cannot start or fails.
/// Used for version probes, where a missing program is an ordinary answer.
pub fn probe(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Runs `cmd`, copying its stdout to ours line by line and handing each line to `on_line`
/// (stderr is inherited). Returns whether it exited successfully.
pub fn run_streaming(cmd: &mut Command, mut on_line: impl FnMut(&str)) -> Result<bool> {
    let line = describe(cmd);
    println!("$ {line}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("could not start `{line}`: {e}")))?;
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout();
        for text in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = writeln!(out, "{text}");
            on_line(&text);
        }
    }
    let status = child
        .wait()
        .map_err(|e| err(format!("`{line}` could not be waited for: {e}")))?;
    Ok(status.success())
}

/// Prints a step heading, runs `f`, and prints how long it took.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("\n==> {name}");
    let started = Instant::now();
    let outcome = f();
    let took = started.elapsed();
    match &outcome {
        Ok(_) => println!("<== {name}: done in {:.1}s", took.as_secs_f64()),
        Err(e) => println!("<== {name}: FAILED after {:.1}s: {e}", took.as_secs_f64()),
    }
    outcome
}

/// A temporary folder for the programs of one step, emptied when the step starts and removed
/// when the guard drops. chromedriver makes a fresh Chromium profile (15 to 160 MB seen) in
/// `$TMPDIR` per session and leaves it behind when its runner kills it, so browser steps point
/// `TMPDIR` here rather than let every run fill the machine's temp folder.
///
/// The folder sits in the system temp folder under a short name, not inside the checkout:
/// Chromium puts its singleton socket at `$TMPDIR/.org.chromium.Chromium.XXXXXX/SingletonSocket`,
/// a Unix socket path must fit in 108 bytes, and with `TMPDIR` at `<checkout>/target/tmp/<step>`
/// any checkout path over about 40 bytes stopped Chromium from starting ("Chrome instance
/// exited"). The name carries a tag of the checkout, so two checkouts never share a folder, and
/// is the same on every run, so a killed run's folder is emptied by the next.
pub struct ScratchDir(pub std::path::PathBuf);

/// Longest scratch path that leaves Chromium's socket path (45 bytes more) within the limit.
const SCRATCH_PATH_MAX: usize = 60;

impl ScratchDir {
    pub fn new(name: &str) -> Result<ScratchDir> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        root().hash(&mut hasher);
        let folder = format!("userdeck-{:08x}-{name}", hasher.finish() as u32);
        let mut path = std::env::temp_dir().join(&folder);
        if path.as_os_str().len() > SCRATCH_PATH_MAX {
            // A deep `$TMPDIR` of the caller's own would break Chromium the same way.
            path = Path::new("/tmp").join(&folder);
        }
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .map_err(|e| err(format!("cannot create {}: {e}", path.display())))?;
        Ok(ScratchDir(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
}

/// `cargo`, as the one that runs us (so a toolchain override is respected).
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}
