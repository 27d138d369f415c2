//! Start-up behaviour of the binary: a bad config stops it with the file, the key and the
//! problem; a good one prints `listening on http://ADDR` and serves.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn write_config(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("userdeck.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn bad_config_fails_at_start_naming_file_key_and_problem() {
    let (_dir, path) = write_config(
        "listen = \"127.0.0.1:0\"\n[connections.capsule]\nprovider = \"capsule\"\nbase_url = \"http://127.0.0.1:1/capsule\"\n\
         [connections.capsule.oauth]\nclient_id = \"c\"\nclient_secret_env = \"USERDECK_TEST_SURELY_UNSET\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_userdeck-proxy"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("connections.capsule.oauth.client_secret_env"),
        "{stderr}"
    );
    assert!(
        stderr.contains("USERDECK_TEST_SURELY_UNSET is not set"),
        "{stderr}"
    );
}

#[test]
fn missing_config_file_is_reported() {
    let out = Command::new(env!("CARGO_BIN_EXE_userdeck-proxy"))
        .env("USERDECK_CONFIG", "/nonexistent/userdeck.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("/nonexistent/userdeck.toml: (file): cannot read")
    );
}

#[test]
fn good_config_from_env_serves_and_reads_secrets_from_env() {
    let (_dir, path) = write_config(
        "listen = \"127.0.0.1:0\"\ncookie_key_env = \"UD_TEST_KEY\"\n[connections.app]\nprovider = \"appcrm\"\n\
         base_url = \"http://127.0.0.1:1/appcrm\"\ntoken_env = \"UD_TEST_TOKEN\"\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_userdeck-proxy"))
        .env("USERDECK_CONFIG", &path)
        .env(
            "UD_TEST_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )
        .env("UD_TEST_TOKEN", "1|token")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let served = line.strip_prefix("listening on ").map(|url| {
        let url = format!("{}/api/connections", url.trim());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
        })
        .join()
        .unwrap()
    });
    let _ = child.kill();
    let _ = child.wait();
    let body = served.unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(body.contains("\"auth\":\"server\""), "{body}");
    assert!(!body.contains("1|token"));
}
