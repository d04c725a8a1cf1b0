#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_wiring::run_task_function(application_roster::TASK).await
}
