//! Who may do what on the embedded broker, as AWS IoT Core's thing policy says it
//! (`deploy/src/template/iot.rs`, `${iot:Connection.Thing.ThingName}`): a client's identity
//! is its certificate's common name; its client id must be that name; a device may use
//! only its own topics; the cloud's identity ([`CLOUD_CLIENT_ID`]) is reserved for the
//! certificate issued to the cloud.

use haul_contract::parse_topic;

use crate::stack::CLOUD_CLIENT_ID;

/// A TLS client, by its certificate's common name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The cloud side (presign responder, result publisher).
    Cloud,
    /// A device (thing) of this name.
    Device(String),
}

impl Identity {
    /// The identity a certificate common name proves.
    pub fn of(common_name: &str) -> Self {
        match common_name == CLOUD_CLIENT_ID {
            true => Identity::Cloud,
            false => Identity::Device(common_name.to_owned()),
        }
    }

    /// The only client id this identity may connect with.
    pub fn client_id(&self) -> &str {
        match self {
            Identity::Cloud => CLOUD_CLIENT_ID,
            Identity::Device(name) => name,
        }
    }

    /// Whether it may publish to `topic` (a topic name, never a filter).
    pub fn may_publish(&self, topic: &str) -> bool {
        if topic.contains(['+', '#']) {
            return false;
        }
        let levels: Vec<&str> = topic.split('/').collect();
        let upload = parse_topic(topic);
        match self {
            Identity::Cloud => upload.is_some_and(|(_, kind)| !kind.from_device()) || own_shadow(&levels, None),
            Identity::Device(me) => {
                upload.is_some_and(|(d, kind)| d == me && kind.from_device()) || own_shadow(&levels, Some(me))
            }
        }
    }

    /// Whether it may subscribe to `filter`.
    pub fn may_subscribe(&self, filter: &str) -> bool {
        let levels: Vec<&str> = filter.split('/').collect();
        let upload = parse_topic(filter);
        match self {
            Identity::Cloud => {
                upload.is_some_and(|(d, kind)| d == "+" && kind.from_device())
                    || matches!(levels.as_slice(), ["$aws", "things", "+", "shadow", "name", _, ..])
            }
            Identity::Device(me) => {
                !filter.contains(['+', '#']) && upload.is_some_and(|(d, kind)| d == me && !kind.from_device())
                    || own_shadow(&levels, Some(me))
            }
        }
    }
}

/// `$aws/things/{thing}/shadow/...` of the device `me` (any thing for the cloud, `None`).
fn own_shadow(levels: &[&str], me: Option<&str>) -> bool {
    match levels {
        ["$aws", "things", thing, "shadow", rest @ ..] if !rest.is_empty() => {
            me.is_none_or(|me| *thing == me) && !thing.contains(['+', '#']) && !rest.contains(&"#")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_uses_only_its_own_topics() {
        let d = Identity::of("dev-a");
        assert_eq!(d.client_id(), "dev-a");
        assert!(d.may_publish("haul/dev-a/upload/request"));
        assert!(d.may_publish("haul/dev-a/upload/complete"));
        assert!(d.may_publish("haul/dev-a/upload/resend"));
        assert!(!d.may_publish("haul/dev-b/upload/resend"));
        assert!(!d.may_publish("haul/dev-b/upload/request"), "another device's topic");
        assert!(!d.may_publish("haul/dev-a/upload/response"), "the cloud's answer");
        assert!(!d.may_publish("haul/+/upload/request"));
        assert!(d.may_subscribe("haul/dev-a/upload/response"));
        assert!(d.may_subscribe("haul/dev-a/upload/result"));
        assert!(
            !d.may_subscribe("haul/+/upload/request"),
            "the requests of every device"
        );
        assert!(!d.may_subscribe("haul/#"));
        assert!(!d.may_subscribe("haul/dev-b/upload/result"));
        assert!(d.may_publish("$aws/things/dev-a/shadow/name/haul-upload/update"));
        assert!(!d.may_publish("$aws/things/dev-b/shadow/name/haul-upload/update"));
        assert!(!d.may_subscribe("$aws/things/+/shadow/name/haul-upload/update/delta"));
    }

    #[test]
    fn the_cloud_identity_is_reserved_and_answers_every_device() {
        let c = Identity::of(CLOUD_CLIENT_ID);
        assert_eq!(c, Identity::Cloud);
        assert!(c.may_subscribe("haul/+/upload/request"));
        assert!(c.may_publish("haul/dev-a/upload/response"));
        assert!(
            !c.may_publish("haul/dev-a/upload/request"),
            "the cloud never speaks as a device"
        );
        assert!(!c.may_subscribe("#"));
    }
}
