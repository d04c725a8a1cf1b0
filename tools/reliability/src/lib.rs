//! Failure proof (#17): what the suites in `tests/` use to run the production code as Lambda
//! runs it, in processes of their own.
//!
//! - [`RuntimeApi`]: a local Lambda Runtime API. A function process started with
//!   `AWS_LAMBDA_RUNTIME_API` pointing at it polls for events; [`RuntimeApi::invoke`] hands it
//!   one (with a deadline, as Lambda does) and returns the function's answer or error.
//! - [`Stack`]: one connection's deployment on the local AWS, and its task functions started as
//!   Lambda starts them.
//! - the binaries: `token-worker` (the token vault in a process of its own) and `task-function`
//!   (a task function's whole `main`, `lambda_wiring::run_task_function`).

pub mod runtime;
pub mod stack;

pub use runtime::{Answer, RuntimeApi};
pub use stack::{FunctionProcess, Stack};
