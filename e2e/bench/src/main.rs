//! `berth-bench`: Berth against the CNCF distribution registry on one machine, in one run.
//!
//! Run through `e2e/bench/run.sh`, which installs distribution, wrk and zb and builds Berth in
//! release mode. Each scenario does the same work on both registries, alternating between
//! them; the machine's limits are measured first so every throughput is also a fraction of the
//! ceiling that bounds it. The table is printed and written to `docs/benchmarks.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

mod http;
mod limits;
mod oci;
mod report;
mod scenarios;
mod servers;

use report::{Row, Unit};
use scenarios::{Plan, Tokens};
use servers::{Kind, Server, Setup};

struct Args {
    quick: bool,
    smoke: bool,
    berth: PathBuf,
    registry: PathBuf,
    zb: Option<PathBuf>,
    work: PathBuf,
    out: PathBuf,
    notes: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        quick: false,
        smoke: false,
        berth: PathBuf::new(),
        registry: PathBuf::new(),
        zb: None,
        work: std::env::temp_dir().join("berth-bench"),
        out: PathBuf::from("docs/benchmarks.md"),
        notes: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--smoke" => args.smoke = true,
            "--berth" => args.berth = value()?.into(),
            "--registry" => args.registry = value()?.into(),
            "--zb" => args.zb = Some(value()?.into()),
            "--work" => args.work = value()?.into(),
            "--out" => args.out = value()?.into(),
            "--notes" => args.notes = Some(value()?.into()),
            other => bail!(
                "unknown argument {other}; usage: berth-bench --berth BIN --registry BIN \
                 [--zb BIN] [--quick|--smoke] [--work DIR] [--out FILE] [--notes FILE]"
            ),
        }
    }
    if args.berth.as_os_str().is_empty() || args.registry.as_os_str().is_empty() {
        bail!("--berth and --registry are required");
    }
    Ok(args)
}

/// Fills `buf` with xorshift output: incompressible and fast to make.
pub fn fill_random(buf: &mut [u8], state: &mut u64) {
    for chunk in buf.chunks_mut(8) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let bytes = state.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

fn log(message: &str) {
    eprintln!("[bench] {message}");
}

fn shell(script: &str) -> String {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
    let flags = shell("grep -m1 -o -w sha_ni /proc/cpuinfo");
    format!(
        "- CPU: {} x {} ({})\n- memory: {}\n- kernel: {}; OS: {}\n- disk: {}\n- load average at start: {}\n",
        shell("nproc"),
        cpu.trim(),
        if flags.is_empty() {
            "no SHA-NI"
        } else {
            "SHA-NI"
        },
        shell("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo"),
        shell("uname -r"),
        shell(". /etc/os-release && echo \"$PRETTY_NAME\""),
        shell("df -h --output=source,fstype,size / | tail -1"),
        shell("cut -d' ' -f1-3 /proc/loadavg"),
    )
}

fn start_both(setup: &Setup, dir: &str) -> Result<([Server; 2], [Duration; 2])> {
    let (berth, berth_ready) =
        setup.start(Kind::Berth, &setup.work.join(format!("{dir}-berth")))?;
    let (dist, dist_ready) = setup.start(
        Kind::Distribution,
        &setup.work.join(format!("{dir}-distribution")),
    )?;
    berth.prepare()?;
    Ok(([berth, dist], [berth_ready, dist_ready]))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Cold starts on empty data directories, alternating, and restarts on the populated ones.
fn starts(setup: &Setup, plan: &Plan, populated: [Server; 2]) -> Result<Vec<Row>> {
    let mut cold = [Vec::new(), Vec::new()];
    let mut idle = [0u64; 2];
    for round in 0..plan.cold_starts {
        for (i, kind) in [Kind::Berth, Kind::Distribution].into_iter().enumerate() {
            let dir = setup.work.join(format!("cold-{round}-{kind:?}"));
            let (server, ready) = setup.start(kind, &dir)?;
            cold[i].push(ready.as_secs_f64());
            if round == 0 {
                std::thread::sleep(Duration::from_secs(1));
                idle[i] = server.rss();
            }
            server.stop();
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    // Restart on the data of the whole run; the probe is an authenticated GET /v2/.
    let mut restart = [0f64; 2];
    for (i, server) in populated.into_iter().enumerate() {
        let kind = server.kind;
        let token = server.bearer(&[])?;
        server.stop();
        let suffix = if kind == Kind::Berth {
            "berth"
        } else {
            "distribution"
        };
        let data = setup.work.join(format!("run-{suffix}"));
        let (mut again, started) = setup.spawn(kind, &data, true)?;
        restart[i] = again.wait_for_200("/v2/", &token, started)?.as_secs_f64();
        again.stop();
    }
    Ok(vec![
        Row::new(
            "Process",
            "cold start to first 200 (empty data dir, median)".into(),
            Unit::Seconds,
            [median(cold[0].clone()), median(cold[1].clone())],
            None,
        ),
        Row::new(
            "Process",
            "restart to first authenticated 200 on /v2/ (data of this run)".into(),
            Unit::Seconds,
            restart,
            None,
        ),
        Row::new(
            "Process",
            "RSS idle after start".into(),
            Unit::Bytes,
            [idle[0] as f64, idle[1] as f64],
            None,
        ),
    ])
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let plan = if args.smoke {
        Plan::smoke()
    } else if args.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    let _ = std::fs::remove_dir_all(&args.work);
    let setup = Setup::new(args.berth.clone(), args.registry.clone(), args.work.clone())?;
    let description = machine();

    log("generating 1 GiB of random content");
    let mut data = vec![0u8; 1 << 30];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    fill_random(&mut data, &mut seed);

    log("measuring the machine's limits");
    let limits = limits::measure(&data, 1 << 30, &args.work)?;
    log(&format!("{limits:?}"));

    let (servers, _) = start_both(&setup, "run")?;
    let mut tokens = Tokens::default();
    let mut rows = Vec::new();
    let mut peak = [0u64; 2];

    log("blobs: push and pull");
    let blob_rows = scenarios::blobs(&servers, &mut tokens, &mut data, &plan, &limits, &mut peak)?;
    log("measuring the machine's limits again");
    let again = limits::measure(&data, 1 << 30, &args.work)?;
    log(&format!("{again:?}"));
    let limits = limits.best_of(again);
    rows.extend(scenarios::with_limits(blob_rows, &limits));
    log("manifests: GET and HEAD with wrk");
    rows.extend(scenarios::manifests(&servers, &mut tokens, &data, &plan)?);
    log(&format!("tags: {} tags", plan.tags));
    rows.extend(scenarios::tags(&servers, &mut tokens, &data, &plan)?);
    log(&format!("catalog: {} repositories", plan.repositories));
    rows.extend(scenarios::catalog(&servers, &mut tokens, &plan)?);
    let after = [servers[0].rss() as f64, servers[1].rss() as f64];

    log("cold starts and restarts");
    let mut process = starts(&setup, &plan, servers)?;
    process.push(Row::new(
        "Process",
        "RSS peak during the first 1 GiB monolithic push".into(),
        Unit::Bytes,
        [peak[0] as f64, peak[1] as f64],
        None,
    ));
    process.push(Row::new(
        "Process",
        "RSS after the whole workload".into(),
        Unit::Bytes,
        after,
        None,
    ));
    rows.extend(process);

    let table = report::table(&rows);
    println!("{table}");
    let zb = match &args.zb {
        Some(zb) => {
            log("zb against both");
            zb_runs(&setup, zb, zb_filter(&args))
                .unwrap_or_else(|e| format!("zb failed in this run: {e:#}\n"))
        }
        None => "zb was not given (`--zb`); see the notes below.\n".into(),
    };
    println!("{zb}");
    let mut doc = String::new();
    let mode = if args.smoke {
        "smoke"
    } else if args.quick {
        "quick"
    } else {
        "full"
    };
    let _ = write!(
        doc,
        "# Benchmarks: Berth and the CNCF distribution registry\n\n\
         Generated by `e2e/bench/run.sh{}` on {} ({mode} mode). Both registries ran on 127.0.0.1 \
         with filesystem storage and bearer-token auth, alternating test by test, with the \
         load generator on the same machine.\n\n## Machine\n\n{description}\n\
         ## Limits measured in the same run\n\n\
         Measured before and after the blob scenarios; each is the higher of the two.\n\n\
         | limit | value |\n|---|---:|\n\
         | SHA-256, one core (`sha2`, best of three passes over 256 MiB) | {:.0} MB/s |\n\
         | loopback TCP, one stream, 1 MiB writes from one buffer | {:.0} MB/s |\n\
         | disk sequential write, 1 GiB, `dd conv=fdatasync` (through the page cache) | {:.0} MB/s |\n\
         | disk sequential write, 1 GiB, `dd oflag=direct conv=fdatasync` | {:.0} MB/s |\n\
         | disk sequential read, 1 GiB, `dd iflag=direct` | {:.0} MB/s |\n\n\
         ## Results\n\n{table}\n## zb (zot's benchmark tool), `-c 10 -n 100`\n\n{zb}\n",
        if mode == "full" {
            String::new()
        } else {
            format!(" --{mode}")
        },
        shell("date -u '+%Y-%m-%d %H:%M UTC'"),
        limits.sha256 / 1e6,
        limits.loopback / 1e6,
        limits.disk_write_cached / 1e6,
        limits.disk_write_direct / 1e6,
        limits.disk_read / 1e6,
    );
    if let Some(notes) = &args.notes {
        doc.push_str(
            &std::fs::read_to_string(notes).with_context(|| format!("{}", notes.display()))?,
        );
    }
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, doc)?;
    log(&format!(
        "wrote {}; removing {}",
        args.out.display(),
        args.work.display()
    ));
    let _ = std::fs::remove_dir_all(&args.work);
    Ok(())
}

/// Which zb tests run: the catalog and the 1 MB and 10 MB ones. The 100 MB ones push 10 GB
/// per test and registry, minutes each on this disk, and the on-demand sync ones need an
/// upstream registry.
fn zb_filter(args: &Args) -> &'static str {
    if args.smoke {
        "Catalog|Push Monolith 1MB$"
    } else {
        "Catalog|1MB$|10MB$"
    }
}

/// zb against fresh instances: Berth with Basic credentials (zb speaks no token flow), and
/// distribution without auth (its token mode accepts no Basic credentials).
fn zb_runs(setup: &Setup, zb: &Path, filter: &str) -> Result<String> {
    let mut results: Vec<Vec<(String, f64)>> = Vec::new();
    let mut failures = Vec::new();
    for kind in [Kind::Berth, Kind::Distribution] {
        let dir = setup.work.join(format!("zb-{kind:?}"));
        let (server, _) = setup.start_for_zb(kind, &dir)?;
        server.prepare()?;
        // zb removes its working directory at the end, so its results go elsewhere.
        let workdir = dir.with_extension("zbwork");
        let results_dir = dir.with_extension("zbresults");
        std::fs::create_dir_all(&workdir)?;
        std::fs::create_dir_all(&results_dir)?;
        let mut command = Command::new(zb);
        command
            .current_dir(&results_dir)
            .args([
                "-c",
                "10",
                "-n",
                "100",
                "-o",
                "ci-cd",
                "-r",
                servers::PROJECT,
                "-t",
                filter,
            ])
            .arg("-d")
            .arg(&workdir);
        if kind == Kind::Berth {
            command.args(["-A", &format!("admin:{}", servers::BERTH_PASSWORD)]);
        }
        let output = command.arg(format!("http://{}", server.addr)).output()?;
        std::fs::write(dir.with_extension("zb.log"), &output.stdout)?;
        server.stop();
        // zb stops at its first failed test without writing results; keep its last words.
        let Ok(json) = std::fs::read(results_dir.join("ci-cd.json")) else {
            // Its error goes to stderr; stdout ends with a progress line.
            let said = format!(
                "{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let last = said
                .lines()
                .rev()
                .map(|l| l.trim().trim_matches('`'))
                .find(|l| l.len() > 1)
                .unwrap_or("");
            failures.push(format!("{} (zb stopped: `{}`)", kind.label(), last.trim()));
            results.push(Vec::new());
            continue;
        };
        let parsed: serde_json::Value = serde_json::from_slice(&json)?;
        let tests: Vec<(String, f64)> = parsed
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| {
                        (
                            t["name"].as_str().unwrap_or("").to_owned(),
                            t["value"].as_f64().unwrap_or(0.0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        results.push(tests);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&workdir);
        let _ = std::fs::remove_dir_all(&results_dir);
    }
    let mut out = format!(
        "Tests matching `{filter}`; requests per second as zb reports them (`-o ci-cd`). Berth \
         used Basic credentials, distribution ran without auth (zb has no token flow).\n\n\
         | zb test | Berth req/s | distribution req/s | Berth/distribution |\n|---|---:|---:|---:|\n"
    );
    let names: Vec<String> =
        results
            .iter()
            .flatten()
            .map(|(n, _)| n.clone())
            .fold(Vec::new(), |mut names, n| {
                if !names.contains(&n) {
                    names.push(n);
                }
                names
            });
    for name in &names {
        let value = |i: usize| {
            results[i]
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0.0, |(_, v)| *v)
        };
        let (berth, dist) = (value(0), value(1));
        let ratio = if dist > 0.0 {
            format!("{:.2}", berth / dist)
        } else {
            "n/a".into()
        };
        let show = |v: f64| {
            if v > 0.0 {
                format!("{v:.1}")
            } else {
                "n/a".into()
            }
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {ratio} |",
            show(berth),
            show(dist)
        );
    }
    if !failures.is_empty() {
        let _ = writeln!(out, "\nNo results from: {}.", failures.join("; "));
    }
    Ok(out)
}
