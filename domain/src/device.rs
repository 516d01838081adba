//! An appliance is known by its device id: the 12-digit lowercase hex MAC of its WAN port
//! (api-v1 "Devices"). Anything else is rejected at the edge, so past this point an id is
//! always well-formed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A well-formed device id such as `c025a28b0a41`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceIdError {
    #[error("device id must be 12 characters, got {0}")]
    Length(usize),
    #[error("device id must be lowercase hex (0-9, a-f)")]
    NotLowercaseHex,
}

impl DeviceId {
    pub fn parse(s: &str) -> Result<DeviceId, DeviceIdError> {
        if s.len() != 12 {
            return Err(DeviceIdError::Length(s.chars().count()));
        }
        if !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(DeviceIdError::NotLowercaseHex);
        }
        Ok(DeviceId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// [`DeviceId::parse`] with the message a JSON body's `device_id` field is refused with.
    pub(crate) fn parse_field(s: &str) -> Result<DeviceId, &'static str> {
        DeviceId::parse(s).map_err(|_| "must be the 12-digit lowercase hex MAC, e.g. c025a28b0a41")
    }
}

impl TryFrom<String> for DeviceId {
    type Error = DeviceIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DeviceId::parse(&s)
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> String {
        id.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: Result<&str, DeviceIdError>) {
        let got = DeviceId::parse(input);
        assert_eq!(
            got.as_ref().map(DeviceId::as_str).map_err(Clone::clone),
            expected
        );
    }

    #[test]
    fn a_lowercase_hex_mac_is_a_device_id() {
        check("c025a28b0a41", Ok("c025a28b0a41"));
        check("000000000000", Ok("000000000000"));
    }

    #[test]
    fn uppercase_hex_is_rejected_because_ids_are_case_sensitive() {
        check("C025A28B0A41", Err(DeviceIdError::NotLowercaseHex));
    }

    #[test]
    fn a_mac_with_separators_is_rejected() {
        check("c0:25:a2:8b:0a:41", Err(DeviceIdError::Length(17)));
    }

    #[test]
    fn too_short_and_non_ascii_ids_are_rejected_without_panicking() {
        check("", Err(DeviceIdError::Length(0)));
        check("c025a28b0a4", Err(DeviceIdError::Length(11)));
        check("c025a28b0aあ", Err(DeviceIdError::Length(11)));
        check("g025a28b0a41", Err(DeviceIdError::NotLowercaseHex));
    }

    #[test]
    fn a_device_id_deserializes_only_when_well_formed() {
        let ok: Result<DeviceId, _> = serde_json::from_str("\"c025a28b0a41\"");
        assert!(ok.is_ok());
        let bad: Result<DeviceId, _> = serde_json::from_str("\"nope\"");
        assert!(bad.is_err());
    }
}
