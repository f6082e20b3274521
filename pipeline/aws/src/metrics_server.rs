//! `haul worker --metrics-addr`: Prometheus text on `GET /metrics`, over plain HTTP/1.1
//! (one request per connection; a scraper needs no more).

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::worker::WorkerStats;

/// Serves `stats` until the task is dropped.
pub async fn serve(listener: TcpListener, stats: Arc<WorkerStats>) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let stats = stats.clone();
        tokio::spawn(async move {
            let mut head = Vec::with_capacity(1024);
            let mut buf = [0u8; 1024];
            // The request head only; a body (none expected) is ignored.
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&head);
            let target = line.split_whitespace().nth(1).unwrap_or("");
            let (status, body) =
                if line.starts_with("GET ") && (target == "/metrics" || target.starts_with("/metrics?")) {
                    ("200 OK", stats.prometheus())
                } else {
                    ("404 Not Found", format!("no such page: {target}; try /metrics\n"))
                };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    async fn get(addr: std::net::SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn metrics_are_served_as_prometheus_text() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(WorkerStats::default());
        stats.received.fetch_add(3, Ordering::Relaxed);
        stats.deleted.fetch_add(2, Ordering::Relaxed);
        let server = tokio::spawn(serve(listener, stats));
        let ok = get(addr, "/metrics").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("text/plain; version=0.0.4"), "{ok}");
        assert!(ok.contains("\nhaul_worker_messages_received_total 3\n"), "{ok}");
        assert!(ok.contains("\nhaul_worker_messages_deleted_total 2\n"), "{ok}");
        assert!(ok.contains("# TYPE haul_stage_runs_total counter"), "{ok}");
        let missing = get(addr, "/").await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        server.abort();
    }
}
