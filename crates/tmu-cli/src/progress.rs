//! Turns run events into progress bars (a terminal) or plain log lines (anything else).

use std::collections::HashMap;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tmu_host::Event;
use tmu_plugin::LogLevel;

/// How events are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Nothing (errors and the summary are printed elsewhere).
    Quiet,
    /// One line per event on stderr; progress at most every few seconds per stage.
    Plain,
    /// A progress bar per running stage, log lines above the bars.
    Bars,
}

/// How often plain mode prints a running stage's progress.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Renders events until the channel closes.
pub fn spawn(events: Receiver<Event>, mode: Mode) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut view = View::new(mode);
        for event in events {
            view.show(event);
        }
        if let Some(bar) = view.points.take() {
            bar.finish_and_clear();
        }
        view.multi.clear().ok();
    })
}

struct View {
    mode: Mode,
    multi: MultiProgress,
    bars: HashMap<String, ProgressBar>,
    last_progress: HashMap<String, Instant>,
    /// A sweep's bar of points (bars mode), and the last counts shown (plain mode).
    points: Option<ProgressBar>,
    last_points: (usize, usize),
}

/// `3/9 points done (1 failed), about 4 min 05 s left`.
pub fn points_line(p: &tmu_host::PointsProgress) -> String {
    let failed = if p.failed > 0 { format!(" ({} failed)", p.failed) } else { String::new() };
    let left = match p.eta_s {
        Some(s) if p.done + p.failed < p.total => format!(", about {} left", crate::summary::seconds(s)),
        _ => String::new(),
    };
    format!("{}/{} points done{failed}{left}", p.done, p.total)
}

fn bar_style(total: u64) -> ProgressStyle {
    let template = if total > 0 {
        "{spinner:.green} {prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} {msg} ({elapsed})"
    } else {
        "{spinner:.green} {prefix:.bold} {msg} ({elapsed})"
    };
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ")
}

impl View {
    fn new(mode: Mode) -> View {
        let target = if mode == Mode::Bars { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        View {
            mode,
            multi: MultiProgress::with_draw_target(target),
            bars: HashMap::new(),
            last_progress: HashMap::new(),
            points: None,
            last_points: (0, 0),
        }
    }

    fn show_points(&mut self, p: tmu_host::PointsProgress) {
        match self.mode {
            Mode::Bars => {
                let bar = self.points.get_or_insert_with(|| {
                    let bar = self.multi.insert(0, ProgressBar::new(p.total as u64));
                    let style = ProgressStyle::with_template("{prefix:.bold} [{bar:30.green/blue}] {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> ");
                    bar.set_style(style);
                    bar.set_prefix("sweep");
                    bar
                });
                bar.set_position((p.done + p.failed) as u64);
                bar.set_message(points_line(&p));
            }
            Mode::Plain => {
                if (p.done, p.failed) != self.last_points {
                    self.last_points = (p.done, p.failed);
                    eprintln!("[sweep] {}", points_line(&p));
                }
            }
            Mode::Quiet => {}
        }
    }

    fn line(&self, text: String) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Plain => eprintln!("{text}"),
            Mode::Bars => {
                self.multi.println(text).ok();
            }
        }
    }

    /// A line that is shown even with `--quiet` (what the user must know about their results).
    fn warn(&self, text: String) {
        match self.mode {
            Mode::Quiet | Mode::Plain => eprintln!("{text}"),
            Mode::Bars => {
                self.multi.println(text).ok();
            }
        }
    }

    fn end_bar(&mut self, stage: &str) {
        if let Some(bar) = self.bars.remove(stage) {
            bar.finish_and_clear();
        }
    }

    fn show(&mut self, event: Event) {
        match event {
            Event::Cached { stage, kind } => self.line(format!("[{stage}] cached ({kind})")),
            Event::Started { stage, kind, plugin, device } => {
                self.line(format!("[{stage}] started: {kind} from plugin {plugin} on {device}"));
                if self.mode == Mode::Bars {
                    let bar = self.multi.add(ProgressBar::new(0));
                    bar.set_style(bar_style(0));
                    bar.set_prefix(stage.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    self.bars.insert(stage, bar);
                }
            }
            Event::Waiting { stage, holder } => {
                let who = holder.map(|h| format!(" ({h})")).unwrap_or_default();
                self.line(format!("[{stage}] waiting: another tmu process{who} is running this same stage"))
            }
            Event::Corrupt { stage, message } => self.warn(format!(
                "[{stage}] warning: its cached result is corrupt and was dropped; the stage runs again: {message}"
            )),
            Event::Progress { stage, done, total, message } => match self.mode {
                Mode::Bars => {
                    if let Some(bar) = self.bars.get(&stage) {
                        if total > 0 && bar.length() != Some(total) {
                            bar.set_style(bar_style(total));
                            bar.set_length(total);
                        }
                        bar.set_position(done);
                        bar.set_message(message);
                    }
                }
                Mode::Plain => {
                    let now = Instant::now();
                    let due = self.last_progress.get(&stage).is_none_or(|t| now - *t >= PLAIN_PROGRESS_EVERY);
                    if due {
                        self.last_progress.insert(stage.clone(), now);
                        let of = if total > 0 { format!("/{total}") } else { String::new() };
                        eprintln!("[{stage}] {done}{of} {message}");
                    }
                }
                Mode::Quiet => {}
            },
            Event::Log { stage, level, message } => {
                let tag = match level {
                    LogLevel::Error => "error: ",
                    LogLevel::Warn => "warning: ",
                    LogLevel::Info => "",
                    LogLevel::Debug => return,
                };
                for line in message.lines() {
                    self.line(format!("[{stage}] {tag}{line}"));
                }
            }
            Event::Finished { stage, wall_s, .. } => {
                self.end_bar(&stage);
                self.last_progress.remove(&stage);
                self.line(format!("[{stage}] finished in {}", crate::summary::seconds(wall_s)));
            }
            Event::Failed { stage, message, cancelled } => {
                self.end_bar(&stage);
                let what = if cancelled { "cancelled" } else { "failed" };
                self.line(format!("[{stage}] {what}: {message}"));
            }
            Event::Skipped { stage, reason } => self.line(format!("[{stage}] skipped: {reason}")),
            Event::Points(p) => self.show_points(p),
        }
    }
}
