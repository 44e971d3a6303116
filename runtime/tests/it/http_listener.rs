//! The HTTP listeners' bounds (`caliopen_runtime::http`), written as the attacks: a request
//! header trickled byte by byte, a kept-alive connection left idle, a response the client
//! never reads, and more connections than the cap. The client is curl where a real client
//! does the job; the attackers are raw sockets.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use caliopen_runtime::http::{HttpSettings, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Longest wait for anything the listener's 2-second timeouts should bring about.
const WAIT: Duration = Duration::from_secs(40);
/// A timeout the test must not reach.
const LONG: u64 = 120;
const BIG: usize = 64 << 20;

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route("/big", get(|| async { vec![b'x'; BIG] }))
}

/// A listener with these timeouts (seconds) and `max` connections.
async fn start(header: u64, idle: u64, max: usize) -> (SocketAddr, watch::Sender<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = HttpSettings {
        header_read_timeout: header,
        idle_timeout: idle,
        max_connections: max,
    };
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move { serve(listener, app(), &settings, max, stopped, "test").await });
    (addr, stop)
}

/// curl's answer to GET `path`, with a generous timeout.
async fn curl(addr: SocketAddr, path: &str) -> String {
    let url = format!("http://{addr}{path}");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-sS", "--max-time", "120", &url])
            .output()
            .expect("curl is needed for these tests (apt-get install curl)")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Reads until the server closes the connection; the bytes read.
async fn until_closed(tcp: &mut TcpStream) -> usize {
    let mut total = 0;
    let mut buf = vec![0; 64 << 10];
    loop {
        match tokio::time::timeout(WAIT, tcp.read(&mut buf)).await {
            Err(_) => panic!("the server kept the connection open"),
            Ok(Ok(0) | Err(_)) => return total,
            Ok(Ok(n)) => total += n,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_request_header_is_cut_and_others_are_served() {
    let (addr, _stop) = start(2, LONG, 8).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    let trickle = async {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if tcp.write_all(b"X").await.is_err() {
                return;
            }
        }
    };
    // The trickler is still sending when it is cut.
    assert!(
        tokio::time::timeout(WAIT, trickle).await.is_ok(),
        "not cut after {:?}",
        start.elapsed()
    );
    assert_eq!(curl(addr, "/").await, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let (addr, _stop) = start(LONG, 2, 8).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0; 1024];
    let n = tcp.read(&mut answer).await.unwrap();
    assert!(
        answer[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &answer[..n]
    );
    // Kept alive, then silent: closed by the server.
    until_closed(&mut tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_the_client_does_not_read_is_dropped() {
    let (addr, _stop) = start(LONG, 2, 8).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Let the socket buffers fill, then read what was sent before the server gave up.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let read = until_closed(&mut tcp).await;
    assert!(read < BIG, "{read} bytes: the whole answer went out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_cap_connections_wait_and_are_served_when_a_place_frees() {
    let (addr, _stop) = start(2, LONG, 2).await;
    // Two connections that keep the places: a request header that never ends.
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        holders.push(tcp);
    }
    // The third waits (it is not refused) and is answered once the holders are cut.
    assert!(curl(addr, "/peer").await.starts_with("127.0.0.1:"));
    for mut tcp in holders {
        until_closed(&mut tcp).await;
    }
}
