//! The UI's HTTP server: GET of its own paths only, one short-lived thread per connection (at
//! most [`MAX_CONNECTIONS`] at once; more are answered 503 at once), timeouts on every socket.
//! It shares nothing with the batch loop but the [`Monitor`].
//!
//! - `/` the page, `/uPlot.min.js` and `/uPlot.min.css` (vendored, see `assets/README.md`);
//! - `/metrics` Prometheus (OpenMetrics text);
//! - `/api/batches` the recent batches (JSON array), `/api/plan` the plan (text),
//!   `/api/plan.svg` the plan drawn (fused stages coloured and marked `*(n)`, each node with
//!   the last batch's rows and state), `/api/nodes` the graph's nodes (id to label);
//! - `/events[?from=SEQ]` server-sent events: each batch as it finishes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::monitor::Monitor;
use crate::error::Error;

/// Connections served at once; the next ones get 503 (a page holds 1 event stream and loads 4
/// files).
const MAX_CONNECTIONS: usize = 128;
/// The longest request head read.
const MAX_HEAD: usize = 8 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

const PAGE: &str = include_str!("page.html");
const UPLOT_JS: &str = include_str!("assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/uPlot.min.css");

/// The running server; dropping it stops it.
#[derive(Debug)]
pub(crate) struct UiServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    monitor: Arc<Monitor>,
    thread: Option<JoinHandle<()>>,
}

impl UiServer {
    /// Serves `monitor` on `addr` (`HOST:PORT`; port 0 for any free one).
    pub(crate) fn start(addr: &str, monitor: Arc<Monitor>) -> Result<UiServer, Error> {
        let listener =
            TcpListener::bind(addr).map_err(|e| Error::Config(format!("cannot serve the UI on `{addr}`: {e}")))?;
        let local =
            listener.local_addr().map_err(|e| Error::Config(format!("cannot serve the UI on `{addr}`: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (Arc::clone(&monitor), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("streamc-ui".to_owned())
            .spawn(move || accept_loop(&listener, &m, &s))
            .map_err(|source| Error::Thread { name: "streamc-ui".to_owned(), source })?;
        Ok(UiServer { addr: local, stop, monitor, thread: Some(thread) })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for UiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.monitor.finish();
        // Wakes the accept loop, which then sees `stop`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, monitor: &Arc<Monitor>, stop: &Arc<AtomicBool>) {
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut conn) = conn else { continue };
        let _ = conn.set_read_timeout(Some(TIMEOUT));
        let _ = conn.set_write_timeout(Some(TIMEOUT));
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            let _ = respond(&mut conn, "503 Service Unavailable", "text/plain", b"too many connections\n");
            continue;
        }
        let (m, s, a) = (Arc::clone(monitor), Arc::clone(stop), Arc::clone(&active));
        let spawned = std::thread::Builder::new().name("streamc-ui-conn".to_owned()).spawn(move || {
            serve(conn, &m, &s);
            a.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Reads the request line of `conn` (the head up to its blank line), and answers it.
fn serve(mut conn: TcpStream, monitor: &Monitor, stop: &AtomicBool) {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > MAX_HEAD {
            let _ =
                respond(&mut conn, "431 Request Header Fields Too Large", "text/plain", b"request head too large\n");
            return;
        }
    }
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        let _ = write!(
            conn,
            "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\nonly GET is served\n"
        );
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let _ = match path {
        "/" | "/index.html" => {
            // The batches so far, in the page's script: `</` is escaped so that no text in them
            // can end the script.
            let (json, _) = monitor.batches_from(0, Duration::ZERO).unwrap_or_else(|| ("[]".to_owned(), 0));
            let page = PAGE.replacen("/*BATCHES*/[]", &json.replace("</", "<\\/"), 1).replacen(
                "/*NODES*/{}",
                &monitor.nodes_json().replace("</", "<\\/"),
                1,
            );
            respond(&mut conn, "200 OK", "text/html; charset=utf-8", page.as_bytes())
        }
        "/uPlot.min.js" => respond(&mut conn, "200 OK", "text/javascript; charset=utf-8", UPLOT_JS.as_bytes()),
        "/uPlot.min.css" => respond(&mut conn, "200 OK", "text/css; charset=utf-8", UPLOT_CSS.as_bytes()),
        "/metrics" => respond(
            &mut conn,
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            monitor.metrics_text().as_bytes(),
        ),
        "/api/batches" => {
            let (json, _) = monitor.batches_from(0, Duration::ZERO).unwrap_or_else(|| ("[]".to_owned(), 0));
            respond(&mut conn, "200 OK", "application/json", json.as_bytes())
        }
        "/api/plan" => {
            let body = format!("{}\n\n{}", monitor.name, monitor.plan);
            respond(&mut conn, "200 OK", "text/plain; charset=utf-8", body.as_bytes())
        }
        "/api/plan.svg" => match monitor.svg() {
            Some(svg) => respond(&mut conn, "200 OK", "image/svg+xml", svg.as_bytes()),
            None => respond(&mut conn, "404 Not Found", "text/plain", b"this app has no plan graph\n"),
        },
        "/api/nodes" => respond(&mut conn, "200 OK", "application/json", monitor.nodes_json().as_bytes()),
        "/events" => {
            let from = query.split('&').find_map(|kv| kv.strip_prefix("from=")).and_then(|v| v.parse().ok());
            events(&mut conn, monitor, stop, from)
        }
        _ => respond(&mut conn, "404 Not Found", "text/plain", b"not found\n"),
    };
}

fn respond(conn: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    conn.write_all(body)?;
    conn.flush()
}

/// Server-sent events: every batch from sequence number `from` on (without it: from now on),
/// as `data:` JSON arrays of the new batches; a comment every second to notice a closed page;
/// `event: end` when the app stops.
fn events(conn: &mut TcpStream, monitor: &Monitor, stop: &AtomicBool, from: Option<u64>) -> std::io::Result<()> {
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    )?;
    conn.flush()?;
    // The page loads what came before from `/api/batches` and asks for what follows.
    let mut from = from.unwrap_or_else(|| monitor.batches_from(u64::MAX, Duration::ZERO).map_or(0, |(_, next)| next));
    while !stop.load(Ordering::SeqCst) {
        match monitor.batches_from(from, Duration::from_secs(1)) {
            None => {
                conn.write_all(b"event: end\ndata: {}\n\n")?;
                break;
            }
            Some((json, next)) if next > from => {
                write!(conn, "data: {json}\n\n")?;
                from = next;
            }
            Some(_) => conn.write_all(b": waiting\n\n")?,
        }
        conn.flush()?;
    }
    Ok(())
}
