//! The data section of a data group as one lazy byte stream: DT blocks are read in place,
//! DZ blocks inflated one at a time, DL lists and HL headers followed link by link.

use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};

use super::block::{BlockHeader, Chain, Source};
use super::error::{MdfError, Result};
use super::zip::inflate;

/// Most DL blocks followed for one data group.
const MAX_DL: usize = 1 << 20;
/// Most data blocks in one data group.
const MAX_DATA_BLOCKS: usize = 1 << 24;

/// What is being read right now.
enum Current {
    /// Nothing: the next block must be opened.
    None,
    /// A DT block read in place: file position and bytes left.
    File { pos: u64, remaining: u64 },
    /// An inflated DZ block and the read position in it.
    Mem { pos: usize },
}

/// Reads the concatenated data bytes of one data group, block after block.
pub(crate) struct DataReader<'a, R> {
    src: &'a mut Source<R>,
    pending: VecDeque<u64>,
    next_dl: u64,
    dl_chain: Chain,
    /// Every data block is read once: a list naming one block many times is rejected.
    seen: Chain,
    current: Current,
    inflated: Vec<u8>,
    scratch: Vec<u8>,
}

impl<'a, R: Read + Seek> DataReader<'a, R> {
    /// Start reading from the DG data link (nil, DT, DZ, DL or HL).
    pub fn new(src: &'a mut Source<R>, data_link: u64) -> Result<Self> {
        let mut reader = DataReader {
            src,
            pending: VecDeque::new(),
            next_dl: 0,
            dl_chain: Chain::new("DL chain", MAX_DL),
            seen: Chain::new("data block list", MAX_DATA_BLOCKS),
            current: Current::None,
            inflated: Vec::new(),
            scratch: Vec::new(),
        };
        if data_link != 0 {
            let header = reader.src.header(
                data_link,
                &[b"##DT", b"##DZ", b"##DL", b"##HL", b"##DV", b"##DI"],
                "data block",
            )?;
            match &header.kind() {
                b"HL" => {
                    let hl = reader.src.block(data_link, &[b"##HL"], "HL block")?;
                    reader.next_dl = hl.link(0);
                }
                b"DL" => reader.next_dl = data_link,
                b"DV" | b"DI" => {
                    return Err(MdfError::unsupported(data_link, "column oriented data (DV/DI)"));
                }
                _ => reader.pending.push_back(data_link),
            }
        }
        Ok(reader)
    }

    /// Read up to `buf.len()` bytes; 0 means the data section has ended.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match self.current {
                Current::File { pos, remaining } if remaining > 0 => {
                    let n = buf.len().min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    let inner = self.src.inner();
                    inner.seek(SeekFrom::Start(pos))?;
                    inner.read_exact(&mut buf[..n])?;
                    self.current = Current::File {
                        pos: pos + n as u64,
                        remaining: remaining - n as u64,
                    };
                    return Ok(n);
                }
                Current::Mem { pos } if pos < self.inflated.len() => {
                    let n = buf.len().min(self.inflated.len() - pos);
                    buf[..n].copy_from_slice(&self.inflated[pos..pos + n]);
                    self.current = Current::Mem { pos: pos + n };
                    return Ok(n);
                }
                _ => {
                    if !self.open_next()? {
                        return Ok(0);
                    }
                }
            }
        }
    }

    /// Open the next data block; false when there is none.
    fn open_next(&mut self) -> Result<bool> {
        let link = loop {
            if let Some(link) = self.pending.pop_front() {
                break link;
            }
            if self.next_dl == 0 {
                self.current = Current::None;
                return Ok(false);
            }
            self.load_dl()?;
        };
        self.seen.visit(link)?;
        let header = self.src.header(link, &[b"##DT", b"##DZ"], "DT or DZ block")?;
        self.current = if header.kind() == *b"DZ" {
            self.open_dz(&header)?
        } else {
            Current::File {
                pos: header.data_offset(),
                remaining: header.data_len(),
            }
        };
        Ok(true)
    }

    fn open_dz(&mut self, header: &BlockHeader) -> Result<Current> {
        inflate(self.src, header, &mut self.scratch, &mut self.inflated)?;
        Ok(Current::Mem { pos: 0 })
    }

    fn load_dl(&mut self) -> Result<()> {
        let at = self.next_dl;
        self.dl_chain.visit(at)?;
        let dl = self.src.block(at, &[b"##DL"], "DL block")?;
        self.next_dl = dl.link(0);
        self.pending
            .extend(dl.links.iter().skip(1).copied().filter(|&l| l != 0));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdf::write::BlockWriter;
    use std::io::Cursor;

    fn read_all(bytes: Vec<u8>, link: u64) -> Result<Vec<u8>> {
        let mut src = Source::new(Cursor::new(bytes))?;
        let mut reader = DataReader::new(&mut src, link)?;
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn dl_of_dt_and_dz_blocks_reads_in_order() -> Result<()> {
        let mut w = BlockWriter::new();
        let dt = w.dt(b"abcde");
        let dz = w.dz(b"fghijklm", 0, 4);
        let dzt = w.dz(b"nopqrstuvw", 1, 3);
        let dl2 = w.dl(0, &[dzt]);
        let dl1 = w.dl(dl2, &[dt, dz]);
        let hl = w.hl(dl1);
        let out = read_all(w.finish(), hl)?;
        assert_eq!(out, b"abcdefghijklmnopqrstuvw");
        Ok(())
    }

    #[test]
    fn a_dl_loop_is_reported() -> Result<()> {
        let mut w = BlockWriter::new();
        let dt = w.dt(b"abc");
        let dl = w.dl(0, &[dt]);
        w.patch_link(dl, 0, dl);
        let err = read_all(w.finish(), dl).err();
        assert!(matches!(err, Some(MdfError::LinkLoop { .. })));
        Ok(())
    }

    #[test]
    fn a_block_listed_twice_is_rejected() -> Result<()> {
        let mut w = BlockWriter::new();
        let dt = w.dt(b"abc");
        let dl = w.dl(0, &[dt, dt]);
        let err = read_all(w.finish(), dl).err();
        assert!(matches!(err, Some(MdfError::LinkLoop { offset, .. }) if offset == dt));
        Ok(())
    }

    #[test]
    fn a_corrupt_dz_is_an_inflate_error() -> Result<()> {
        let mut w = BlockWriter::new();
        let dz = w.dz(b"0123456789", 0, 1);
        let mut bytes = w.finish();
        let stream = dz as usize + 24 + 24;
        bytes[stream + 2] ^= 0xff;
        bytes[stream + 3] ^= 0xff;
        let err = read_all(bytes, dz).err();
        assert!(matches!(err, Some(MdfError::Inflate { .. })), "{err:?}");
        Ok(())
    }
}
