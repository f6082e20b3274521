//! Answers device requests arriving over MQTT with the presign stage.

use std::sync::Arc;

use rumqttc::{AsyncClient, Publish, QoS};
use tokio::sync::mpsc;

use haul_presign::Presigner;

use crate::events::{EventSender, StackEvent, emit};

/// Handles every request, completion and resend until the connection's receiver closes; each
/// answer is also an event.
pub async fn run(
    presigner: Arc<Presigner>,
    client: AsyncClient,
    mut incoming: mpsc::UnboundedReceiver<Publish>,
    events: Option<EventSender>,
) {
    while let Some(publish) = incoming.recv().await {
        let (presigner, client, events) = (presigner.clone(), client.clone(), events.clone());
        tokio::spawn(async move {
            for (topic, payload) in presigner.handle(&publish.topic, &publish.payload).await {
                answer(&client, events.as_ref(), topic, payload).await;
            }
        });
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
