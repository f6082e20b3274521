//! Answers device requests arriving over MQTT with the presign stage.

use std::sync::Arc;

use rumqttc::{AsyncClient, Publish, QoS};
use tokio::sync::mpsc;

use haul_presign::Presigner;

use crate::events::{EventSender, StackEvent, emit};

/// Handles every request and completion until the connection's receiver closes; each
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
            let Some((topic, payload)) = presigner.handle(&publish.topic, &publish.payload).await else {
                return;
            };
            if let (Some(device), Ok(response)) = (
                topic.split('/').nth(1),
                serde_json::from_slice::<haul_contract::UploadResponse>(&payload),
            ) {
                let device = device.to_owned();
                emit(events.as_ref(), StackEvent::Answered { device, response });
            }
            // QoS 0 on the cloud's own hop: with QoS 1 the broker's PUBACK meets the
            // client's delayed ACK and Nagle on rumqttd's socket (it sets no TCP_NODELAY),
            // adding ~40 ms to every round trip. A lost response is recovered by the
            // device, which retries a request (same id) when no answer comes.
            if let Err(e) = client.publish(&topic, QoS::AtMostOnce, false, payload).await {
                tracing::error!(%topic, error = %e, "Response not published.");
            }
        });
    }
}
