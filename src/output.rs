//! Writing results to stdout as a table, JSON or CSV. A closed pipe (`| head`) is not an error.

use std::io::{self, Write};

use anyhow::Context;
use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow::util::pretty::pretty_format_batches;

use crate::cli::OutputFormat;

/// Writes to stdout; a reader that went away (broken pipe) ends the output quietly.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(err).context("writing to stdout"),
    }
}

pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_stdout(text.as_bytes())
}

pub fn render_batches(batches: &[RecordBatch], format: OutputFormat) -> anyhow::Result<String> {
    match format {
        OutputFormat::Table => Ok(format!("{}\n", pretty_format_batches(batches)?)),
        OutputFormat::Json => batches_to_json(batches),
        OutputFormat::Csv => batches_to_csv(batches),
    }
}

fn batches_to_json(batches: &[RecordBatch]) -> anyhow::Result<String> {
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    let mut text = String::from_utf8(writer.into_inner())?;
    if text.is_empty() {
        text.push_str("[]");
    }
    text.push('\n');
    Ok(text)
}

fn batches_to_csv(batches: &[RecordBatch]) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let Some(first) = batches.first() else {
        return Ok(String::new());
    };
    let header: Vec<&str> = first
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    writer.write_record(&header)?;
    let options = FormatOptions::default().with_null("");
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let record: Vec<String> = formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect();
            writer.write_record(&record)?;
        }
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}
