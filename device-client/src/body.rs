//! An HTTP body streamed from a byte range of a file: memory stays at one chunk in flight
//! whatever the range size.

use std::io::SeekFrom;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncReadExt, AsyncSeekExt, Take};

/// Bytes read from disk per frame.
pub(crate) const CHUNK: usize = 64 * 1024;

/// `len` bytes of a file from `offset`, as an HTTP body with an exact size.
pub(crate) struct FileBody {
    reader: Take<tokio::fs::File>,
    remaining: u64,
    buf: BytesMut,
    counters: [Arc<AtomicU64>; 2],
}

impl FileBody {
    /// Opens `path` at `offset` for `len` bytes; read bytes are added to both counters
    /// (the progress display's and this request's stall watch).
    pub(crate) async fn open(
        path: &Path,
        offset: u64,
        len: u64,
        counters: [Arc<AtomicU64>; 2],
    ) -> std::io::Result<Self> {
        let mut file = tokio::fs::File::open(path).await?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset)).await?;
        }
        Ok(FileBody {
            reader: file.take(len),
            remaining: len,
            buf: BytesMut::new(),
            counters,
        })
    }
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        if this.buf.capacity() < CHUNK {
            this.buf.reserve(CHUNK);
        }
        let n = match tokio_util::io::poll_read_buf(Pin::new(&mut this.reader), cx, &mut this.buf) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(n)) => n,
        };
        if n == 0 {
            let msg = format!("file ended {} bytes early (was it truncated?)", this.remaining);
            return Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, msg))));
        }
        this.remaining -= n as u64;
        for counter in &this.counters {
            counter.fetch_add(n as u64, Ordering::Relaxed);
        }
        Poll::Ready(Some(Ok(Frame::data(this.buf.split().freeze()))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_range_body_yields_exactly_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..CHUNK * 2 + 100).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let progress = Arc::new(AtomicU64::new(0));
        let len = (CHUNK + 50) as u64;
        let body = FileBody::open(&path, 30, len, [progress.clone(), Arc::default()])
            .await
            .unwrap();
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(len));
        let got = body.collect().await.unwrap().to_bytes();
        assert_eq!(&got[..], &data[30..30 + CHUNK + 50]);
        assert_eq!(progress.load(Ordering::Relaxed), len);
    }

    #[tokio::test]
    async fn a_truncated_file_is_an_error_not_a_short_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"short").unwrap();
        let body = FileBody::open(&path, 0, 10, [Arc::default(), Arc::default()])
            .await
            .unwrap();
        let err = body.collect().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
