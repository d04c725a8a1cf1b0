//! What every handler sees.

use crate::config::SandboxConfig;
use crate::tenant::Tenant;

pub struct SandboxState {
    pub config: SandboxConfig,
    pub tenant: Tenant,
}

impl SandboxState {
    pub fn new(config: SandboxConfig) -> Self {
        let tenant = Tenant::generate(config.tenant.clone());
        Self { config, tenant }
    }
}
