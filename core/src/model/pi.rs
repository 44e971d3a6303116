//! The privacy index (PI): three scores from 0 (public) to 100 (private).

use serde::{Deserialize, Serialize};

/// The privacy index of a message, contact, device or user.
///
/// - `technic`: how the message travelled and was protected (TLS, encryption, signature);
/// - `comportment`: how the people involved behave (known contacts, spam, answers);
/// - `context`: where it happens (device, place, internal or external).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pi {
    pub technic: u8,
    pub comportment: u8,
    pub context: u8,
    /// Version of the rules that computed it.
    #[serde(default)]
    pub version: u32,
}

impl Pi {
    /// The single 0..100 figure clients filter on (`X-Caliopen-PI`): the mean of the three.
    pub fn aggregate(&self) -> u8 {
        let sum = u16::from(self.technic) + u16::from(self.comportment) + u16::from(self.context);
        (sum / 3) as u8
    }
}
