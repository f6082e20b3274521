//! Answers what devices publish: upload requests, completions and resends with the presign
//! function; shadow updates, gets and deletes with the shadow service; and, as the IoT rule
//! of the shadow variant does on AWS, the `haul-upload` shadow's documents with the presign
//! function's shadow handler.

use std::sync::Arc;

use haul_contract::shadow::{SHADOW_NAME, parse_shadow_topic};
use rumqttc::{AsyncClient, Publish, QoS};
use tokio::sync::mpsc;

use haul_presign::Presigner;

use crate::events::{EventSender, StackEvent, emit};
use crate::shadow::ShadowService;

/// Handles every message until the connection's receiver closes. Shadow operations are
/// handled in arrival order (a device's updates build on each other); the rest
/// concurrently. Each upload response is also an event.
pub async fn run(
    presigner: Arc<Presigner>,
    shadows: Arc<ShadowService>,
    client: AsyncClient,
    mut incoming: mpsc::UnboundedReceiver<Publish>,
    events: Option<EventSender>,
) {
    while let Some(publish) = incoming.recv().await {
        match parse_shadow_topic(&publish.topic) {
            Some((thing, name, "update/documents")) if name == SHADOW_NAME => {
                let (presigner, client, thing) = (presigner.clone(), client.clone(), thing.to_owned());
                tokio::spawn(async move {
                    if let Some((topic, payload)) = presigner.shadow_documents(&thing, &publish.payload).await {
                        answer(&client, None, topic, payload).await;
                    }
                });
            }
            Some(_) => {
                for (topic, payload) in shadows.handle(&publish.topic, &publish.payload) {
                    answer(&client, None, topic, payload).await;
                }
            }
            None => {
                let (presigner, client, events) = (presigner.clone(), client.clone(), events.clone());
                tokio::spawn(async move {
                    for (topic, payload) in presigner.handle(&publish.topic, &publish.payload).await {
                        answer(&client, events.as_ref(), topic, payload).await;
                    }
                });
            }
        }
    }
}

/// Publishes one answer; a response is also an event.
async fn answer(client: &AsyncClient, events: Option<&EventSender>, topic: String, payload: Vec<u8>) {
    if let (Some(device), Ok(response)) = (
        topic.split('/').nth(1),
        serde_json::from_slice::<haul_contract::UploadResponse>(&payload),
    ) {
        let device = device.to_owned();
        emit(events, StackEvent::Answered { device, response });
    }
    // QoS 0 on the cloud's own hop: with QoS 1 the broker's PUBACK meets the client's
    // delayed ACK and Nagle on rumqttd's socket (it sets no TCP_NODELAY), adding ~40 ms to
    // every round trip. A lost response is recovered by the device, which retries a request
    // (same id) when no answer comes, and asks for results again after a reconnect.
    if let Err(e) = client.publish(&topic, QoS::AtMostOnce, false, payload).await {
        tracing::error!(%topic, error = %e, "Answer not published.");
    }
}
