//! The browser endpoint (`[web]`): a loopback HTTP listener with a WebSocket at `/api`
//! that carries the socket API's messages, one JSON message per text frame, and, when
//! `operator_page` is on, the operator page at `/`.
//!
//! Who may connect is decided before the upgrade: the handshake's `Origin` must be one a
//! `[[web_client]]` rule names (else HTTP 403, logged). A rule with a token then wants
//! it as a `Sec-WebSocket-Protocol` value `cancuoc.token.TOKEN` or as the first message
//! `{"token": "TOKEN"}`; a wrong one closes the connection (code 1008).
//!
//! Each WebSocket runs the socket API's own connection handler
//! ([`crate::api::connection::Connection`]) over an in-process socket pair, with the
//! web rule as its client: the commands, answers, events, error codes and bounds are
//! those of the Unix socket, and there is one place that knows what a connection is.

mod page;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, UnixStream};
use tokio::sync::{Semaphore, watch};
use zeroize::Zeroizing;

use crate::api::Shared;
use crate::api::cmd::{Code, error_answer};
use crate::api::connection::Connection;
use crate::config::ClientRule;
use crate::config::web as rules;
use rules::WebClientRule;

/// The subprotocol a page may offer next to its token, and the token's prefix.
pub const PROTOCOL: &str = "cancuoc";
/// `Sec-WebSocket-Protocol: cancuoc.token.TOKEN`.
pub const TOKEN_PROTOCOL_PREFIX: &str = "cancuoc.token.";
/// How long a rule with a token waits for it as the first message.
const TOKEN_WAIT: Duration = Duration::from_secs(10);
/// WebSocket close codes (RFC 6455).
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_NORMAL: u16 = 1000;

#[derive(Clone)]
struct Web {
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
    shutdown: watch::Receiver<bool>,
    max_line: usize,
    page: bool,
}

/// Binds the `[web]` addresses (before the daemon reports readiness).
pub async fn bind(config: &rules::Web) -> Result<Vec<TcpListener>, String> {
    let mut listeners = Vec::new();
    for addr in &config.listen {
        if !rules::is_allowed_listen(addr) {
            return Err(format!("web.listen: {addr} is not loopback"));
        }
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("web.listen {addr}: {e}"))?;
        tracing::info!(address = %addr, "web: listening");
        listeners.push(l);
    }
    Ok(listeners)
}

/// The routes, for `shared`'s configuration.
fn router(shared: Arc<Shared>, shutdown: watch::Receiver<bool>) -> Router {
    let config = shared.config();
    let web = config.web.clone();
    let state = Web {
        limit: Arc::new(Semaphore::new(
            web.as_ref().map(|w| w.max_connections).unwrap_or(1),
        )),
        max_line: config.server.max_line,
        page: web.as_ref().is_some_and(|w| w.operator_page),
        shutdown,
        shared,
    };
    Router::new()
        .route("/api", get(api))
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/style.css", get(page::style))
        .fallback(page::fallback)
        .with_state(state)
}

/// Serves `listeners` until `shutdown` completes; then closes every WebSocket (a read
/// under way is cancelled and answered, as on the Unix socket).
pub async fn run(listeners: Vec<TcpListener>, shared: Arc<Shared>, shutdown: impl Future) {
    let (notify_tx, notify_rx) = watch::channel(false);
    let app = router(shared, notify_rx.clone());
    // Shared by every listener: connections still in HTTP (a handshake, the page).
    let http = Arc::new(Semaphore::new(MAX_HTTP_CONNECTIONS));
    let mut servers = Vec::new();
    for l in listeners {
        servers.push(tokio::spawn(accept(
            l,
            app.clone(),
            http.clone(),
            notify_rx.clone(),
        )));
    }
    shutdown.await;
    let _ = notify_tx.send(true);
    for s in servers {
        let _ = tokio::time::timeout(Duration::from_secs(10), s).await;
    }
    tracing::info!("web: stopped");
}

/// At most this many connections at once before their upgrade to a WebSocket (which
/// `[web] max_connections` bounds from then on); more are closed at once.
const MAX_HTTP_CONNECTIONS: usize = 64;
/// A client has this long to send its request's headers (a handshake held half-open
/// would otherwise hold its connection for ever).
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts on `listener` until `stop`; each connection is served by hyper with a
/// deadline for its headers, and counted in `http` until it is upgraded or closed.
async fn accept(
    listener: TcpListener,
    app: Router,
    http: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => break,
        };
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors, for instance: wait rather than spin.
                tracing::warn!(error = %e, "web: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = http.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "web: too many connections; closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let mut stop = stop.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let connection = builder
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            let ended = tokio::select! {
                r = connection.as_mut() => Some(r),
                _ = stop.wait_for(|s| *s) => None,
            };
            let result = match ended {
                Some(r) => r,
                None => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "web: connection ended");
            }
            drop(permit);
        });
    }
    // Connections still in HTTP end with the listener; WebSockets are closed by their
    // own shutdown watch.
    connections.shutdown().await;
}

/// How the page presented its token, if at all.
fn token_from_protocols(headers: &HeaderMap) -> Option<Zeroizing<String>> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix(TOKEN_PROTOCOL_PREFIX))
        .filter(|t| t.len() <= rules::MAX_TOKEN)
        .map(|t| Zeroizing::new(t.to_owned()))
}

/// `GET /api`: the Origin decides before the upgrade.
async fn api(State(web): State<Web>, request: axum::extract::Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let headers = parts.headers.clone();
    let config = web.shared.config();
    let origin = headers.get(header::ORIGIN).map(|v| v.as_bytes());
    let Some(rule) = rules::rule_for_origin(&config.web_clients, origin).cloned() else {
        let shown = origin
            .map(|o| String::from_utf8_lossy(&o[..o.len().min(128)]).into_owned())
            .unwrap_or_else(|| "(none)".into());
        tracing::warn!(origin = %shown, "web: handshake refused: no [[web_client]] rule accepts this origin");
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    };
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(e) => return e.into_response(),
    };
    let Ok(permit) = web.limit.clone().try_acquire_owned() else {
        tracing::warn!(rule = %rule.name, "web: too many connections");
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections\n").into_response();
    };
    let offered = token_from_protocols(&headers);
    let mut protocols = vec![PROTOCOL.to_owned()];
    if let Some(t) = &offered {
        protocols.push(format!("{TOKEN_PROTOCOL_PREFIX}{}", t.as_str()));
    }
    // A frame may be up to twice the bound, so that one just over it gets an answer
    // rather than a dropped connection; what is over the bound is answered and closed.
    let cap = web.max_line.saturating_mul(2);
    ws.protocols(protocols)
        .max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| async move {
            serve(socket, web, rule, offered).await;
            drop(permit);
        })
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Waits for `{"token": "…"}` as the first message; `true` when it is the rule's.
async fn token_message(socket: &mut WebSocket, rule: &WebClientRule, max_line: usize) -> bool {
    let first = tokio::time::timeout(TOKEN_WAIT, socket.next()).await;
    let Ok(Some(Ok(Message::Text(text)))) = first else {
        return false;
    };
    if text.len() > max_line {
        return false;
    }
    let mut value: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
    let ok = value
        .get("token")
        .and_then(Value::as_str)
        .is_some_and(|t| rule.token_matches(t.as_bytes()));
    if let Some(Value::String(t)) = value.get_mut("token") {
        zeroize::Zeroize::zeroize(t);
    }
    if ok {
        let id = value.get("id").cloned().unwrap_or(Value::Null);
        let answer = serde_json::json!({"id": id, "token": "accepted"});
        let _ = socket.send(Message::Text(answer.to_string().into())).await;
    }
    ok
}

/// One WebSocket: the token, then the socket API's connection handler.
async fn serve(
    mut socket: WebSocket,
    web: Web,
    rule: WebClientRule,
    offered: Option<Zeroizing<String>>,
) {
    if rule.token.is_some() {
        let ok = match &offered {
            Some(t) => rule.token_matches(t.as_bytes()),
            None => token_message(&mut socket, &rule, web.max_line).await,
        };
        if !ok {
            tracing::warn!(rule = %rule.name, "web: wrong or missing token; connection closed");
            let _ = socket
                .send(close(CLOSE_POLICY, "wrong or missing token"))
                .await;
            return;
        }
    }
    drop(offered);
    let (ours, theirs) = match UnixStream::pair() {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "web: no socket pair");
            let _ = socket.send(close(1011, "internal error")).await;
            return;
        }
    };
    let client = ClientRule {
        name: format!("web:{}", rule.name),
        uids: Vec::new(),
        gids: Vec::new(),
        fields: rule.fields.clone(),
    };
    tracing::info!(client = %client.name, "web: connection opened");
    let connection = Connection::new(theirs, web.shared.clone(), None, Some(client));
    let handler = tokio::spawn(connection.serve(web.shutdown.clone()));
    bridge(socket, ours, web.max_line).await;
    let _ = handler.await;
    tracing::info!(rule = %rule.name, "web: connection closed");
}

/// Frames in become lines to the handler; lines out become frames.
async fn bridge(socket: WebSocket, ours: UnixStream, max_line: usize) {
    let (read, mut write) = ours.into_split();
    let mut lines = BufReader::new(read).lines();
    let (mut sink, mut stream) = socket.split();
    let mut closing: Option<Message> = None;
    loop {
        tokio::select! {
            frame = stream.next(), if closing.is_none() => {
                let mut bytes: Vec<u8> = match frame {
                    Some(Ok(Message::Text(text))) => text.as_str().as_bytes().to_vec(),
                    Some(Ok(Message::Binary(_))) => {
                        let answer = error_answer(&Value::Null, Code::BadRequest, "messages are JSON text frames, not binary");
                        if sink.send(Message::Text(answer.to_string().into())).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(e)) => {
                        // Over the frame cap, or a protocol error: no answer can be tied to it.
                        tracing::debug!(error = %e, "web: frame refused");
                        let _ = sink.send(close(CLOSE_TOO_BIG, "frame refused")).await;
                        break;
                    }
                };
                if bytes.len() > max_line {
                    let answer = error_answer(&Value::Null, Code::BadRequest, &format!("message longer than {max_line} bytes"));
                    let _ = sink.send(Message::Text(answer.to_string().into())).await;
                    zeroize::Zeroize::zeroize(&mut bytes);
                    closing = Some(close(CLOSE_TOO_BIG, "message too long"));
                    // Ends the handler's input; its last answers still come through.
                    let _ = write.shutdown().await;
                    continue;
                }
                // JSON whitespace: a pretty-printed message is still one request.
                for b in bytes.iter_mut() {
                    if *b == b'\n' {
                        *b = b' ';
                    }
                }
                bytes.push(b'\n');
                let sent = write.write_all(&bytes).await;
                // The message may hold access data.
                zeroize::Zeroize::zeroize(&mut bytes);
                if sent.is_err() {
                    break;
                }
            }
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if sink.send(Message::Text(line.into())).await.is_err() {
                        break;
                    }
                }
                _ => {
                    let last = closing.take().unwrap_or_else(|| close(CLOSE_NORMAL, "closed"));
                    let _ = sink.send(last).await;
                    break;
                }
            },
        }
    }
}
