//! The servers on a page load's path send without Nagle's algorithm. With it, a response
//! written in pieces (a file streamed from disk, an upstream's body passed on, a trickled fault)
//! had its last small piece held back until the client acknowledged the one before, which
//! browsers delay by up to 40 ms: in `ui-bench` the stylesheet, which the app's script waits
//! for, ended 40 ms late in about half the first visits.
//!
//! Both servers run in this process, so their end of a connection is one of this process's
//! sockets: the one whose peer is the test's client.

mod common;

use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether the server's end of `client`'s connection has TCP_NODELAY set, once it has begun to
/// answer `GET path` (by then it has accepted and set up the connection). `None` when no socket
/// of this process has `client` as its peer.
async fn server_end_has_nodelay(server: std::net::SocketAddr, path: &str) -> Option<bool> {
    let mut client = TcpStream::connect(server).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    let mut first = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(10), client.read_exact(&mut first))
        .await
        .expect("an answer")
        .unwrap();
    assert_eq!(&first, b"HTTP/1.1 ");
    let client_addr = client.local_addr().unwrap();
    let mut found = None;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        if fd == client.as_raw_fd() {
            continue;
        }
        // SAFETY: `fd` is one of this process's descriptors and is only read from for the
        // length of this borrow; a descriptor closed meanwhile makes the calls fail, not misread.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        if socket.peer_addr().ok().and_then(|a| a.as_socket()) == Some(client_addr) {
            found = socket.tcp_nodelay().ok();
        }
    }
    found
}

#[tokio::test]
async fn the_proxy_sends_without_nagles_delay() {
    let dir = index_only_dist();
    let proxy = proxy(
        &format!("static_dir = {:?}", dir.path().display().to_string()),
        0,
    )
    .await;
    assert_eq!(
        server_end_has_nodelay(proxy.addr(), "/").await,
        Some(true),
        "the proxy's end of the connection (None: not found) must have TCP_NODELAY set"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_sends_without_nagles_delay() {
    let sandbox = sandbox().await;
    assert_eq!(
        server_end_has_nodelay(sandbox.addr(), "/").await,
        Some(true),
        "the sandbox's end of the connection (None: not found) must have TCP_NODELAY set"
    );
    sandbox.shutdown().await;
}
