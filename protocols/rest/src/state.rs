//! The state every handler gets.

use std::sync::Arc;

use caliopen_core::Core;

use crate::client::RestSettings;

#[derive(Debug, Clone)]
pub struct AppState {
    pub core: Core,
    pub settings: Arc<RestSettings>,
}

impl AppState {
    /// With the default settings (no trusted proxy).
    pub fn new(core: Core) -> Self {
        Self::with_settings(core, RestSettings::default())
    }

    pub fn with_settings(core: Core, settings: RestSettings) -> Self {
        Self {
            core,
            settings: Arc::new(settings),
        }
    }
}
