//! Benchmarks of issue #10 (`make bench`): rate-limit efficiency of a full sync, request
//! economy (full and incremental), overhead with limits off (throughput per CPU-second, peak
//! memory per tenant size), cold start and binary sizes of the Lambda functions, and a cost
//! model derived from the measured figures. See `BENCHMARKS.md`.
//!
//! The binary prints figures; nothing here asserts timings.

pub mod coldstart;
pub mod harness;
pub mod metered;
pub mod model;
pub mod procfs;
