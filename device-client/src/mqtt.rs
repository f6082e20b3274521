//! The MQTT session: one connection per device, subscribed to its response and result
//! topics before anything is published, routing responses to waiters by `request_id`.
//!
//! rumqttc reconnects when its event loop is polled again after an error; this module
//! polls with a backoff, re-subscribes after every CONNACK, and holds publications until
//! the subscription is acknowledged again. Messages lost while disconnected surface as a
//! response timeout, which the upload logic answers by asking again; results published
//! while it was disconnected are asked for again (`upload/resend`) for every upload whose
//! results are awaited, right after the reconnect and twice more while the cloud side may
//! still be coming back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, SubscribeFilter, SubscribeReasonCode, TlsConfiguration,
    Transport,
};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
use crate::contract::shadow::{parse_shadow_topic, shadow_topic};
use crate::contract::{ResendResults, TopicKind, UploadResponse, UploadResult, parse_topic, topic};
use crate::options::{ConnectOptions, Via};
use crate::results::ResultInbox;
use crate::tls::TlsError;

/// Largest MQTT packet accepted or sent (AWS IoT Core caps messages at 128 KB).
const MAX_PACKET: usize = 256 * 1024;

/// An MQTT failure.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    /// TLS files could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The first connection failed.
    #[error("cannot connect to MQTT broker {broker} as {device:?}: {message}")]
    Connect {
        /// host:port.
        broker: String,
        /// Client id.
        device: String,
        /// The cause.
        message: String,
    },
    /// The broker refused a subscription (ACL / IoT policy).
    #[error("the broker refused the subscription to {filter} (check the ACL or IoT policy for {device:?})")]
    SubscribeRefused {
        /// The topic filter.
        filter: String,
        /// Client id.
        device: String,
    },
    /// Nothing happened within a timeout.
    #[error("no {what} within {after:?} (is the cloud's presign responder running and subscribed to {topic}?)")]
    Timeout {
        /// What was awaited.
        what: &'static str,
        /// The timeout.
        after: Duration,
        /// Where the device published.
        topic: String,
    },
    /// The session ended (disconnect called or the event loop stopped).
    #[error("the MQTT session is closed")]
    Closed,
    /// A message could not be encoded.
    #[error("cannot encode message: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Link state published by the event-loop task.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    Connecting,
    Ready,
    Failed(String),
}

/// When, after a reconnect, the device asks for the awaited results again.
const RESEND_AFTER: [Duration; 3] = [Duration::ZERO, Duration::from_secs(5), Duration::from_secs(30)];

/// Shadow answers kept for a request nobody waits for yet (at most this many).
const MAX_UNCLAIMED: usize = 16;

#[derive(Debug, Default)]
struct Routes {
    pending: Mutex<HashMap<String, mpsc::UnboundedSender<UploadResponse>>>,
    /// Answers found in the shadow before their request was (re)sent: a device that wakes
    /// gets the answer given while it slept with `/get`, then asks.
    unclaimed: Mutex<HashMap<String, UploadResponse>>,
    results: ResultInbox,
    /// Uploads whose results are awaited: request id -> key.
    awaited: Mutex<HashMap<String, String>>,
}

/// A connected device session.
pub struct MqttSession {
    client: AsyncClient,
    device: String,
    via: Via,
    routes: Arc<Routes>,
    link: watch::Receiver<Link>,
    task: JoinHandle<()>,
}

impl MqttSession {
    /// Connects, subscribes to the device's response and result topics, and returns once
    /// the broker acknowledged the subscription.
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, MqttError> {
        let (client, mut eventloop) = AsyncClient::new(mqtt_options(opts)?, 64);
        // Requests and responses are small: send them at once (no Nagle delay).
        eventloop.network_options.set_tcp_nodelay(true);
        let (link_tx, mut link) = watch::channel(Link::Connecting);
        let routes = Arc::new(Routes::default());
        let task = tokio::spawn(drive(
            eventloop,
            client.clone(),
            (opts.device.clone(), opts.via),
            routes.clone(),
            link_tx,
        ));
        let broker = format!("{}:{}", opts.broker.host, opts.broker.port);
        let first = tokio::time::timeout(opts.connect_timeout, link.wait_for(|l| *l != Link::Connecting))
            .await
            .map(|r| r.map(|state| state.clone()));
        let failure = match first {
            Ok(Ok(Link::Ready)) => None,
            Ok(Ok(Link::Failed(message))) => Some(message),
            Ok(Ok(Link::Connecting)) => Some("unexpected state".to_owned()),
            Ok(Err(_)) => Some("the MQTT task stopped".to_owned()),
            Err(_) => Some(format!("no CONNACK/SUBACK within {:?}", opts.connect_timeout)),
        };
        if let Some(message) = failure {
            task.abort();
            if let Some(filter) = message.strip_prefix("refused:") {
                return Err(MqttError::SubscribeRefused {
                    filter: filter.to_owned(),
                    device: opts.device.clone(),
                });
            }
            return Err(MqttError::Connect {
                broker,
                device: opts.device.clone(),
                message,
            });
        }
        Ok(MqttSession {
            client,
            device: opts.device.clone(),
            via: opts.via,
            routes,
            link,
            task,
        })
    }

    /// The device name (client id).
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Whether the session is connected and subscribed right now.
    pub fn is_ready(&self) -> bool {
        *self.link.borrow() == Link::Ready
    }

    /// Registers interest in responses to `request_id` (do it before publishing); an answer
    /// already found in the shadow is delivered at once.
    pub fn responses(&self, request_id: &str) -> ResponseWaiter {
        let (tx, rx) = mpsc::unbounded_channel();
        let unclaimed = self
            .routes
            .unclaimed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(request_id);
        if let Some(response) = unclaimed {
            take_answer(&tx, response, &self.client, &self.device);
        }
        self.routes
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(request_id.to_owned(), tx);
        ResponseWaiter {
            rx,
            request_id: request_id.to_owned(),
            routes: self.routes.clone(),
            topic: topic(&self.device, TopicKind::Request),
        }
    }

    /// Publishes `message` as JSON on this device's `kind` topic (QoS 1), after the
    /// subscriptions are in place; waits at most `timeout` for the link. Through the shadow,
    /// a request or completion is reported in the `haul-upload` shadow instead.
    pub async fn publish<T: Serialize>(
        &self,
        kind: TopicKind,
        message: &T,
        timeout: Duration,
    ) -> Result<(), MqttError> {
        let (topic, payload) = match (self.via, kind) {
            (Via::Shadow, TopicKind::Request) => shadow_report(&self.device, "request", serde_json::to_value(message)?),
            (Via::Shadow, TopicKind::Complete) => {
                shadow_report(&self.device, "complete", serde_json::to_value(message)?)
            }
            _ => (topic(&self.device, kind), serde_json::to_vec(message)?),
        };
        let mut link = self.link.clone();
        match tokio::time::timeout(timeout, link.wait_for(|l| *l == Link::Ready)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Err(MqttError::Closed),
            Err(_) => {
                return Err(MqttError::Timeout {
                    what: "broker connection",
                    after: timeout,
                    topic,
                });
            }
        }
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .map_err(|_| MqttError::Closed)
    }

    /// Collects the results of the upload `request_id` stored at `key` by the
    /// [`ResultWait`](crate::results::ResultWait) rule; after a reconnect the cloud is asked
    /// to send them again, so a result published while the link was down is not lost.
    pub async fn wait_results(
        &self,
        request_id: &str,
        key: &str,
        wait: &crate::results::ResultWait,
        on_each: impl FnMut(&UploadResult),
    ) -> Vec<UploadResult> {
        self.awaited().insert(request_id.to_owned(), key.to_owned());
        let got = self.routes.results.wait(request_id, wait, on_each).await;
        self.awaited().remove(request_id);
        got
    }

    /// Through the shadow: reports the upload `request_id` done, so the cloud clears its
    /// answer and the delta; nothing on the topics.
    pub async fn done(&self, request_id: &str) {
        if self.via != Via::Shadow {
            return;
        }
        let (topic, payload) = shadow_report(&self.device, "done", serde_json::Value::from(request_id));
        if let Err(e) = self.client.publish(&topic, QoS::AtLeastOnce, false, payload).await {
            tracing::warn!(device = %self.device, error = %e, "Shadow not told the upload is done.");
        }
    }

    fn awaited(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.routes.awaited.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Disconnects cleanly (best effort) and stops the event loop.
    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let mut link = self.link.clone();
            let _ = link.wait_for(|l| *l != Link::Ready).await;
        })
        .await;
        self.task.abort();
    }
}

impl Drop for MqttSession {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn mqtt_options(opts: &ConnectOptions) -> Result<MqttOptions, MqttError> {
    let mut mqtt = MqttOptions::new(&opts.device, &opts.broker.host, opts.broker.port);
    mqtt.set_keep_alive(opts.keep_alive)
        .set_clean_session(true)
        .set_max_packet_size(MAX_PACKET, MAX_PACKET);
    if opts.broker.tls {
        let config = crate::tls::mqtt_config(&opts.tls, opts.alpn.as_deref())?;
        mqtt.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(Arc::new(config))));
    }
    Ok(mqtt)
}

/// Receives the responses to one request id.
pub struct ResponseWaiter {
    rx: mpsc::UnboundedReceiver<UploadResponse>,
    request_id: String,
    routes: Arc<Routes>,
    topic: String,
}

impl ResponseWaiter {
    /// The next response, or a timeout error.
    pub async fn next(&mut self, timeout: Duration, what: &'static str) -> Result<UploadResponse, MqttError> {
        match tokio::time::timeout(timeout, self.rx.recv()).await {
            Ok(Some(response)) => Ok(response),
            Ok(None) => Err(MqttError::Closed),
            Err(_) => Err(MqttError::Timeout {
                what,
                after: timeout,
                topic: self.topic.clone(),
            }),
        }
    }
}

impl Drop for ResponseWaiter {
    fn drop(&mut self) {
        self.routes
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.request_id);
    }
}

/// Polls the event loop forever: (re)subscribes on CONNACK, routes publications, and
/// reports the link state. Before the first success, an error ends the task.
async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    (device, via): (String, Via),
    routes: Arc<Routes>,
    link: watch::Sender<Link>,
) {
    let mut filters: Vec<String> = [TopicKind::Response, TopicKind::Result]
        .map(|k| topic(&device, k))
        .into();
    if via == Via::Shadow {
        filters.extend(["update/delta", "get/accepted", "update/rejected"].map(|op| shadow_topic(&device, op)));
    }
    let (backoff, mut failures, mut ever_ready) = (Backoff::default(), 0u32, false);
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                let subs = filters
                    .iter()
                    .map(|f| SubscribeFilter::new(f.clone(), QoS::AtLeastOnce));
                if client.try_subscribe_many(subs).is_err() {
                    tracing::warn!(%device, "Subscription request could not be queued.");
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if let Some(i) = ack
                    .return_codes
                    .iter()
                    .position(|c| matches!(c, SubscribeReasonCode::Failure))
                {
                    let filter = filters.get(i).cloned().unwrap_or_default();
                    tracing::error!(%device, %filter, "Broker refused the subscription.");
                    link.send_replace(Link::Failed(format!("refused:{filter}")));
                    return;
                }
                if ever_ready {
                    tokio::spawn(ask_again(client.clone(), device.clone(), routes.clone()));
                }
                if via == Via::Shadow {
                    // A device that wakes finds an answer given while it slept.
                    let get = shadow_topic(&device, "get");
                    let token = serde_json::json!({ "clientToken": device }).to_string();
                    let _ = client.try_publish(get, QoS::AtLeastOnce, false, token);
                }
                (failures, ever_ready) = (0, true);
                tracing::debug!(%device, "Subscribed to response and result topics.");
                link.send_replace(Link::Ready);
            }
            Ok(Event::Incoming(Packet::Publish(p))) => match parse_shadow_topic(&p.topic) {
                Some((_, _, operation)) => from_shadow(&routes, &client, &device, operation, &p.payload),
                None => route(&routes, &p.topic, &p.payload),
            },
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => {
                link.send_replace(Link::Failed("disconnected".into()));
                return;
            }
            Ok(_) => {}
            Err(e) if !ever_ready => {
                link.send_replace(Link::Failed(e.to_string()));
                return;
            }
            Err(e) => {
                link.send_replace(Link::Connecting);
                let delay = backoff.delay(failures);
                failures = failures.saturating_add(1);
                tracing::warn!(%device, error = %e, retry_in = ?delay, "MQTT connection lost, reconnecting.");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// After a reconnect: asks for the results of every awaited upload again, at each of
/// [`RESEND_AFTER`] (the first ask may reach a cloud that is not subscribed yet).
async fn ask_again(client: AsyncClient, device: String, routes: Arc<Routes>) {
    let topic = topic(&device, TopicKind::Resend);
    let mut waited = Duration::ZERO;
    for at in RESEND_AFTER {
        tokio::time::sleep(at - waited).await;
        waited = at;
        let awaited: Vec<ResendResults> = routes
            .awaited
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(request_id, key)| ResendResults {
                request_id: request_id.clone(),
                key: key.clone(),
            })
            .collect();
        for ask in awaited {
            tracing::debug!(%device, request_id = %ask.request_id, "Asking for the results again after a reconnect.");
            let Ok(payload) = serde_json::to_vec(&ask) else {
                continue;
            };
            if client.publish(&topic, QoS::AtLeastOnce, false, payload).await.is_err() {
                return;
            }
        }
    }
}

/// `{"state": {"reported": {field: value}}}` for the device's `haul-upload` shadow, the other
/// fields of the exchange set to `null` (removed): one ask, completion or `done` at a time.
fn shadow_report(device: &str, field: &str, value: serde_json::Value) -> (String, Vec<u8>) {
    let mut reported = serde_json::json!({ "request": null, "complete": null, "done": null });
    reported[field] = value;
    let update = serde_json::json!({ "state": { "reported": reported }, "clientToken": device });
    (shadow_topic(device, "update"), update.to_string().into_bytes())
}

/// An answer in the shadow (`/update/delta`, or `/get/accepted` on connect) goes to the
/// waiter of its request, and the device reports the ask taken (so asking again is a
/// change the cloud sees).
fn from_shadow(routes: &Routes, client: &AsyncClient, device: &str, operation: &str, payload: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return tracing::warn!(operation, "Unreadable shadow message ignored.");
    };
    let answer = match operation {
        "update/delta" => &doc["state"]["response"],
        "get/accepted" => &doc["state"]["desired"]["response"],
        _ => {
            if doc["clientToken"] == device {
                tracing::warn!(code = %doc["code"], message = %doc["message"], "The shadow refused an update.");
            }
            return;
        }
    };
    let Ok(response) = serde_json::from_value::<UploadResponse>(answer.clone()) else {
        return;
    };
    let pending = routes.pending.lock().unwrap_or_else(|e| e.into_inner());
    match pending.get(response.request_id()) {
        Some(tx) => take_answer(tx, response, client, device),
        None => {
            let mut unclaimed = routes.unclaimed.lock().unwrap_or_else(|e| e.into_inner());
            if unclaimed.len() >= MAX_UNCLAIMED {
                unclaimed.clear();
            }
            unclaimed.insert(response.request_id().to_owned(), response);
        }
    }
}

/// Hands a shadow answer to its waiter and reports the ask taken (`request` and `complete`
/// removed), so asking the same again is a change the cloud answers.
fn take_answer(
    tx: &mpsc::UnboundedSender<UploadResponse>,
    response: UploadResponse,
    client: &AsyncClient,
    device: &str,
) {
    let _ = tx.send(response);
    let (topic, taken) = shadow_report(device, "done", serde_json::Value::Null);
    let _ = client.try_publish(topic, QoS::AtLeastOnce, false, taken);
}

fn route(routes: &Routes, topic: &str, payload: &[u8]) {
    match parse_topic(topic) {
        Some((_, TopicKind::Response)) => match serde_json::from_slice::<UploadResponse>(payload) {
            Ok(response) => {
                let pending = routes.pending.lock().unwrap_or_else(|e| e.into_inner());
                match pending.get(response.request_id()) {
                    Some(tx) => {
                        let _ = tx.send(response);
                    }
                    None => tracing::debug!(
                        request_id = response.request_id(),
                        "Response for no pending request ignored."
                    ),
                }
            }
            Err(e) => tracing::warn!(%topic, error = %e, "Unreadable response ignored."),
        },
        Some((_, TopicKind::Result)) => match serde_json::from_slice::<UploadResult>(payload) {
            Ok(result) => routes.results.push(result),
            Err(e) => tracing::warn!(%topic, error = %e, "Unreadable result ignored."),
        },
        _ => tracing::debug!(%topic, "Message on an unexpected topic ignored."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_reach_the_waiter_of_their_request_only() {
        let routes = Arc::new(Routes::default());
        let (tx, mut rx) = mpsc::unbounded_channel();
        routes.pending.lock().unwrap().insert("r1".into(), tx);
        let other = br#"{"status":"completed","request_id":"r2","key":"k","etag":"e"}"#;
        route(&routes, "haul/d/upload/response", other);
        assert!(rx.try_recv().is_err());
        let mine = br#"{"status":"completed","request_id":"r1","key":"k","etag":"e"}"#;
        route(&routes, "haul/d/upload/response", mine);
        assert_eq!(rx.try_recv().unwrap().request_id(), "r1");
        route(&routes, "haul/d/upload/response", b"not json");
        assert!(rx.try_recv().is_err());
    }
}
