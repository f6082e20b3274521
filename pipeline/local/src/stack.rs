//! The local stack started as one (`dev`, `demo`, end-to-end tests): S3 endpoint, MQTT
//! broker, presign responder, local topic and queues, all routed stages, results back to
//! the device — one process, no external service.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use haul_pipeline::config::HaulConfig;
use haul_pipeline::store::FsStore;
use haul_pipeline::{BoxError, Pipeline, Registry};
use haul_presign::Presigner;

use crate::attempts::Attempts;
use crate::broker::{BrokerTls, EmbeddedBroker};
use crate::bus::{BusOptions, LocalBus};
use crate::console::{Console, ConsoleContext};
use crate::data_folder;
use crate::dlq::Dlq;
use crate::events::{EventSender, StackEvent};
use crate::mqtt::{self, MqttPublisher, MqttResultSink};
use crate::responder;
use crate::s3::{S3Server, ServerOptions, Stats};

/// The access key of the embedded S3 endpoint (printed by `haul dev`); the secret is the
/// data folder's own (see [`DevOptions::secret_key`]).
pub const DEV_ACCESS_KEY: &str = "haul-dev";
/// The MQTT client id of the cloud side.
pub const CLOUD_CLIENT_ID: &str = "haul-cloud";

/// How to run the stack.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// The data folder: one sub-folder per bucket, `.haul/` for metadata, uploads, DLQ.
    pub data: PathBuf,
    /// S3 endpoint address (port 0: free port).
    pub s3_bind: SocketAddr,
    /// Embedded broker address (port 0: free port); unused with `mqtt_url`.
    pub mqtt_bind: SocketAddr,
    /// An external broker instead of the embedded one.
    pub mqtt_url: Option<String>,
    /// Certificates from `haul dev certs` (`ca.pem`, `server.pem`/`.key`, `haul-cloud.pem`/`.key`):
    /// the embedded broker then speaks TLS and requires client certificates.
    pub tls_dir: Option<PathBuf>,
    /// S3 access key.
    pub access_key: String,
    /// S3 secret key; `None`: the data folder's own, random, kept in `.haul/dev-secret`.
    pub secret_key: Option<String>,
    /// Retry timing of the local queues.
    pub bus: BusOptions,
    /// Serve the console on this (loopback) address; `None`: no console.
    pub console: Option<SocketAddr>,
    /// Count the per-device request limit in counter objects in the bucket (as the deployed
    /// presign function does), not in memory.
    pub shared_rate_limit: bool,
}

impl DevOptions {
    /// Defaults: free loopback ports, dev credentials.
    pub fn new(data: &Path) -> Self {
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        Self {
            data: data.to_owned(),
            s3_bind: any,
            mqtt_bind: any,
            mqtt_url: None,
            tls_dir: None,
            access_key: DEV_ACCESS_KEY.to_owned(),
            secret_key: None,
            bus: BusOptions::default(),
            console: None,
            shared_rate_limit: false,
        }
    }
}

/// A running stack; dropping it stops the S3 endpoint (the broker thread lives on until
/// the process exits).
pub struct DevStack {
    /// The configuration.
    pub config: Arc<HaulConfig>,
    /// The S3 endpoint.
    pub s3: S3Server,
    /// The embedded broker, if one runs.
    pub broker: Option<EmbeddedBroker>,
    /// Where devices connect.
    pub mqtt_url: String,
    /// The topic and queues.
    pub bus: Arc<LocalBus>,
    /// The options it was started with.
    pub options: DevOptions,
    /// The S3 secret devices and tools sign with.
    pub secret_key: String,
    /// The console, when one was asked for.
    pub console: Option<Arc<Console>>,
    _lock: data_folder::DataFolderLock,
}

impl DevStack {
    /// Starts everything; queues again any upload that has no result yet. Every event of
    /// the stack (see [`StackEvent`]) also goes to `listener`.
    pub async fn start(
        config: HaulConfig,
        registry: &Registry,
        options: DevOptions,
        listener: Option<EventSender>,
    ) -> Result<Self, BoxError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        if options.data.exists() && !options.data.is_dir() {
            return Err(format!(
                "--data {}: not a folder (give a folder, new or existing)",
                options.data.display()
            )
            .into());
        }
        tokio::fs::create_dir_all(&options.data)
            .await
            .map_err(|e| format!("--data {}: {e}", options.data.display()))?;
        let lock = data_folder::lock(&options.data)?;
        let swept = data_folder::sweep(&options.data, &lock)?;
        if swept > 0 {
            tracing::info!(swept, "Half-written files from an earlier crash removed.");
        }
        let secret_key = match &options.secret_key {
            Some(secret) => secret.clone(),
            None => data_folder::secret(&options.data)?,
        };
        let config = Arc::new(config);
        // Every part of the stack reports to one channel; a task hands each event to the
        // console and to the caller's listener.
        let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel::<StackEvent>();
        let events = Some(events_tx);
        let (notify_tx, mut notify_rx) = tokio::sync::mpsc::unbounded_channel();
        let s3 = S3Server::start(
            ServerOptions {
                root: options.data.clone(),
                bind: options.s3_bind,
                access_key: options.access_key.clone(),
                secret_key: secret_key.clone(),
                region: config.storage.region.clone(),
                buckets: vec![config.storage.bucket.clone()],
            },
            Some(notify_tx),
        )
        .await
        .map_err(|e| format!("S3 endpoint on {}: {e}", options.s3_bind))?;
        let (broker, mqtt_url) = start_broker(&options)?;
        let cloud_tls = options.tls_dir.as_deref().map(cloud_tls_files);
        let (client, incoming) = mqtt::connect(&mqtt_url, CLOUD_CLIENT_ID, cloud_tls.as_ref())?;
        let store = Arc::new(FsStore::new(&options.data));
        let sink = Arc::new(MqttResultSink::new(
            MqttPublisher(client.clone()),
            &config.storage.incoming_prefix,
        ));
        let pipeline = Arc::new(Pipeline::new((*config).clone(), registry, store)?.with_sink(sink));
        let bus = Arc::new(LocalBus::start(
            pipeline,
            Dlq::new(&options.data),
            Attempts::new(&options.data),
            options.bus.clone(),
            events.clone(),
        ));
        let (publisher, stored) = (bus.clone(), events.clone());
        tokio::spawn(async move {
            while let Some(notification) = notify_rx.recv().await {
                if let (Some(tx), Ok(parsed)) = (&stored, haul_pipeline::event::parse_str(&notification)) {
                    for e in parsed.events {
                        let (bucket, key, size) = (e.bucket, e.key, e.size);
                        let _ = tx.send(StackEvent::Stored { bucket, key, size });
                    }
                }
                if let Err(e) = publisher.publish(&notification) {
                    tracing::error!(error = %e, "Notification not understood.");
                }
            }
        });
        let presigner = Presigner::for_endpoint(config.clone(), &s3.url, &options.access_key, &secret_key);
        let presigner = Arc::new(match options.shared_rate_limit {
            true => presigner.with_shared_limit(),
            false => presigner,
        });
        let shadows = Arc::new(crate::shadow::ShadowService::new(&options.data));
        tokio::spawn(responder::run(presigner, shadows, client, incoming, events));
        let console = match options.console {
            Some(bind) => {
                let context = ConsoleContext {
                    data: options.data.clone(),
                    config: config.clone(),
                    s3_stats: s3.shared_stats(),
                    bus: bus.clone(),
                    endpoints: vec![
                        ("S3".to_owned(), s3.url.clone()),
                        ("MQTT".to_owned(), mqtt_url.clone()),
                        ("data".to_owned(), options.data.display().to_string()),
                    ],
                };
                Some(Arc::new(Console::start(bind, context).await?))
            }
            None => None,
        };
        let fan_out = console.clone();
        tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                if let Some(console) = &fan_out {
                    console.observe(&event);
                }
                if let Some(listener) = &listener {
                    let _ = listener.send(event);
                }
            }
        });
        let recovered = bus
            .recover(&config.storage.bucket, &config.storage.incoming_prefix)
            .await?;
        if recovered > 0 {
            tracing::info!(recovered, "Uploads without results queued again.");
        }
        Ok(Self {
            config,
            s3,
            broker,
            mqtt_url,
            bus,
            options,
            secret_key,
            console,
            _lock: lock,
        })
    }

    /// The S3 endpoint's request counters.
    pub fn s3_stats(&self) -> &Stats {
        self.s3.stats()
    }
}

fn start_broker(options: &DevOptions) -> Result<(Option<EmbeddedBroker>, String), BoxError> {
    if let Some(url) = &options.mqtt_url {
        return Ok((None, url.clone()));
    }
    let tls = options.tls_dir.as_ref().map(|dir| BrokerTls {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    });
    if let Some(t) = &tls {
        for f in [&t.ca, &t.cert, &t.key] {
            if !f.is_file() {
                return Err(format!(
                    "{} is missing: run `haul dev certs --out {}` first",
                    f.display(),
                    t.ca.parent().unwrap_or(Path::new(".")).display()
                )
                .into());
            }
        }
    }
    let broker = EmbeddedBroker::start(options.mqtt_bind, tls)?;
    let url = broker.url.clone();
    Ok((Some(broker), url))
}

fn cloud_tls_files(dir: &Path) -> haul_device::tls::TlsFiles {
    haul_device::tls::TlsFiles {
        cert: Some(dir.join(format!("{CLOUD_CLIENT_ID}.pem"))),
        key: Some(dir.join(format!("{CLOUD_CLIENT_ID}.key"))),
        ca: Some(dir.join("ca.pem")),
    }
}
