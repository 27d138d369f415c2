//! The `userdeck-sandbox` binary: first stdout line, flags, and a real request to it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn prints_its_address_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_userdeck-sandbox"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--users",
            "20",
            "--seed",
            "7",
            "--cors",
            "*",
            "--appcrm-rate-limit",
            "500",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("listening on ").unwrap().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{first}"
    );
    let banner: Vec<String> = lines.by_ref().take(5).map(Result::unwrap).collect();
    assert!(
        banner
            .join("\n")
            .contains(userdeck_sandbox::demo::CAPSULE_TOKEN)
    );

    let res = reqwest::Client::new()
        .get(format!("{url}/appcrm/api/users"))
        .bearer_auth(userdeck_sandbox::demo::APPCRM_ADMIN_TOKEN)
        .header("accept", "application/json")
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert_eq!(res.headers()["x-ratelimit-limit"], "500");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["meta"]["total"], 20);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn rejects_bad_arguments() {
    for args in [
        &["--nope"][..],
        &["--seed", "x"],
        &["--fault-rate", "3"],
        &["--zurmo-version", "4"],
        &["--listen"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_userdeck-sandbox"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}
