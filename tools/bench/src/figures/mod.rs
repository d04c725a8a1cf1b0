//! The five figures of issue #10, each run and printed by its own module: rate-limit
//! efficiency and request economy ([`rate`], with the data's minimum in [`minimum`] and the
//! latency-bound sample in [`latency`]), overhead ([`overhead`]), cold start and binary sizes
//! ([`cold_start`]) and the cost model ([`cost`]); issue #18's adaptive pacing ([`pacing`]) and participant lists on Heavy ([`heavy`]); issue #19's
//! export ([`export`]).

pub(crate) mod cold_start;
pub(crate) mod cost;
pub(crate) mod export;
pub(crate) mod heavy;
pub(crate) mod latency;
pub(crate) mod minimum;
pub(crate) mod overhead;
pub(crate) mod pacing;
pub(crate) mod rate;
