//! Text blocks: TX (plain text), MD (XML metadata) and SI (source information).

use std::io::{Read, Seek};

use serde::Serialize;

use super::block::Source;
use super::error::Result;

/// The text of a TX or MD block up to its first NUL; `None` for a nil link.
pub(crate) fn read_text<R: Read + Seek>(src: &mut Source<R>, link: u64) -> Result<Option<String>> {
    if link == 0 {
        return Ok(None);
    }
    let block = src.block(link, &[b"##TX", b"##MD"], "TX or MD block")?;
    let end = block.data.iter().position(|&b| b == 0).unwrap_or(block.data.len());
    Ok(Some(String::from_utf8_lossy(&block.data[..end]).into_owned()))
}

/// A comment or unit: a TX block's text, or the `<TX>` element of an MD block.
pub(crate) fn read_comment<R: Read + Seek>(src: &mut Source<R>, link: u64) -> Result<Option<String>> {
    let Some(text) = read_text(src, link)? else {
        return Ok(None);
    };
    if text.trim_start().starts_with('<') {
        return Ok(xml_element(&text, "TX"));
    }
    Ok(Some(text))
}

/// The unescaped content of the first `<tag>` element of an XML fragment.
pub(crate) fn xml_element(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}");
    let start = xml.match_indices(&open).map(|(i, _)| i).find(|&i| {
        xml[i + open.len()..]
            .chars()
            .next()
            .is_some_and(|c| c == '>' || c == '/' || c.is_whitespace())
    })?;
    let tag_end = start + xml[start..].find('>')?;
    if xml[..tag_end].ends_with('/') {
        return Some(String::new());
    }
    let body = &xml[tag_end + 1..];
    let close = body.find(&format!("</{tag}>"))?;
    Some(unescape(&body[..close]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Source information (SI block): who acquired the data.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceInfo {
    /// Name of the source (ECU, bus, tool).
    pub name: Option<String>,
    /// Path of the source (e.g. the bus channel).
    pub path: Option<String>,
    /// Source type code (0 other, 1 ECU, 2 bus, 3 I/O, 4 tool, 5 user).
    pub source_type: u8,
    /// Bus type code (0 none, 1 other, 2 CAN, 3 LIN, 4 MOST, 5 FlexRay, 6 K-Line, 7 Ethernet, 8 USB).
    pub bus_type: u8,
}

/// Read the SI block at `link`; `None` for a nil link.
pub(crate) fn read_source<R: Read + Seek>(src: &mut Source<R>, link: u64) -> Result<Option<SourceInfo>> {
    if link == 0 {
        return Ok(None);
    }
    let block = src.block(link, &[b"##SI"], "SI block")?;
    Ok(Some(SourceInfo {
        name: read_text(src, block.link(0))?,
        path: read_text(src, block.link(1))?,
        source_type: block.u8(0)?,
        bus_type: block.u8(1)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_element_finds_and_unescapes_the_tag() {
        let xml = "<HDcomment><TX>a &lt;b&gt; &amp; c</TX><TXX>no</TXX></HDcomment>";
        assert_eq!(xml_element(xml, "TX").as_deref(), Some("a <b> & c"));
        assert_eq!(xml_element("<x><TXX>1</TXX><TX>2</TX></x>", "TX").as_deref(), Some("2"));
        assert_eq!(xml_element("<x><TX/></x>", "TX").as_deref(), Some(""));
        assert_eq!(xml_element("<x><TX>open", "TX"), None);
        assert_eq!(xml_element("<x>", "TX"), None);
    }
}
