//! One CSV file per channel group, written row by row as records stream past.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::conversion::Phys;
use super::error::{MdfError, Result};

/// A CSV file being written: a header row of channel names, then one row per record.
/// Invalid samples are empty cells; text is quoted when needed; bytes are hex.
pub(crate) struct CsvWriter {
    path: PathBuf,
    out: BufWriter<File>,
    line: Vec<u8>,
}

impl CsvWriter {
    pub fn create(path: &Path, names: &[&str]) -> Result<Self> {
        let file = File::create(path).map_err(|source| MdfError::CsvWrite {
            path: path.to_path_buf(),
            source,
        })?;
        let mut writer = CsvWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, file),
            line: Vec::with_capacity(256),
        };
        for (i, name) in names.iter().enumerate() {
            writer.cell(i == 0, Some(Phys::Text(name)));
        }
        writer.end_row()?;
        Ok(writer)
    }

    /// Append one cell to the current row.
    pub fn cell(&mut self, first: bool, value: Option<Phys<'_>>) {
        if !first {
            self.line.push(b',');
        }
        if let Some(v) = value {
            format_cell(&mut self.line, v);
        }
    }

    pub fn end_row(&mut self) -> Result<()> {
        self.line.push(b'\n');
        let result = self.out.write_all(&self.line);
        self.line.clear();
        result.map_err(|source| self.error(source))
    }

    pub fn finish(mut self) -> Result<()> {
        self.out.flush().map_err(|source| self.error(source))
    }

    fn error(&self, source: std::io::Error) -> MdfError {
        MdfError::CsvWrite {
            path: self.path.clone(),
            source,
        }
    }
}

/// Format one value: integers exactly, floats in the shortest form that reads back to the
/// same f64, text quoted when it holds a comma, quote or line break.
pub(crate) fn format_cell(line: &mut Vec<u8>, value: Phys<'_>) {
    use std::io::Write as _;
    // Writing into a Vec cannot fail.
    let _ = match value {
        Phys::UInt(v) => write!(line, "{v}"),
        Phys::Int(v) => write!(line, "{v}"),
        Phys::Float(v) => write!(line, "{v:?}"),
        Phys::Text(s) => {
            if s.contains([',', '"', '\n', '\r']) {
                line.push(b'"');
                line.extend_from_slice(s.replace('"', "\"\"").as_bytes());
                line.push(b'"');
            } else {
                line.extend_from_slice(s.as_bytes());
            }
            Ok(())
        }
        Phys::Bytes(b) => {
            for byte in b {
                let _ = write!(line, "{byte:02x}");
            }
            Ok(())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(v: Phys<'_>) -> String {
        let mut line = Vec::new();
        format_cell(&mut line, v);
        String::from_utf8_lossy(&line).into_owned()
    }

    #[test]
    fn cells_are_exact_and_escaped() {
        assert_eq!(cell(Phys::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(cell(Phys::Int(-3)), "-3");
        assert_eq!(cell(Phys::Float(0.1)), "0.1");
        assert_eq!(cell(Phys::Float(1e300)), "1e300");
        assert_eq!(cell(Phys::Text("a,\"b\"")), "\"a,\"\"b\"\"\"");
        assert_eq!(cell(Phys::Bytes(&[0, 255])), "00ff");
    }

    #[test]
    fn writes_header_and_rows() -> Result<()> {
        let dir = tempfile::tempdir().map_err(MdfError::Io)?;
        let path = dir.path().join("g.csv");
        let mut w = CsvWriter::create(&path, &["t", "x"])?;
        w.cell(true, Some(Phys::Float(0.5)));
        w.cell(false, None);
        w.end_row()?;
        w.finish()?;
        assert_eq!(std::fs::read_to_string(&path)?, "t,x\n0.5,\n");
        Ok(())
    }
}
