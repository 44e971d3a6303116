//! The state every handler gets.

use caliopen_core::Core;

#[derive(Debug, Clone)]
pub struct AppState {
    pub core: Core,
}

impl AppState {
    pub fn new(core: Core) -> Self {
        Self { core }
    }
}
