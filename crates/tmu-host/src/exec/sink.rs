//! Where a running stage's progress and log lines go: the event channel and the stage's log file.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::Instant;

use tmu_plugin::{HostSink, LogLevel};

use super::types::Event;

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Error => "ERROR",
        LogLevel::Warn => "WARN",
        LogLevel::Info => "INFO",
        LogLevel::Debug => "DEBUG",
    }
}

/// The host side of one running stage.
pub struct StageSink<'a> {
    pub stage: String,
    pub log: Mutex<File>,
    pub events: &'a Sender<Event>,
    pub cancel: &'a AtomicBool,
    /// The stage's `timeout` as a point in time: past it, the stage is asked to stop.
    pub deadline: Option<Instant>,
}

impl StageSink<'_> {
    /// Appends a line to the stage's log file (`<time> <LEVEL> <message>`).
    pub fn write_log(&self, level: LogLevel, message: &str) {
        if let Ok(mut f) = self.log.lock() {
            let now = crate::time::rfc3339(crate::time::now_us());
            for line in message.lines() {
                let _ = writeln!(f, "{now} {:<5} {line}", level_name(level));
            }
        }
    }

    pub fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Flushes the log file to disk.
    pub fn sync(&self) {
        if let Ok(f) = self.log.lock() {
            let _ = f.sync_all();
        }
    }
}

impl HostSink for StageSink<'_> {
    fn progress(&self, done: u64, total: u64, message: &str) {
        let _ = self.events.send(Event::Progress { stage: self.stage.clone(), done, total, message: message.into() });
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.write_log(level, message);
        let _ = self.events.send(Event::Log { stage: self.stage.clone(), level, message: message.into() });
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst) || self.past_deadline()
    }
}
