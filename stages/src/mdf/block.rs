//! Reading MDF4 blocks: the 24-byte header, the link list and the data section, with every
//! length and link checked against the file before anything is allocated.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};

use super::error::{MdfError, Result};

/// Size of a block header: id (4), reserved (4), length (8), link count (8).
pub(crate) const HEADER_LEN: u64 = 24;
/// Largest metadata block (anything but DT/DZ/SD data) this reader loads into memory.
pub(crate) const MAX_META_BLOCK: u64 = 16 << 20;
/// Offset of the first block after the identification block.
const FIRST_BLOCK: u64 = 64;

/// The header of a block, read without its links or data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockHeader {
    pub offset: u64,
    pub id: [u8; 4],
    pub length: u64,
    pub link_count: u64,
}

impl BlockHeader {
    /// Offset of the data section (after header and links).
    pub fn data_offset(&self) -> u64 {
        self.offset + HEADER_LEN + 8 * self.link_count
    }

    /// Length of the data section.
    pub fn data_len(&self) -> u64 {
        self.length - HEADER_LEN - 8 * self.link_count
    }

    /// The two-letter block type ("DT", "DZ", ...).
    pub fn kind(&self) -> [u8; 2] {
        [self.id[2], self.id[3]]
    }
}

/// A metadata block fully loaded: its links (already checked to lie inside the file) and
/// its data section.
#[derive(Debug)]
pub(crate) struct Block {
    pub header: BlockHeader,
    pub links: Vec<u64>,
    pub data: Vec<u8>,
}

impl Block {
    pub fn offset(&self) -> u64 {
        self.header.offset
    }

    /// Link number `i`, or 0 (nil) when the block has fewer links.
    pub fn link(&self, i: usize) -> u64 {
        self.links.get(i).copied().unwrap_or(0)
    }

    /// File offset where link `i` is stored, for error messages.
    pub fn link_pos(&self, i: usize) -> u64 {
        self.header.offset + HEADER_LEN + 8 * i as u64
    }

    fn field<const N: usize>(&self, at: usize) -> Result<[u8; N]> {
        self.data
            .get(at..at + N)
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or(MdfError::Truncated {
                offset: self.header.data_offset() + at as u64,
                what: "block field",
                needed: N as u64,
                available: self.data.len().saturating_sub(at) as u64,
            })
    }

    pub fn u8(&self, at: usize) -> Result<u8> {
        Ok(self.field::<1>(at)?[0])
    }

    pub fn u16(&self, at: usize) -> Result<u16> {
        self.field(at).map(u16::from_le_bytes)
    }

    pub fn i16(&self, at: usize) -> Result<i16> {
        self.field(at).map(i16::from_le_bytes)
    }

    pub fn u32(&self, at: usize) -> Result<u32> {
        self.field(at).map(u32::from_le_bytes)
    }

    pub fn u64(&self, at: usize) -> Result<u64> {
        self.field(at).map(u64::from_le_bytes)
    }

    pub fn f64(&self, at: usize) -> Result<f64> {
        self.field(at).map(f64::from_le_bytes)
    }
}

/// A seekable MDF4 byte source of known size.
pub(crate) struct Source<R> {
    inner: R,
    size: u64,
}

impl<R: Read + Seek> Source<R> {
    pub fn new(mut inner: R) -> Result<Self> {
        let size = inner.seek(SeekFrom::End(0))?;
        Ok(Source { inner, size })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The underlying reader, for streaming data blocks.
    pub fn inner(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Fill `buf` from `offset`, failing with `Truncated` if the file is too short.
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8], what: &'static str) -> Result<()> {
        let needed = buf.len() as u64;
        if offset.checked_add(needed).is_none_or(|end| end > self.size) {
            return Err(MdfError::Truncated {
                offset,
                what,
                needed,
                available: self.size.saturating_sub(offset),
            });
        }
        self.inner.seek(SeekFrom::Start(offset))?;
        self.inner.read_exact(buf)?;
        Ok(())
    }

    /// Check that a link stored at `pos` pointing to `target` can hold a block header.
    pub fn check_link(&self, pos: u64, target: u64) -> Result<()> {
        if target != 0 && (target < FIRST_BLOCK || target.saturating_add(HEADER_LEN) > self.size) {
            return Err(MdfError::LinkOutOfFile {
                offset: pos,
                target,
                file_size: self.size,
            });
        }
        Ok(())
    }

    /// Read and check a block header whose id must be one of `expected` ("##DT" etc.).
    pub fn header(&mut self, offset: u64, expected: &[&[u8; 4]], what: &'static str) -> Result<BlockHeader> {
        let mut raw = [0u8; HEADER_LEN as usize];
        self.read_at(offset, &mut raw, what)?;
        let mut id = [0u8; 4];
        id.copy_from_slice(&raw[..4]);
        if !expected.iter().any(|e| **e == id) {
            return Err(MdfError::BadBlockId {
                offset,
                expected: what,
                found: String::from_utf8_lossy(&id).into_owned(),
            });
        }
        let mut word = [0u8; 8];
        word.copy_from_slice(&raw[8..16]);
        let length = u64::from_le_bytes(word);
        word.copy_from_slice(&raw[16..24]);
        let link_count = u64::from_le_bytes(word);
        let available = self.size - offset;
        if length > available {
            return Err(MdfError::Truncated {
                offset,
                what,
                needed: length,
                available,
            });
        }
        if length < HEADER_LEN {
            return Err(MdfError::invalid(
                offset,
                format!("{what}: block length {length} is shorter than its header"),
            ));
        }
        if link_count > (length - HEADER_LEN) / 8 {
            return Err(MdfError::invalid(
                offset,
                format!("{what}: {link_count} links do not fit in a block of {length} bytes"),
            ));
        }
        Ok(BlockHeader {
            offset,
            id,
            length,
            link_count,
        })
    }

    /// Read a whole metadata block (header, links, data), bounded by [`MAX_META_BLOCK`].
    pub fn block(&mut self, offset: u64, expected: &[&[u8; 4]], what: &'static str) -> Result<Block> {
        let header = self.header(offset, expected, what)?;
        if header.length > MAX_META_BLOCK {
            return Err(MdfError::AbsurdSize {
                offset,
                what: "metadata block length",
                value: header.length,
                limit: MAX_META_BLOCK,
            });
        }
        let mut body = vec![0u8; (header.length - HEADER_LEN) as usize];
        self.read_at(offset + HEADER_LEN, &mut body, what)?;
        let split = 8 * header.link_count as usize;
        let data = body.split_off(split);
        let links: Vec<u64> = body
            .chunks_exact(8)
            .map(|c| {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                u64::from_le_bytes(w)
            })
            .collect();
        let block = Block { header, links, data };
        for (i, &target) in block.links.iter().enumerate() {
            self.check_link(block.link_pos(i), target)?;
        }
        Ok(block)
    }
}

/// Guards a linked list of blocks against loops and absurd lengths.
pub(crate) struct Chain {
    visited: HashSet<u64>,
    what: &'static str,
    limit: usize,
}

impl Chain {
    pub fn new(what: &'static str, limit: usize) -> Self {
        Chain {
            visited: HashSet::new(),
            what,
            limit,
        }
    }

    /// Record a visit to `offset`; an error if it was visited before or the chain is too long.
    pub fn visit(&mut self, offset: u64) -> Result<()> {
        if !self.visited.insert(offset) {
            return Err(MdfError::LinkLoop {
                offset,
                what: self.what,
            });
        }
        if self.visited.len() > self.limit {
            return Err(MdfError::AbsurdSize {
                offset,
                what: self.what,
                value: self.visited.len() as u64,
                limit: self.limit as u64,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn file_with_block(id: &[u8; 4], length: u64, links: &[u64]) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f.extend_from_slice(id);
        f.extend_from_slice(&[0; 4]);
        f.extend_from_slice(&length.to_le_bytes());
        f.extend_from_slice(&(links.len() as u64).to_le_bytes());
        for l in links {
            f.extend_from_slice(&l.to_le_bytes());
        }
        f.resize(64 + length.min(4096) as usize, 0);
        f
    }

    #[test]
    fn reads_links_and_data_of_a_block() -> Result<()> {
        let f = file_with_block(b"##TX", 24 + 8 + 8, &[64]);
        let mut src = Source::new(Cursor::new(f))?;
        let b = src.block(64, &[b"##TX"], "TX")?;
        assert_eq!(b.links, vec![64]);
        assert_eq!(b.data.len(), 8);
        assert_eq!(b.u64(0)?, 0);
        assert!(b.u64(1).is_err());
        Ok(())
    }

    #[test]
    fn wrong_id_names_the_offset() -> Result<()> {
        let f = file_with_block(b"##TX", 32, &[]);
        let mut src = Source::new(Cursor::new(f))?;
        let err = src.block(64, &[b"##CN"], "CN").err();
        assert!(matches!(err, Some(MdfError::BadBlockId { offset: 64, .. })));
        Ok(())
    }

    #[test]
    fn link_outside_the_file_is_rejected() -> Result<()> {
        let f = file_with_block(b"##TX", 32, &[1 << 40]);
        let mut src = Source::new(Cursor::new(f))?;
        let err = src.block(64, &[b"##TX"], "TX").err();
        assert!(matches!(err, Some(MdfError::LinkOutOfFile { offset: 88, .. })));
        Ok(())
    }

    #[test]
    fn length_past_the_end_is_truncated() -> Result<()> {
        let mut f = file_with_block(b"##TX", 32, &[]);
        f[72..80].copy_from_slice(&(1u64 << 50).to_le_bytes());
        let mut src = Source::new(Cursor::new(f))?;
        let err = src.block(64, &[b"##TX"], "TX").err();
        assert!(matches!(err, Some(MdfError::Truncated { offset: 64, .. })));
        Ok(())
    }

    #[test]
    fn too_many_links_for_the_length_is_invalid() -> Result<()> {
        let mut f = file_with_block(b"##TX", 32, &[]);
        f[80..88].copy_from_slice(&1000u64.to_le_bytes());
        let mut src = Source::new(Cursor::new(f))?;
        assert!(matches!(src.block(64, &[b"##TX"], "TX"), Err(MdfError::Invalid { .. })));
        Ok(())
    }

    #[test]
    fn chain_detects_loops_and_length() {
        let mut c = Chain::new("DG chain", 2);
        assert!(c.visit(64).is_ok());
        assert!(matches!(c.visit(64), Err(MdfError::LinkLoop { offset: 64, .. })));
        assert!(c.visit(128).is_ok());
        assert!(matches!(c.visit(256), Err(MdfError::AbsurdSize { .. })));
    }
}
