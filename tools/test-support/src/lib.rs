//! The integration tests' harness (`sync-engine`, `license-admin` and `lambda-wiring` tests):
//! an in-process sandbox, a Zoom client on it, a store (moto when
//! `ZTS_AWS_ENDPOINT_URL` is set, else the in-memory fake of the same semantics), the engine and
//! its runs, and the comparison of stored records with the sandbox's ground truth.
//!
//! The Zoom configuration, grants and clients on a sandbox ([`sandbox_config`],
//! [`sandbox_tokens`], [`client_on`]) are also those of reclamation's sandbox test and of the
//! benchmarks (`tools/bench`), which pace and retry differently.

// One purpose a file: `sandbox` (tenants, the sandbox, its truth, clocks), `clients` (Zoom on a
// sandbox), `store` (moto or memory, records read back), `connections` (settings, ids, the
// connection record), `engine` (the engine and its runs), `truth` (the comparison through the
// oracle). Everything public is re-exported here: users write `test_support::name`.
mod clients;
mod connections;
mod engine;
mod sandbox;
mod store;
mod truth;

pub use clients::*;
pub use connections::*;
pub use engine::*;
pub use sandbox::*;
pub use store::*;
pub use truth::*;
