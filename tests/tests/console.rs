//! The console `haul dev` serves: its JSON state and live events over HTTP, the page in a
//! real browser (headless Chromium, Debian's `chromium`), and a dead letter replayed from it.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use haul_device::{Client, ConnectOptions, ProgressMode, ResultWait, TrustedS3, UploadOptions};
use haul_local::{DevOptions, DevStack};
use haul_pipeline::config::HaulConfig;
use haul_pipeline::event::ObjectEvent;

const CONFIG: &str = r#"
[[routes]]
stage = "heart-sound"
suffixes = [".wav"]
"#;

async fn stack(data: &Path) -> DevStack {
    let mut options = DevOptions::new(data);
    options.console = Some("127.0.0.1:0".parse().unwrap());
    let config = HaulConfig::from_toml(CONFIG, "test").unwrap();
    DevStack::start(config, &haul_stages::registry(), options, None)
        .await
        .expect("stack starts")
}

async fn upload(stack: &DevStack, dir: &Path) -> String {
    let file = dir.join("heart.wav");
    std::fs::write(&file, haul_stages::samples::heart_sound(72.0, 12.0)).unwrap();
    let client = Client::connect(ConnectOptions::new(&stack.mqtt_url, "dev-console").unwrap())
        .await
        .unwrap();
    let mut options = UploadOptions::new(dir.join("state"));
    options.s3 = TrustedS3::endpoint(&stack.s3.url).unwrap();
    options.progress = ProgressMode::Off;
    let outcome = client.upload(&file, &options).await.expect("upload");
    let wait = ResultWait {
        first: Duration::from_secs(60),
        idle: Duration::from_secs(60),
        expect: Some(1),
    };
    let results = client.wait_results(&outcome, &wait, |_| {}).await;
    assert_eq!(results.len(), 1, "{results:?}");
    outcome.key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_shows_devices_uploads_results_and_plots_live() {
    let temp = tempfile::tempdir().unwrap();
    let stack = stack(&temp.path().join("data")).await;
    let url = stack.console.as_ref().expect("a console").url.clone();
    let http = reqwest::Client::new();
    // The live feed, opened before the upload.
    let mut feed = http
        .get(format!("{url}api/events"))
        .send()
        .await
        .unwrap()
        .bytes_stream();
    let key = upload(&stack, temp.path()).await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.contains("\"stage_finished\"") {
        let chunk = tokio::time::timeout_at(deadline, feed.next())
            .await
            .expect("a stage_finished event within 30 s")
            .expect("the feed stays open")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains("data: {") && seen.contains("\"answered\"") && seen.contains("\"stored\""),
        "{seen}"
    );
    let state = state(&http, &url).await;
    assert_eq!(state["devices"][0]["name"], "dev-console", "{state}");
    assert_eq!(state["uploads"][0]["key"], key.as_str(), "{state}");
    let object = &state["objects"][0];
    assert_eq!(object["key"], key.as_str());
    let result = &object["results"][0];
    assert_eq!(result["stage"], "heart-sound");
    assert!(result["summary"].as_str().unwrap().contains("72 bpm"), "{result}");
    let plot = result["artifacts"][0]["key"].as_str().expect("a plot artifact");
    let png = http.get(format!("{url}files/haul-data/{plot}")).send().await.unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let metrics = http
        .get(format!("{url}metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("haul_stage_runs_total{stage=\"heart-sound\",outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("haul_uploads_answered_total{answer=\"accepted\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("haul_objects_stored_total 1"), "{metrics}");
    let escape = http
        .get(format!("{url}files/haul-data/..%2F.haul%2Fdev-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(escape.status(), 400, "no way out of the bucket");

    // The page, in a real browser: the result, its summary and the plot, loaded. `?live=0`
    // leaves out the event feed, whose open connection would keep headless Chromium's
    // virtual clock from running out (the feed itself is checked above).
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|p| haul_pipeline::testing::find_program(p))
    else {
        haul_pipeline::testing::skip(
            "no chromium on PATH for the console's browser test (Debian: apt install chromium)",
        );
        return;
    };
    let profile = temp.path().join("chromium-profile");
    let shot = temp.path().join("console.png");
    let dom = tokio::process::Command::new(&chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=10000", "--dump-dom", &format!("{url}?live=0")])
        .output();
    let dom = tokio::time::timeout(Duration::from_secs(120), dom)
        .await
        .expect("chromium returns")
        .unwrap();
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(
        html.contains("data-loaded=\"1\""),
        "the page rendered its state: {html}\n{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    assert!(html.contains(&key), "the object's key is shown: {html}");
    assert!(html.contains("72 bpm"), "the heart-sound summary is shown: {html}");
    assert!(html.contains("dev-console"), "the device is listed: {html}");
    let plot_img = html
        .split("<img")
        .skip(1)
        .find(|tag| tag.contains("plot.png"))
        .expect("the plot is shown inline");
    assert!(
        plot_img.contains("data-loaded=\"1\""),
        "and the browser loaded it: <img{plot_img}"
    );
    let screenshot = tokio::process::Command::new(&chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--window-size=1280,1100", "--virtual-time-budget=10000"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("{url}?live=0"))
        .output();
    let screenshot = tokio::time::timeout(Duration::from_secs(120), screenshot)
        .await
        .expect("chromium returns")
        .unwrap();
    assert!(
        screenshot.status.success(),
        "{}",
        String::from_utf8_lossy(&screenshot.stderr)
    );
    assert!(std::fs::read(&shot).unwrap().starts_with(b"\x89PNG"), "a screenshot");
    if let Some(dest) = std::env::var_os("HAUL_CONSOLE_SCREENSHOT") {
        std::fs::copy(&shot, dest).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_letter_is_replayed_from_the_console_and_leaves_the_folder() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let stack = stack(&data).await;
    let url = stack.console.as_ref().unwrap().url.clone();
    let key = "incoming/dev-9/2026/12/01/r-dlq/late.wav";
    let object = data.join("haul-data").join(key);
    std::fs::create_dir_all(object.parent().unwrap()).unwrap();
    std::fs::write(&object, haul_stages::samples::heart_sound(60.0, 10.0)).unwrap();
    let event = ObjectEvent::synthesized("haul-data", key, Some(std::fs::metadata(&object).unwrap().len()), None);
    let dlq = haul_local::dlq::Dlq::new(&data);
    let path = dlq
        .put("heart-sound", &event, 3, "timed out", "us-east-1")
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let state = state(&http, &url).await;
    let entry = &state["dead_letters"][0];
    assert_eq!(entry["key"], key, "{state}");
    assert_eq!(entry["stage"], "heart-sound");
    let rel = entry["path"].as_str().unwrap();
    let bad = http
        .post(format!("{url}api/dlq/replay?path=..%2Fdev-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400, "only files of the dead-letter folder");
    let replayed = http
        .post(format!("{url}api/dlq/replay?path={}", urlencode(rel)))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 200, "{}", replayed.text().await.unwrap());
    assert!(!path.exists(), "the dead letter left the folder");
    let result = data.join("haul-data/results/heart-sound").join(format!("{key}.json"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !result.is_file() {
        assert!(tokio::time::Instant::now() < deadline, "no result after the replay");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn state(http: &reqwest::Client, url: &str) -> serde_json::Value {
    let body = http
        .get(format!("{url}api/state"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&body).expect("the state is JSON")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
