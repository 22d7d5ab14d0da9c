//! Application errors and their exit codes (DESIGN "Errors and exit codes").

/// A failed command. Bad input is exit code 2, runtime failure exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input or config: names the file, field, row and reason.
    #[error("{0}")]
    BadInput(String),
    /// Anything else that stopped the run.
    #[error("{0}")]
    Runtime(String),
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::BadInput(_) => 2,
            AppError::Runtime(_) => 1,
        }
    }
}

impl From<lockstep_data::DataError> for AppError {
    fn from(e: lockstep_data::DataError) -> Self {
        AppError::BadInput(e.to_string())
    }
}
