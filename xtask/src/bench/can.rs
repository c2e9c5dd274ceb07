//! `<Can>` at scale: N `<Can perm>` and N `<Can not>` elements on one page follow one permission change, ours
//! (bench/can, our `<Can>` under the real capability store) against CASL's `<Can>` in a copy of the React peer
//! (bench/react-can). Both pages keep the same contract (`?n=N`, `.can-yes`/`.can-no`, `window.canBench.toggle()`;
//! see bench/can/src/main.rs), so one script ([`TOGGLE`]) times both: from the change until the DOM shows it, and
//! until after the next frame.
//!
//! Both pages come in two layouts, each a figure: the 2N `<Can>` side by side (the page as specified), and each in
//! an element of its own (`layout=rows`, as in a list whose rows each hold a guarded control). React places a new
//! node by searching the following siblings for one in the DOM, so side by side, with every other sibling empty,
//! each insertion searches up to N of them: the first layout costs CASL O(N²) that the second does not.
//!
//! CASL's page flips the permission in two ways, each a figure: `ability.update(rules)` (CASL's way to change an
//! ability in place; every `<Can>` hears it) and a new ability provided through the context (the peer app's way
//! when its token changes, App.jsx). Each page has its own browser session, loaded once per size, so that the
//! three alternate run by run; two flips per page warm up first (the JIT, the first re-render's allocations), and
//! each run flips the permission once, in alternating directions, the same for all. To measure the code before a
//! change, build its bench/can once and name the dist in `BENCH_CAN_DIST` ([`OURS_DIST_ENV`]).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{BenchContext, Figure};
use crate::process::{command, run_checked};
use crate::{tools, workspace};

/// Flips the permission and resolves to `[ms until the DOM shows it, ms until after the next frame]`. "Shows
/// it": every element of the kind now allowed is in the DOM and none of the other kind. The DOM is read after
/// each task (a `MessageChannel` message, which is not clamped like `setTimeout`); each app's own updates run in
/// tasks and microtasks in between. "After the next frame": a `requestAnimationFrame` callback, then one task
/// more, so that the frame's style, layout and paint are in.
const TOGGLE: &str = r#"return (async () => {
  const bench = window.canBench;
  const yes = document.getElementsByClassName('can-yes');
  const no = document.getElementsByClassName('can-no');
  const channel = new MessageChannel();
  const nextTask = () => new Promise((resolve) => { channel.port1.onmessage = () => resolve(); channel.port2.postMessage(0); });
  const start = performance.now();
  const granted = bench.toggle();
  const [shown, hidden] = granted ? [yes, no] : [no, yes];
  while (!(shown.length === bench.n && hidden.length === 0)) await nextTask();
  const dom = performance.now();
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  await nextTask();
  return [dom - start, performance.now() - start];
})();"#;

/// Whether the page has rendered its first state (the permission granted: N `.can-yes`).
const READY: &str = "return !!window.canBench && document.getElementsByClassName('can-yes').length === window.canBench.n \
                     && document.getElementsByClassName('can-no').length === 0;";

/// Names a built bench page (a trunk dist of bench/can) to measure as ours instead of building bench/can: the
/// code before a change, built once, measured beside CASL in the same way as the code after it.
const OURS_DIST_ENV: &str = "BENCH_CAN_DIST";

/// Flips before the timed runs, per page and size.
const WARM_UP: usize = 2;

/// How long a page of 2 × N elements may take to render the first time.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// How the 2N `<Can>` are laid out (the pages' `layout` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// All side by side, children of one element.
    SideBySide,
    /// Each in an element of its own.
    Rows,
}

impl Layout {
    fn query(self) -> &'static str {
        match self {
            Layout::SideBySide => "",
            Layout::Rows => "&layout=rows",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Layout::SideBySide => "side by side",
            Layout::Rows => "each in a row",
        }
    }
}

/// One app's page: its browser session, and the page's path before the query.
struct Page {
    browser: e2e::Browser,
    path: &'static str,
    /// Added to the query: how this page flips the permission.
    via: &'static str,
}

impl Page {
    async fn load(&self, n: usize, layout: Layout) -> Result<()> {
        self.browser.goto(&format!("{}?n={n}{}{}", self.path, layout.query(), self.via)).await?;
        self.browser
            .wait_until(&format!("{n} + {n} <Can> elements"), READY_TIMEOUT, async || {
                Ok(self.browser.execute(READY, vec![]).await?.as_bool().unwrap_or(false).then_some(()))
            })
            .await
    }

    /// One flip: `(ms until the DOM shows it, ms until after the next frame)`.
    async fn toggle(&self) -> Result<(f64, f64)> {
        let answer = self.browser.execute(TOGGLE, vec![]).await?;
        match (answer[0].as_f64(), answer[1].as_f64()) {
            (Some(dom), Some(frame)) => Ok((dom, frame)),
            _ => bail!("the toggle script answered {answer}"),
        }
    }
}

/// Builds both pages, then for each layout and each of `sizes` times `runs` flips of each, alternating ours and
/// CASL's two ways; three figures each (DOM updated and after the next frame against `ability.update`, DOM updated
/// against a new ability in the context), medians.
pub(crate) fn measure(ctx: &BenchContext, sizes: &[usize], runs: usize) -> Result<Vec<Figure>> {
    let ours_dist = match std::env::var_os(OURS_DIST_ENV) {
        Some(dist) => {
            println!("bench: <Can>: measuring the page built in {} ({OURS_DIST_ENV})", dist.to_string_lossy());
            PathBuf::from(dist)
        }
        None => build_ours(&ctx.dir)?,
    };
    let peer_dist = build_peer(&ctx.dir)?;
    let ours_site = ctx.serve(&ours_dist)?;
    let peer_site = ctx.serve(&peer_dist)?;
    let pages = [
        Page { browser: ctx.browser(&ours_site.origin)?, path: "/index.html", via: "" },
        Page { browser: ctx.browser(&peer_site.origin)?, path: "/can-bench.html", via: "" },
        Page { browser: ctx.browser(&peer_site.origin)?, path: "/can-bench.html", via: "&via=context" },
    ];
    let cases =
        [Layout::SideBySide, Layout::Rows].into_iter().flat_map(|layout| sizes.iter().map(move |&n| (layout, n)));
    let figures = ctx.block_on(async {
        let mut figures = Vec::new();
        for (layout, n) in cases {
            for page in &pages {
                page.load(n, layout).await?;
            }
            for _ in 0..WARM_UP {
                for page in &pages {
                    page.toggle().await?;
                }
            }
            let mut timed: [Vec<(f64, f64)>; 3] = Default::default();
            for _ in 0..runs {
                for (page, runs) in pages.iter().zip(&mut timed) {
                    runs.push(page.toggle().await?);
                }
            }
            let [ours, update, context] = timed.map(|runs| {
                let (dom, frame): (Vec<f64>, Vec<f64>) = runs.into_iter().unzip();
                (median(dom), median(frame))
            });
            let label = format!(
                "`<Can>`: {n} `<Can perm>` + {n} `<Can not>`, {}, follow one permission change",
                layout.describe()
            );
            let figure = |what: &str, ours: f64, peer: f64| Figure {
                name: format!("{label} ({what}), median of {runs}"),
                unit: "ms",
                ours,
                peer,
            };
            println!(
                "bench: <Can> {n} + {n} {}: DOM updated in {:.1} ms, CASL {:.1} ms (ability.update) and {:.1} ms \
                 (context)",
                layout.describe(),
                ours.0,
                update.0,
                context.0
            );
            figures.push(figure("DOM updated; CASL: ability.update", ours.0, update.0));
            figures.push(figure("after the next frame; CASL: ability.update", ours.1, update.1));
            figures.push(figure("DOM updated; CASL: a new ability in the context", ours.0, context.0));
        }
        anyhow::Ok(figures)
    })?;
    ctx.block_on(async {
        for page in pages {
            page.browser.close().await?;
        }
        anyhow::Ok(())
    })?;
    Ok(figures)
}

/// The median (the mean of the middle two for an even count); NaN for none.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => values[len / 2],
        len => (values[len / 2 - 1] + values[len / 2]) / 2.0,
    }
}

/// Builds bench/can with trunk (release, the SPA's profile) into `dir/can`.
fn build_ours(dir: &Path) -> Result<PathBuf> {
    let dist = dir.join("can");
    let mut trunk = tools::trunk();
    trunk.current_dir(workspace::root().join("bench/can")).arg("build").arg("--release").arg("--dist").arg(&dist);
    run_checked(&mut trunk).context("building the <Can> bench page (bench/can)")?;
    Ok(dist)
}

/// Builds bench/react-can (its exact dependencies from package-lock.json, installed the first time) into
/// `dir/react-can`.
fn build_peer(dir: &Path) -> Result<PathBuf> {
    let project = workspace::root().join("bench/react-can");
    if !project.join("node_modules").is_dir() {
        run_checked(command("npm").current_dir(&project).args(["ci", "--no-audit", "--no-fund"]))
            .context("installing the CASL bench's dependencies (bench/react-can)")?;
    }
    let dist = dir.join("react-can");
    let mut vite = command("npx");
    vite.current_dir(&project).args(["vite", "build", "--outDir"]).arg(&dist).arg("--emptyOutDir");
    run_checked(&mut vite).context("building the CASL bench page (bench/react-can)")?;
    Ok(dist)
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
