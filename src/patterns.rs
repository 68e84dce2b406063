//! `faultline patterns`: mine log templates from a file of messages, one a line, and write
//! `line,cluster,template` (1-based line, the final template id, its text) as CSV or JSON.
//! `--bench` times only the mining loop and prints lines/s.

use std::borrow::Cow;
use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use faultline_engine::templates::{TemplateId, TemplateMiner};
use serde::Serialize;

use crate::UsageError;
use crate::cli::{PatternsArgs, PatternsOutput};
use crate::output::write_stdout;

#[derive(Serialize)]
struct Row<'a> {
    line: usize,
    cluster: String,
    template: &'a str,
}

pub fn run(args: &PatternsArgs) -> anyhow::Result<()> {
    let data = std::fs::read(&args.input)
        .map_err(|err| UsageError(format!("cannot read {}: {err}", args.input.display())))?;
    let lines = messages(&data);
    if args.bench {
        return write_stdout(bench(&lines, args.repeat).as_bytes());
    }
    let mut miner = TemplateMiner::new();
    let ids: Vec<TemplateId> = lines.iter().map(|line| miner.add(line)).collect();
    let rows: Vec<Row> = ids
        .iter()
        .enumerate()
        .map(|(index, &id)| {
            let final_id = miner.resolve(id);
            Row {
                line: index + 1,
                cluster: final_id.to_string(),
                template: miner.template(final_id).unwrap_or_default(),
            }
        })
        .collect();
    let text = match args.output {
        PatternsOutput::Csv => to_csv(&rows)?,
        PatternsOutput::Json => serde_json::to_string_pretty(&rows)? + "\n",
    };
    write_stdout(text.as_bytes())
}

/// Splits the file into messages: LF line ends, a CR before them dropped, bytes that are not
/// UTF-8 replaced.
fn messages(data: &[u8]) -> Vec<Cow<'_, str>> {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    if data.is_empty() {
        return Vec::new();
    }
    data.split(|&byte| byte == b'\n')
        .map(|line| String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)))
        .collect()
}

fn to_csv(rows: &[Row]) -> anyhow::Result<String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer.write_record(["line", "cluster", "template"])?;
    for row in rows {
        writer.write_record([row.line.to_string().as_str(), &row.cluster, row.template])?;
    }
    writer.flush()?;
    String::from_utf8(writer.into_inner().context("finishing CSV")?).context("CSV is UTF-8")
}

fn bench(lines: &[Cow<'_, str>], repeat: usize) -> String {
    let mut best = f64::INFINITY;
    let mut templates = 0;
    for _ in 0..repeat.max(1) {
        let mut miner = TemplateMiner::new();
        let started = Instant::now();
        for line in lines {
            std::hint::black_box(miner.add(line));
        }
        best = best.min(started.elapsed().as_secs_f64());
        templates = miner.len();
    }
    let mut out = Vec::new();
    let _ = writeln!(out, "lines: {}", lines.len());
    let _ = writeln!(out, "templates: {templates}");
    let _ = writeln!(out, "seconds: {best:.4}");
    let _ = writeln!(out, "lines/s: {:.0}", lines.len() as f64 / best);
    String::from_utf8_lossy(&out).into_owned()
}
