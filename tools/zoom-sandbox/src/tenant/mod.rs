//! Synthetic tenants, deterministic from a seed and a size spec. (Owner: tenant/api side.)

#[derive(Debug, Clone)]
pub struct TenantSpec {
    pub seed: u64,
    pub sub_accounts: u32,
    pub users_per_account: u32,
}

impl TenantSpec {
    pub fn demo() -> Self {
        Self {
            seed: 42,
            sub_accounts: 2,
            users_per_account: 20,
        }
    }
}

#[derive(Debug)]
pub struct Tenant {
    pub spec: TenantSpec,
}

impl Tenant {
    pub fn generate(spec: TenantSpec) -> Self {
        Self { spec }
    }
}

impl Tenant {
    pub fn master_account_id(&self) -> &str {
        "master"
    }
}
