//! A harness ended by a signal (Ctrl-C, a timeout's SIGTERM, a closed terminal) runs no `Drop`,
//! and chromedriver sits in a process group of its own, so it does not get the signal. The
//! harness must still end every browser it started: left behind, they keep using CPU and skew
//! the next run's figures.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The processes of `group` that are still running (zombies waiting to be reaped are not).
fn running_in_group(group: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|g| g.parse::<i32>().ok());
            pgrp == Some(group) && state != Some("Z")
        })
        .collect()
}

/// The killed harness could not remove its browser's profile and downloads folders (named
/// `userdeck-*-{pid}-…` in the temp dir): remove them here. (Giving it a temp dir of its own
/// instead would lengthen Chromium's socket paths past the 108 bytes a Unix socket allows when
/// the temp dir is already deep, as under `cargo xtask test`, and Chromium would not start.)
fn remove_folders_of(pid: i32) {
    let tmp = std::env::temp_dir();
    let Ok(entries) = std::fs::read_dir(&tmp) else {
        return;
    };
    let prefixes = [
        format!("userdeck-chromium-{pid}-"),
        format!("userdeck-downloads-{pid}-"),
    ];
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[test]
fn a_signal_that_ends_the_harness_also_ends_its_browsers() {
    for (signal, name) in [
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGHUP, "SIGHUP"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hold-browser"));
        command.stdout(Stdio::piped());
        // As a harness started from a terminal has them. A shell that starts a job in the
        // background (`.ci/run &`) makes it ignore SIGINT, and children inherit that: the
        // harness would rightly keep ignoring it, and there would be nothing to test.
        // SAFETY: only signal(2), which is async-signal-safe, runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    libc::signal(signal, libc::SIG_DFL);
                }
                Ok(())
            });
        }
        let mut holder = command.spawn().expect("start hold-browser");
        let mut line = String::new();
        BufReader::new(holder.stdout.take().expect("its stdout"))
            .read_line(&mut line)
            .expect("hold-browser prints its driver's process group");
        let group: i32 = line.trim().parse().expect("a process group id");
        // chromedriver and at least Chromium's main process.
        let before = running_in_group(group);
        assert!(
            before.len() >= 2,
            "{name}: expected chromedriver and Chromium in group {group}, found {before:?}"
        );

        let holder_pid = i32::try_from(holder.id()).expect("a pid");
        // SAFETY: kill(2) on the child this test started.
        unsafe {
            libc::kill(holder_pid, signal);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            match holder.try_wait().expect("hold-browser's status") {
                Some(status) => break status,
                None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                None => {
                    let _ = holder.kill();
                    let _ = holder.wait();
                    // SAFETY: kill(2) on the process group this test's child started.
                    unsafe {
                        libc::kill(-group, libc::SIGKILL);
                    }
                    remove_folders_of(holder_pid);
                    panic!("{name}: the harness did not end within 10 s");
                }
            }
        };
        assert_eq!(
            status.signal(),
            Some(signal),
            "{name}: the harness should still end by the signal, as it would have"
        );

        let deadline = Instant::now() + Duration::from_secs(10);
        let mut left = running_in_group(group);
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            left = running_in_group(group);
        }
        if !left.is_empty() {
            // Do not leave them for the next test either.
            // SAFETY: kill(2) on the process group this test's child started.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
        remove_folders_of(holder_pid);
        assert!(
            left.is_empty(),
            "{name}: processes of the browser outlived the harness: {left:?}"
        );
    }
}
