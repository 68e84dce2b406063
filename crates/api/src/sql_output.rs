//! SQL results as JSON rows or an Arrow IPC stream.

use arrow::ipc::writer::StreamWriter;
use faultline_store::SqlResult;
use serde_json::{Map, Value};

use crate::error::ApiError;

pub fn to_json_rows(result: &SqlResult) -> Result<Vec<Map<String, Value>>, ApiError> {
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    for batch in &result.batches {
        writer
            .write(batch)
            .map_err(|err| ApiError::internal(format!("encoding rows: {err}")))?;
    }
    writer
        .finish()
        .map_err(|err| ApiError::internal(format!("encoding rows: {err}")))?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&bytes)
        .map_err(|err| ApiError::internal(format!("encoding rows: {err}")))
}

pub fn to_arrow_ipc(result: &SqlResult) -> Result<Vec<u8>, ApiError> {
    let encode = || -> Result<Vec<u8>, arrow::error::ArrowError> {
        let mut writer = StreamWriter::try_new(Vec::new(), &result.schema)?;
        for batch in &result.batches {
            writer.write(batch)?;
        }
        writer.finish()?;
        writer.into_inner()
    };
    encode().map_err(|err| ApiError::internal(format!("encoding Arrow IPC: {err}")))
}
