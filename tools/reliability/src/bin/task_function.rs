//! `task-function`: a task function's whole `main` (`lambda_wiring::run_task_function`, as in
//! `functions/<task>/src/main.rs`) for the task named by `ZTS_TASK`, so the suites run the
//! production entry point (runtime, configuration, SQS queue, token vault) in a process of its
//! own without depending on the function packages.

use sync_engine::Task;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let name = std::env::var("ZTS_TASK").unwrap_or_default();
    let task = Task::ALL
        .into_iter()
        .find(|t| t.as_str() == name)
        .ok_or_else(|| format!("ZTS_TASK must name a task, not {name:?}"))?;
    lambda_wiring::run_task_function(task).await
}
