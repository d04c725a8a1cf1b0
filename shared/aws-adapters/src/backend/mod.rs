//! The few table operations the typed stores need, with two implementations of the same
//! semantics: DynamoDB ([`DynamoTable`]) and memory ([`MemoryTable`], for unit tests of later
//! crates). The typed stores in [`crate::stores`] are written once on top of [`Table`], so the
//! in-memory fake cannot behave differently from DynamoDB in key layout, conditions or paging.

mod dynamo;
mod memory;
mod operations;

pub use dynamo::{DynamoTable, retry_unprocessed};
pub use memory::MemoryTable;
pub(crate) use operations::str_attr;
pub use operations::{Cond, Index, Item, Page, Query, SkCond, Table, WriteOp, query_all};
