//! Static hosting of a Trunk-like `dist/`: content types, caching, SPA fallback, compression
//! (on the fly and precompressed siblings), the Content-Security-Policy on `index.html` and the
//! connection list it carries.

mod common;

use std::io::Read;

use base64::Engine;
use common::*;
use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

const INLINE: &str =
    "import init from '/app-abc123.js';await init({module_or_path:'/app-abc123_bg.wasm'});";

fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let index = format!(
        "<!DOCTYPE html><html><head><link rel=\"modulepreload\" href=\"/app-abc123.js\">\
         <script type=\"module\">{INLINE}</script></head><body></body></html>"
    );
    std::fs::write(dir.path().join("index.html"), index).unwrap();
    std::fs::write(dir.path().join("app-abc123_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(
        dir.path().join("app-abc123.js"),
        "export default function init() {}\n".repeat(200),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("style-0123456789abcdef.css"),
        "body{margin:0}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("style-0123456789abcdef.css.br"),
        b"BROTLI-BYTES",
    )
    .unwrap();
    std::fs::write(dir.path().join("favicon.ico"), b"icon").unwrap();
    dir
}

async fn setup(dir: &tempfile::TempDir) -> userdeck_proxy::Proxy {
    proxy(
        &format!("static_dir = {:?}", dir.path().display().to_string()),
        0,
    )
    .await
}

#[tokio::test]
async fn index_has_no_cache_and_a_strict_policy_with_the_inline_script_hash() {
    let dir = dist();
    let proxy = setup(&dir).await;
    for path in ["/", "/index.html", "/users", "/users/42/edit"] {
        let response = client()
            .get(format!("{}{path}", proxy.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let h = response.headers();
        assert_eq!(h["content-type"], "text/html; charset=utf-8", "{path}");
        assert_eq!(h["cache-control"], "no-cache");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let csp = h["content-security-policy"].to_str().unwrap();
        let hash =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(INLINE.as_bytes()));
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}'"
            )),
            "{csp}"
        );
        assert!(
            csp.contains("default-src 'self'")
                && csp.contains("object-src 'none'")
                && csp.contains("frame-ancestors 'none'")
        );
        assert!(
            !csp.contains(" 'unsafe-eval'"),
            "no plain unsafe-eval: {csp}"
        );
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(
            !script_src.contains("unsafe-inline"),
            "inline scripts only by hash: {csp}"
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("<script type=\"module\">")
        );
    }
}

#[tokio::test]
async fn assets_have_types_and_long_cache_when_hashed() {
    let dir = dist();
    let proxy = setup(&dir).await;
    let wasm = client()
        .get(format!("{}/app-abc123_bg.wasm", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let js = client()
        .get(format!("{}/app-abc123.js", proxy.url()))
        .send()
        .await
        .unwrap();
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let icon = client()
        .get(format!("{}/favicon.ico", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        icon.headers()["cache-control"],
        "no-cache",
        "unhashed names must revalidate"
    );
    let missing = client()
        .get(format!("{}/app-missing.js", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        missing.status(),
        404,
        "a missing asset is not answered with HTML"
    );
    let post = client()
        .post(format!("{}/users", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
}

#[tokio::test]
async fn responses_are_compressed_on_the_fly_or_precompressed() {
    let dir = dist();
    let proxy = setup(&dir).await;
    let gz = client()
        .get(format!("{}/app-abc123.js", proxy.url()))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let packed = gz.bytes().await.unwrap();
    let mut text = String::new();
    GzDecoder::new(packed.as_ref())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "export default function init() {}\n".repeat(200));
    let br = client()
        .get(format!("{}/style-0123456789abcdef.css", proxy.url()))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["content-type"], "text/css");
    assert_eq!(
        br.bytes().await.unwrap().as_ref(),
        b"BROTLI-BYTES",
        "the precompressed sibling is served"
    );
}

#[tokio::test]
async fn index_carries_the_connection_list_and_no_name_can_break_out_of_it() {
    let dir = index_only_dist();
    let sandbox = sandbox().await;
    // A name written to end the data block and run a script, with the other characters HTML
    // treats specially.
    let hostile = r#"Sales </script><script>alert(1)</script> <!-- & "team" </SCRIPT >"#;
    let proxy = proxy(
        &format!(
            "static_dir = {:?}\n[connections.sales]\nname = {:?}\nprovider = \"appcrm\"\n\
             base_url = \"{}\"\n",
            dir.path().display().to_string(),
            hostile,
            sandbox.appcrm_base()
        ),
        0,
    )
    .await;
    let list: serde_json::Value =
        serde_json::from_str(&get_text(&format!("{}/api/connections", proxy.url()), None).await)
            .unwrap();
    assert_eq!(list["connections"][0]["name"], hostile);
    for path in ["/", "/index.html", "/c/sales/users?page=2"] {
        let page = get_text(&format!("{}{path}", proxy.url()), None).await;
        // Cut where a browser would cut it, the block still holds the whole list.
        assert_eq!(embedded_connections(&page), list, "{path}");
        assert_eq!(
            page.to_ascii_lowercase().matches("</script").count(),
            1,
            "only the block's own end tag: {page}"
        );
        assert!(!page.contains("<!--"), "{page}");
        let block = page.find("userdeck-connections").unwrap();
        assert!(block < page.find("</head>").unwrap(), "in the head: {page}");
    }
    // HEAD still has no body, and a missing file with an extension is still a 404, not the page.
    // Read off the socket: an HTTP client never reads a body after HEAD, whatever is sent.
    let (status, text) = raw(
        proxy.addr(),
        "HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let (_, after_head) = text.split_once("\r\n\r\n").unwrap();
    assert_eq!(after_head, "", "{text}");
    let missing = client()
        .get(format!("{}/app-0000000.js", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
