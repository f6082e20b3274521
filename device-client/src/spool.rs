//! The spool folder: files dropped into `DIR` are uploaded once their size and
//! modification time are stable, then moved to `DIR/done/`; files the cloud refuses for
//! good go to `DIR/rejected/` with a `NAME.reason.txt`. Other failures are retried with
//! backoff. Multipart progress survives restarts through the state directory
//! (default `DIR/.haul-state/`), and a completed upload is remembered until its file is
//! in `done/`, so a crash between the two never uploads a file twice.
//!
//! Writers should create files under a hidden or `.tmp`/`.part` name and rename them when
//! complete; such names are ignored. The folder is polled (no inotify), so it works on
//! any filesystem.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::client::Client;
use crate::error::UploadError;
use crate::options::UploadOptions;
use crate::state::StateStore;
use crate::upload::UploadOutcome;

/// Sub-folder for uploaded files.
pub const DONE_DIR: &str = "done";
/// Sub-folder for refused files.
pub const REJECTED_DIR: &str = "rejected";
/// Default state sub-folder.
pub const STATE_DIR: &str = ".haul-state";

/// How to watch.
#[derive(Debug, Clone)]
pub struct SpoolOptions {
    /// The spool folder.
    pub dir: PathBuf,
    /// A file is ready when unchanged for this long.
    pub settle: Duration,
    /// Folder scan interval.
    pub poll: Duration,
    /// Backoff between attempts on one file (its `max_attempts` only bounds `once` mode).
    pub retry: Backoff,
    /// Stop when no file is left to upload (or only files whose retries are exhausted).
    pub once: bool,
}

impl SpoolOptions {
    /// Defaults: settle 2 s, poll 1 s, retries from 5 s doubling to 10 min, watch forever.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SpoolOptions {
            dir: dir.into(),
            settle: Duration::from_secs(2),
            poll: Duration::from_secs(1),
            retry: Backoff {
                initial: Duration::from_secs(5),
                max: Duration::from_secs(600),
                max_attempts: 5,
            },
            once: false,
        }
    }
}

/// Something that happened to a spooled file.
#[derive(Debug)]
pub enum SpoolEvent {
    /// Uploaded and moved to `done`.
    Uploaded {
        /// The upload.
        outcome: UploadOutcome,
        /// Where the file is now.
        moved_to: PathBuf,
    },
    /// Refused for good and moved to `rejected`.
    Rejected {
        /// Where the file is now.
        moved_to: PathBuf,
        /// Why.
        error: UploadError,
    },
    /// Failed; will be retried (unless `once` and attempts are exhausted).
    Failed {
        /// The file.
        file: PathBuf,
        /// Why.
        error: UploadError,
        /// When the next attempt may start, if any.
        retry_in: Option<Duration>,
    },
}

/// The spool folder could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// I/O on the folder.
    #[error("spool folder {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_owned(),
        source,
    }
}

#[derive(Default)]
struct Tracker {
    /// path -> (size, mtime, unchanged since)
    seen: HashMap<PathBuf, (u64, u64, Instant)>,
    /// path -> (failed attempts, not before)
    retry: HashMap<PathBuf, (u32, Option<Instant>)>,
}

/// Watches the folder until `shutdown` resolves between two files (or, with `once`, until
/// nothing is left). Dropping the returned future stops at once, even mid-upload; the state
/// file lets the next run resume. `upload.state_dir` is used as given;
/// [`SpoolOptions::dir`]`/.haul-state` is the usual choice.
pub async fn watch(
    client: &Client,
    opts: &SpoolOptions,
    upload: &UploadOptions,
    shutdown: impl Future<Output = ()>,
    mut on_event: impl FnMut(&SpoolEvent),
) -> Result<(), SpoolError> {
    for sub in [DONE_DIR, REJECTED_DIR] {
        let path = opts.dir.join(sub);
        std::fs::create_dir_all(&path).map_err(io_err(&path))?;
    }
    let upload = UploadOptions {
        keep_completed_state: true,
        ..upload.clone()
    };
    let mut tracker = Tracker::default();
    tokio::pin!(shutdown);
    loop {
        let (ready, waiting) = scan(opts, &mut tracker)?;
        for file in ready {
            let event = process(client, opts, &upload, &mut tracker, &file).await?;
            on_event(&event);
        }
        if opts.once && waiting == 0 && tracker.seen.keys().all(|p| exhausted(&tracker, opts, p)) {
            return Ok(());
        }
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(opts.poll) => {}
        }
    }
}

fn exhausted(tracker: &Tracker, opts: &SpoolOptions, path: &Path) -> bool {
    tracker.retry.get(path).is_some_and(|(n, _)| !opts.retry.allows(*n))
}

/// Lists candidate files; returns the ready ones and the count still settling or waiting.
fn scan(opts: &SpoolOptions, tracker: &mut Tracker) -> Result<(Vec<PathBuf>, usize), SpoolError> {
    let now = Instant::now();
    let mut present = Vec::new();
    for entry in std::fs::read_dir(&opts.dir).map_err(io_err(&opts.dir))? {
        let entry = entry.map_err(io_err(&opts.dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ignored = name.starts_with('.') || [".tmp", ".part", ".partial", ".swp"].iter().any(|s| name.ends_with(s));
        if ignored || !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            continue;
        }
        present.push(entry.path());
    }
    tracker.seen.retain(|p, _| present.contains(p));
    tracker.retry.retain(|p, _| present.contains(p));
    let (mut ready, mut waiting) = (Vec::new(), 0);
    for path in present {
        let Ok((size, mtime)) = crate::hash::stat(&path) else {
            continue;
        };
        let entry = tracker.seen.entry(path.clone()).or_insert((size, mtime, now));
        if (entry.0, entry.1) != (size, mtime) {
            *entry = (size, mtime, now);
        }
        let settled = now.duration_since(entry.2) >= opts.settle;
        let (failures, not_before) = tracker.retry.get(&path).copied().unwrap_or((0, None));
        if !opts.retry.allows(failures) && opts.once {
            continue;
        }
        if settled && not_before.is_none_or(|t| now >= t) {
            ready.push(path);
        } else {
            waiting += 1;
        }
    }
    ready.sort();
    Ok((ready, waiting))
}

async fn process(
    client: &Client,
    opts: &SpoolOptions,
    upload: &UploadOptions,
    tracker: &mut Tracker,
    file: &Path,
) -> Result<SpoolEvent, SpoolError> {
    let store = StateStore::new(&upload.state_dir);
    match client.upload(file, upload).await {
        Ok(outcome) => {
            let moved_to = move_into(file, &opts.dir.join(DONE_DIR))?;
            if let Ok(absolute) = std::path::absolute(file) {
                let _ = store.remove(&absolute);
            }
            tracker.retry.remove(file);
            tracing::info!(file = %file.display(), moved_to = %moved_to.display(), key = %outcome.key, "Spooled file uploaded.");
            Ok(SpoolEvent::Uploaded { outcome, moved_to })
        }
        Err(error) if error.is_permanent() => {
            let moved_to = move_into(file, &opts.dir.join(REJECTED_DIR))?;
            let reason_file = reason_path(&moved_to);
            let reason = error
                .reject_reason()
                .map(|r| format!("{r:?}"))
                .unwrap_or_else(|| "unusable_file".into());
            let text = format!("reason: {reason}\nerror: {error}\n");
            std::fs::write(&reason_file, text).map_err(io_err(&reason_file))?;
            tracing::warn!(file = %file.display(), error = %error, "Spooled file rejected.");
            Ok(SpoolEvent::Rejected { moved_to, error })
        }
        Err(error) => {
            let failures = tracker.retry.get(file).map_or(0, |r| r.0) + 1;
            let retry_in = (opts.retry.allows(failures) || !opts.once).then(|| opts.retry.delay(failures - 1));
            tracker
                .retry
                .insert(file.to_owned(), (failures, retry_in.map(|d| Instant::now() + d)));
            tracing::warn!(file = %file.display(), error = %error, ?retry_in, "Spooled file failed.");
            Ok(SpoolEvent::Failed {
                file: file.to_owned(),
                error,
                retry_in,
            })
        }
    }
}

fn reason_path(moved_to: &Path) -> PathBuf {
    let mut name = moved_to.file_name().unwrap_or_default().to_os_string();
    name.push(".reason.txt");
    moved_to.with_file_name(name)
}

/// Moves `file` into `dir`, adding `.1`, `.2`... before the extension on a name clash.
fn move_into(file: &Path, dir: &Path) -> Result<PathBuf, SpoolError> {
    let name = file.file_name().unwrap_or_default();
    let mut target = dir.join(name);
    let stem = Path::new(name)
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let ext = Path::new(name)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut n = 0;
    while target.exists() {
        n += 1;
        target = dir.join(format!("{stem}.{n}{ext}"));
    }
    std::fs::rename(file, &target).map_err(io_err(file))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_files_never_overwrite_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        let done = dir.path().join("done");
        std::fs::create_dir(&done).unwrap();
        for round in 0..3 {
            let file = dir.path().join("heart.wav");
            std::fs::write(&file, format!("{round}")).unwrap();
            move_into(&file, &done).unwrap();
        }
        assert!(
            done.join("heart.wav").exists() && done.join("heart.1.wav").exists() && done.join("heart.2.wav").exists()
        );
        assert_eq!(reason_path(&done.join("x.bin")), done.join("x.bin.reason.txt"));
    }

    #[tokio::test(start_paused = true)]
    async fn files_are_ready_only_once_unchanged_for_the_settle_time() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.wav"), b"12").unwrap();
        std::fs::write(dir.path().join(".hidden"), b"x").unwrap();
        std::fs::write(dir.path().join("b.wav.part"), b"x").unwrap();
        let opts = SpoolOptions {
            settle: Duration::from_secs(2),
            ..SpoolOptions::new(dir.path())
        };
        let mut tracker = Tracker::default();
        assert_eq!(scan(&opts, &mut tracker).unwrap(), (vec![], 1));
        tokio::time::advance(Duration::from_secs(1)).await;
        std::fs::write(dir.path().join("a.wav"), b"1234").unwrap();
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert_eq!(
            scan(&opts, &mut tracker).unwrap(),
            (vec![], 1),
            "grew: the settle time starts over"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(scan(&opts, &mut tracker).unwrap(), (vec![dir.path().join("a.wav")], 0));
    }
}
