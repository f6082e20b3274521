//! Many devices uploading at once through a real `haul dev` process (this binary, started
//! as a child with `dev --json`), optionally killed with SIGKILL mid-batch and started
//! again on the same data folder: is every upload stored, and every routed stage run
//! exactly once, with nothing in the dead-letter folder?
//!
//! "Exactly once" is counted from the child's `stage_finished` events (a stage run that
//! ended `ok`, across both processes) and from the result files; the devices' own MQTT
//! results are counted too: every routed stage's result must reach its device, also one
//! published while the kill had cut the device off (the device asks for it again when it
//! reconnects; a stage's result that arrives twice counts once).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haul_device::{Client, ConnectOptions, ProgressMode, ResultWait, TrustedS3, UploadOptions};
use haul_pipeline::BoxError;
use haul_pipeline::config::HaulConfig;
use haul_pipeline::router::Router;
use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Devices uploading at once.
    pub devices: usize,
    /// Files per device, one after the other.
    pub files: usize,
    /// Bytes per file.
    pub size: u64,
    /// Kill `haul dev` with SIGKILL once this many stage runs finished, then restart it.
    pub kill_after: Option<usize>,
    /// Give up waiting for results after this long.
    pub timeout: Duration,
    /// `--config` to pass to the child (the same the routes are computed from).
    pub config_file: Option<PathBuf>,
}

/// The figures.
#[derive(Debug, Default, serde::Serialize)]
pub struct LoadReport {
    /// Devices.
    pub devices: usize,
    /// Uploads attempted.
    pub uploads: usize,
    /// Uploads the devices saw acknowledged.
    pub uploads_completed: usize,
    /// Objects under the incoming prefix at the end.
    pub objects: usize,
    /// (stage, object) pairs the routes call for.
    pub expected_runs: usize,
    /// Pairs with a result file at the end.
    pub results: usize,
    /// Pairs whose stage finished `ok` more than once (should be 0).
    pub repeated_runs: usize,
    /// Pairs with no result (should be 0).
    pub missing: usize,
    /// Stage runs that ended in a failure.
    pub failed_runs: usize,
    /// Files in the dead-letter folder (should be 0).
    pub dead_letters: usize,
    /// Results the devices received over MQTT (one per stage and upload).
    pub device_results: usize,
    /// SIGKILLs sent to `haul dev`.
    pub kills: usize,
    /// Wall time from the first upload to the last result, seconds.
    pub seconds: f64,
}

#[derive(Default)]
struct Events {
    ok: BTreeMap<(String, String), usize>,
    failed: usize,
    started: usize,
}

type Shared = Arc<Mutex<Events>>;

/// Runs the load and checks it.
pub async fn run(config: &HaulConfig, opts: LoadOptions, work: &Path) -> Result<LoadReport, BoxError> {
    let data = work.join("data");
    let secret = format!("load-{}", std::process::id());
    let (s3_port, mqtt_port) = (free_port()?, free_port()?);
    let events: Shared = Arc::default();
    let dev = DevProcess {
        data: data.clone(),
        secret: secret.clone(),
        s3_port,
        mqtt_port,
        config_file: opts.config_file.clone(),
    };
    let mut child = dev.start(&events).await?;
    let s3_url = format!("http://127.0.0.1:{s3_port}");
    let mqtt_url = format!("mqtt://127.0.0.1:{mqtt_port}");
    let files = write_files(work, &opts)?;
    let router = Arc::new(Router::new(config));
    let started = Instant::now();
    let mut devices = Vec::new();
    for (i, device_files) in files.into_iter().enumerate() {
        let (mqtt_url, s3_url, state) = (mqtt_url.clone(), s3_url.clone(), work.join(format!("state/{i}")));
        let target = Target {
            mqtt_url,
            s3_url,
            router: router.clone(),
            deadline: started + opts.timeout,
        };
        devices.push(tokio::spawn(async move {
            device(&format!("load-{i:03}"), &target, &state, device_files).await
        }));
    }
    let mut kills = 0;
    if let Some(after) = opts.kill_after {
        while events.lock().unwrap_or_else(|e| e.into_inner()).ok.len() < after {
            if started.elapsed() > opts.timeout {
                return Err(format!("fewer than {after} stage runs finished within {:?}", opts.timeout).into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        child.kill().await?; // SIGKILL: no clean shutdown, as a crash
        kills += 1;
        child = dev.start(&events).await?;
    }
    let mut uploaded = Vec::new();
    for d in devices {
        uploaded.extend(d.await?);
    }
    let expected: BTreeSet<(String, String)> = uploaded
        .iter()
        .flat_map(|u| {
            let stages = router.stages_for(&u.key, Some(u.size), None);
            stages
                .into_iter()
                .map(|s| (s.to_owned(), u.key.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let results_dir = |stage: &str, key: &str| {
        data.join(&config.storage.bucket)
            .join(format!("{}{stage}/{key}.json", config.storage.results_prefix))
    };
    while started.elapsed() < opts.timeout && !expected.iter().all(|(s, k)| results_dir(s, k).is_file()) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await; // late repeats would show now
    let _ = child.kill().await;
    let ev = events.lock().unwrap_or_else(|e| e.into_inner());
    let device_results: usize = uploaded.iter().map(|u| u.results.len()).sum();
    Ok(LoadReport {
        devices: opts.devices,
        uploads: opts.devices * opts.files,
        uploads_completed: uploaded.len(),
        objects: count_files(&data.join(&config.storage.bucket).join(&config.storage.incoming_prefix)),
        expected_runs: expected.len(),
        results: expected.iter().filter(|(s, k)| results_dir(s, k).is_file()).count(),
        repeated_runs: ev.ok.values().filter(|&&n| n > 1).count(),
        missing: expected.iter().filter(|(s, k)| !results_dir(s, k).is_file()).count(),
        failed_runs: ev.failed,
        dead_letters: count_files(&data.join(".haul/dlq")),
        device_results,
        kills,
        seconds,
    })
}

struct DevProcess {
    data: PathBuf,
    secret: String,
    s3_port: u16,
    mqtt_port: u16,
    config_file: Option<PathBuf>,
}

impl DevProcess {
    /// Starts `haul dev --json` and returns once it listens; its events go to `events`.
    async fn start(&self, events: &Shared) -> Result<Child, BoxError> {
        let mut cmd = Command::new(std::env::current_exe()?);
        if let Some(config) = &self.config_file {
            cmd.arg("--config").arg(config);
        }
        cmd.args(["dev", "--json", "--no-console", "--secret-key", &self.secret])
            .arg("--data")
            .arg(&self.data)
            .args(["--s3-addr", &format!("127.0.0.1:{}", self.s3_port)])
            .args(["--mqtt-addr", &format!("127.0.0.1:{}", self.mqtt_port)])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout from haul dev")?;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(read_events(stdout, events.clone(), ready_tx));
        match tokio::time::timeout(Duration::from_secs(60), ready_rx).await {
            Ok(Ok(())) => Ok(child),
            _ => Err("haul dev did not start within 60 s (its errors are above)".into()),
        }
    }
}

async fn read_events(stdout: tokio::process::ChildStdout, events: Shared, ready: tokio::sync::oneshot::Sender<()>) {
    let mut ready = Some(ready);
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let mut ev = events.lock().unwrap_or_else(|e| e.into_inner());
        match event["event"].as_str() {
            Some("started") => {
                ev.started += 1;
                if let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
            }
            Some("stage_finished") => {
                let pair = (
                    event["stage"].as_str().unwrap_or_default().to_owned(),
                    event["key"].as_str().unwrap_or_default().to_owned(),
                );
                match event["status"].as_str() {
                    Some("ok") => *ev.ok.entry(pair).or_default() += 1,
                    Some("duplicate") => {}
                    _ => ev.failed += 1,
                }
            }
            _ => {}
        }
    }
}

struct Uploaded {
    key: String,
    size: u64,
    /// Stages whose result arrived over MQTT (a stage twice: a repeat).
    results: Vec<String>,
}

/// Where the devices send, and what they expect back.
struct Target {
    mqtt_url: String,
    s3_url: String,
    router: Arc<Router>,
    deadline: Instant,
}

/// One device: connects (again, while `haul dev` restarts), uploads its files one after the
/// other, retrying each until the deadline, then collects the results.
async fn device(name: &str, target: &Target, state: &Path, files: Vec<PathBuf>) -> Vec<Uploaded> {
    let deadline = target.deadline;
    let client = loop {
        match ConnectOptions::new(&target.mqtt_url, name).map(|o| o.with_connect_timeout(Duration::from_secs(5))) {
            Ok(options) => match Client::connect(options).await {
                Ok(c) => break c,
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(_) => return Vec::new(),
            },
            Err(_) => return Vec::new(),
        }
    };
    let mut options = UploadOptions::new(state);
    options.progress = ProgressMode::Off;
    options.s3 = match TrustedS3::endpoint(&target.s3_url) {
        Ok(s3) => s3,
        Err(_) => return Vec::new(),
    };
    let mut done = Vec::new();
    for file in files {
        loop {
            match client.upload(&file, &options).await {
                Ok(outcome) => {
                    done.push(outcome);
                    break;
                }
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => {
                    tracing::warn!(device = name, file = %file.display(), error = %e, "Upload given up.");
                    break;
                }
            }
        }
    }
    let mut out = Vec::new();
    for outcome in done {
        let wait = ResultWait {
            first: deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(10)),
            idle: Duration::from_secs(1),
            expect: Some(target.router.stages_for(&outcome.key, Some(outcome.size), None).len()),
        };
        let results = client.wait_results(&outcome, &wait, |_| {}).await;
        out.push(Uploaded {
            key: outcome.key,
            size: outcome.size,
            results: results.into_iter().map(|r| r.stage).collect(),
        });
    }
    out
}

/// Distinct files per device (the content differs, so no two uploads are one object).
fn write_files(work: &Path, opts: &LoadOptions) -> Result<Vec<Vec<PathBuf>>, BoxError> {
    let dir = work.join("files");
    std::fs::create_dir_all(&dir)?;
    let mut all = Vec::new();
    for d in 0..opts.devices {
        let mut files = Vec::new();
        for f in 0..opts.files {
            let path = dir.join(format!("load-{d:03}-{f:03}.bin"));
            let seed = (d * 1_000_003 + f) as u64;
            let body: Vec<u8> = (0..opts.size)
                .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 7) as u8)
                .collect();
            std::fs::write(&path, body)?;
            files.push(path);
        }
        all.push(files);
    }
    Ok(all)
}

fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => count_files(&e.path()),
            Ok(t) if t.is_file() => 1,
            _ => 0,
        })
        .sum()
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
