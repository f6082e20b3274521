//! Just enough of MQTT 3.1.1 (OASIS, 2014) to authorize what a client sends: the fixed
//! header and remaining length, and the parts of CONNECT, PUBLISH, SUBSCRIBE and
//! UNSUBSCRIBE that name a client id or topics. Everything else passes as bytes.
//!
//! It also renames AWS IoT's reserved topics for rumqttd, which refuses any filter that
//! starts with `$`: `$aws/...` from a client is `_aws/...` inside the broker and back again
//! on the way out ([`rename_reserved`]; same length, so only one byte changes).

/// A packet a client sent, as far as authorization cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT: the protocol level and client id.
    Connect {
        /// 4 for MQTT 3.1.1, 3 for 3.1, 5 for 5.0.
        level: u8,
        /// The client identifier.
        client_id: String,
    },
    /// PUBLISH to a topic.
    Publish {
        /// The topic name.
        topic: String,
    },
    /// SUBSCRIBE to filters.
    Subscribe {
        /// The topic filters.
        filters: Vec<String>,
    },
    /// Anything else (acknowledgements, pings, unsubscribes, disconnect).
    Other,
}

/// Why bytes are not an acceptable packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed MQTT packet: {0}")]
pub struct Malformed(pub &'static str);

/// The total length (fixed header included) of the packet at the start of `buf`, once its
/// fixed header is complete: `Ok(None)` while more bytes are needed.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, Malformed> {
    let mut len = 0usize;
    for i in 0..4 {
        let Some(&b) = buf.get(1 + i) else {
            return Ok(None);
        };
        len |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some(2 + i + len));
        }
    }
    Err(Malformed("remaining length longer than 4 bytes"))
}

/// Parses one whole packet (as delimited by [`frame_len`]).
pub fn parse(frame: &[u8]) -> Result<Packet, Malformed> {
    let kind = frame.first().ok_or(Malformed("empty"))? >> 4;
    let header = frame_len(frame)?.ok_or(Malformed("truncated header"))? - body_len(frame)?;
    let body = &frame[header..];
    match kind {
        1 => connect(body),
        3 => Ok(Packet::Publish {
            topic: string(body, 0)?.0,
        }),
        8 => subscribe(body),
        _ => Ok(Packet::Other),
    }
}

/// AWS IoT's reserved topics, as clients name them.
pub const RESERVED: &[u8] = b"$aws/";
/// The same topics inside rumqttd.
pub const INSIDE: &[u8] = b"_aws/";

/// In a PUBLISH, SUBSCRIBE or UNSUBSCRIBE frame, renames each topic that starts with
/// `from` (one of [`RESERVED`], [`INSIDE`]) to start with `to`; returns how many it renamed.
pub fn rename_reserved(frame: &mut [u8], from: &[u8], to: &[u8]) -> Result<usize, Malformed> {
    let kind = frame.first().ok_or(Malformed("empty"))? >> 4;
    let header = frame_len(frame)?.ok_or(Malformed("truncated header"))? - body_len(frame)?;
    let body = &mut frame[header..];
    let mut renamed = 0;
    let mut rename_at = |body: &mut [u8], at: usize| -> Result<usize, Malformed> {
        let (_, next) = string(body, at)?;
        if body[at + 2..next].starts_with(from) {
            body[at + 2..at + 2 + to.len()].copy_from_slice(to);
            renamed += 1;
        }
        Ok(next)
    };
    match kind {
        3 => {
            rename_at(body, 0)?;
        }
        8 | 10 => {
            let mut at = 2; // packet identifier
            while at < body.len() {
                at = rename_at(body, at)? + usize::from(kind == 8); // SUBSCRIBE: requested QoS
            }
        }
        _ => {}
    }
    Ok(renamed)
}

fn body_len(frame: &[u8]) -> Result<usize, Malformed> {
    let total = frame_len(frame)?.ok_or(Malformed("truncated header"))?;
    let mut header = 1;
    while frame.get(header).is_some_and(|b| b & 0x80 != 0) {
        header += 1;
    }
    Ok(total - header - 1)
}

/// A length-prefixed UTF-8 string at `at`; returns it and the offset after it.
fn string(body: &[u8], at: usize) -> Result<(String, usize), Malformed> {
    let len_bytes = body.get(at..at + 2).ok_or(Malformed("string length"))?;
    let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    let bytes = body.get(at + 2..at + 2 + len).ok_or(Malformed("string"))?;
    let text = std::str::from_utf8(bytes).map_err(|_| Malformed("string is not UTF-8"))?;
    Ok((text.to_owned(), at + 2 + len))
}

fn connect(body: &[u8]) -> Result<Packet, Malformed> {
    let (protocol, at) = string(body, 0)?;
    if protocol != "MQTT" && protocol != "MQIsdp" {
        return Err(Malformed("not an MQTT protocol name"));
    }
    let level = *body.get(at).ok_or(Malformed("protocol level"))?;
    // level, connect flags, keep alive; MQTT 5 adds properties before the payload.
    let mut payload = at + 4;
    if level == 5 {
        let (props, used) = varint(body, payload)?;
        payload += used + props;
    }
    let (client_id, _) = string(body, payload)?;
    Ok(Packet::Connect { level, client_id })
}

fn varint(body: &[u8], at: usize) -> Result<(usize, usize), Malformed> {
    let mut value = 0usize;
    for i in 0..4 {
        let b = *body.get(at + i).ok_or(Malformed("variable integer"))?;
        value |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(Malformed("variable integer longer than 4 bytes"))
}

fn subscribe(body: &[u8]) -> Result<Packet, Malformed> {
    let mut at = 2; // packet identifier
    let mut filters = Vec::new();
    while at < body.len() {
        let (filter, next) = string(body, at)?;
        filters.push(filter);
        at = next + 1; // requested QoS
    }
    if filters.is_empty() {
        return Err(Malformed("SUBSCRIBE without a topic filter"));
    }
    Ok(Packet::Subscribe { filters })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind_flags: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind_flags];
        let mut len = body.len();
        loop {
            let mut b = (len % 128) as u8;
            len /= 128;
            if len > 0 {
                b |= 0x80;
            }
            out.push(b);
            if len == 0 {
                break;
            }
        }
        out.extend_from_slice(body);
        out
    }

    fn s(text: &str) -> Vec<u8> {
        let mut out = (text.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(text.as_bytes());
        out
    }

    #[test]
    fn connect_publish_and_subscribe_are_read() {
        let mut connect = s("MQTT");
        connect.extend_from_slice(&[4, 0x02, 0, 30]);
        connect.extend(s("dev-1"));
        assert_eq!(
            parse(&frame(0x10, &connect)).unwrap(),
            Packet::Connect {
                level: 4,
                client_id: "dev-1".into()
            }
        );
        let mut publish = s("haul/dev-1/upload/request");
        publish.extend_from_slice(&[0, 7, b'{', b'}']);
        assert_eq!(
            parse(&frame(0x32, &publish)).unwrap(),
            Packet::Publish {
                topic: "haul/dev-1/upload/request".into()
            }
        );
        let mut sub = vec![0, 9];
        sub.extend(s("haul/dev-1/upload/response"));
        sub.push(1);
        sub.extend(s("haul/dev-1/upload/result"));
        sub.push(1);
        let Packet::Subscribe { filters } = parse(&frame(0x82, &sub)).unwrap() else {
            panic!()
        };
        assert_eq!(filters, ["haul/dev-1/upload/response", "haul/dev-1/upload/result"]);
        assert_eq!(parse(&[0xC0, 0]).unwrap(), Packet::Other);
    }

    #[test]
    fn reserved_topics_are_renamed_in_publish_subscribe_and_unsubscribe() {
        let mut publish = frame(
            0x30,
            &[s("$aws/things/d/shadow/name/n/update"), b"{}".to_vec()].concat(),
        );
        assert_eq!(rename_reserved(&mut publish, RESERVED, INSIDE).unwrap(), 1);
        assert_eq!(
            parse(&publish).unwrap(),
            Packet::Publish {
                topic: "_aws/things/d/shadow/name/n/update".into()
            }
        );
        assert_eq!(rename_reserved(&mut publish, INSIDE, RESERVED).unwrap(), 1);
        let mut sub = vec![0, 9];
        sub.extend(s("haul/d/upload/result"));
        sub.push(1);
        sub.extend(s("$aws/things/d/shadow/name/n/update/delta"));
        sub.push(1);
        let mut sub = frame(0x82, &sub);
        assert_eq!(rename_reserved(&mut sub, RESERVED, INSIDE).unwrap(), 1);
        let Packet::Subscribe { filters } = parse(&sub).unwrap() else {
            panic!()
        };
        assert_eq!(
            filters,
            ["haul/d/upload/result", "_aws/things/d/shadow/name/n/update/delta"]
        );
        let mut unsub = frame(0xA2, &[vec![0, 3], s("$awsx/y")].concat());
        assert_eq!(rename_reserved(&mut unsub, RESERVED, INSIDE).unwrap(), 0);
        let mut unsub = frame(0xA2, &[vec![0, 3], s("$aws/things/x")].concat());
        assert_eq!(rename_reserved(&mut unsub, RESERVED, INSIDE).unwrap(), 1);
    }

    #[test]
    fn frames_are_delimited_by_their_remaining_length() {
        let big = frame(0x30, &vec![0u8; 300]);
        assert_eq!(frame_len(&big[..1]).unwrap(), None);
        assert_eq!(frame_len(&big).unwrap(), Some(303));
        assert!(frame_len(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
    }

    #[test]
    fn truncated_or_lying_packets_are_malformed() {
        assert!(
            parse(&frame(0x30, &[0, 9, b'a'])).is_err(),
            "topic longer than the packet"
        );
        assert!(parse(&frame(0x82, &[0, 1])).is_err(), "subscribe without filters");
        assert!(parse(&frame(0x10, &s("HTTP"))).is_err());
        assert!(parse(&frame(0x30, &[0, 2, 0xFF, 0xFE])).is_err(), "not UTF-8");
    }
}
