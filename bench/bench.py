#!/usr/bin/env python3
"""Runs forkv and redis-server side by side with the same settings on
loopback ports, drives both with redis-benchmark (alternating, several
rounds) and measures dataset figures; reports medians and forkv/redis
ratios as a Markdown table in bench/results/<date>.md."""

import argparse
import datetime
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORKV = os.path.join(ROOT, "target", "release", "forkv")
SLOW_FSYNC = os.path.join(ROOT, "target", "slow_fsync.so")
# Extra fdatasync latency (µs) for the slowed-disk section.
SLOW_FSYNC_US = [300, 1000]
SAVES = 7
# Fork time: loads of both servers side by side, and BGSAVEs per load.
PLACEMENTS = 4
FORKS = 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process (forkv or redis-server) in its own directory."""

    def __init__(self, kind, extra, env=None):
        self.kind = kind
        self.env = env
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        self.extra = extra
        self.proc = None

    def start(self):
        # DEBUG POPULATE loads the datasets; both servers refuse DEBUG by default.
        common = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--enable-debug-command", "yes"]
        common += self.extra
        if self.kind == "forkv":
            cmd = [FORKV] + common
        else:
            cmd = ["redis-server"] + common + ["--daemonize", "no"]
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, cwd=self.dir, env=env)
        deadline = time.time() + 600
        while time.time() < deadline:
            if self.ping() == b"+PONG\r\n":
                return time.time()
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited during startup, see {self.dir}/server.log")
            time.sleep(0.002)
        raise RuntimeError(f"{self.kind} did not start")

    def ping(self):
        """One PING on a fresh socket: the reply, or b'' while the port is
        closed. Cheap enough to poll every few ms, so load times are exact
        to a few ms (a redis-cli process per poll costs more than that)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64)
        except OSError:
            return b""

    def cli(self, *args, timeout=600):
        try:
            out = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                                 capture_output=True, text=True, timeout=timeout)
            return out.stdout.strip()
        except subprocess.TimeoutExpired:
            return ""

    def info(self, section="all"):
        fields = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                fields[k] = v.strip()
        return fields

    def wait_no_child(self, limit=600):
        deadline = time.time() + limit
        while time.time() < deadline:
            i = self.info("persistence")
            if i.get("rdb_bgsave_in_progress") == "0" and i.get("aof_rewrite_in_progress") == "0":
                return
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# Tests redis-benchmark has no name for, run as custom commands. APPEND
# grows one string by every request: its cost per request must not grow
# with the string (in place, with spare room, as Redis's sds).
CUSTOM = {"append": ["APPEND", "bench:append", "0123456789"]}


def redis_benchmark(port, test, clients, pipeline, requests):
    """One redis-benchmark run: (rps, p50 ms, p99 ms)."""
    cmd = ["redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(requests),
           "-P", str(pipeline), "-r", "100000", "--csv"]
    cmd += CUSTOM.get(test) or ["-t", test]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    rows = [l.split('","') for l in out.splitlines()[1:] if l.startswith('"')]
    # lrange_100 also prints LPUSH (its setup): take the row that matches.
    want = {"lrange_100": "LRANGE_100", "mset": "MSET"}.get(test, test.upper())
    for r in rows:
        name = r[0].strip('"')
        if name.upper().startswith(want):
            vals = [float(x.strip('"')) for x in r[1:]]
            return vals[0], vals[3], vals[5]
    raise RuntimeError(f"no {want} row in: {out}")


def throughput_section(rounds, requests, persistence, tests, pipelines, report, env=None):
    f = Server("forkv", persistence, env)
    r = Server("redis", persistence, env)
    f.start()
    r.start()
    try:
        report.append("| test | -P | forkv rps | redis rps | ratio | forkv p50/p99 ms | redis p50/p99 ms |")
        report.append("|---|---|---|---|---|---|---|")
        for test in tests:
            for p in pipelines:
                fr, rr = [], []
                for _ in range(rounds):
                    # Alternate so drift on the machine hits both alike.
                    # Pipelined runs send more requests to last about as long;
                    # LRANGE_100 replies are 100 times larger, so it keeps the count.
                    n = requests if test == "lrange_100" else requests * p
                    fr.append(redis_benchmark(f.port, test, 50, p, n))
                    rr.append(redis_benchmark(r.port, test, 50, p, n))
                med = lambda xs, i: statistics.median(x[i] for x in xs)
                frps, rrps = med(fr, 0), med(rr, 0)
                # Each round's two runs are neighbours in time, so their ratio
                # is free of the drift between rounds (the disk's fsync
                # latency moves by tens of percent within minutes).
                ratio = statistics.median(f[0] / r[0] for f, r in zip(fr, rr))
                report.append(
                    f"| {test.upper()} | {p} | {frps:,.0f} | {rrps:,.0f} | **{ratio:.2f}** | "
                    f"{med(fr, 1):.3f} / {med(fr, 2):.3f} | {med(rr, 1):.3f} / {med(rr, 2):.3f} |")
                print(report[-1], flush=True)
    finally:
        f.cleanup()
        r.cleanup()


def populate(server, keys):
    server.cli("DEBUG", "POPULATE", str(keys), "key", "16", timeout=3600)


def fork_over_placements(keys):
    """Fork time with both servers loaded at once, over PLACEMENTS fresh
    loads that alternate which server populates first. On this VM the
    physical memory a process happens to get changes its fork cost per page
    by up to 2x from one load to the next (two plain processes touching
    400 MB each: 8.2 vs 4.6 ms in one run, 5.2 vs 6.1 in the next), so one
    load decides nothing. Per load and server: the median of FORKS
    alternating BGSAVEs. Returns each server's geometric mean over the loads
    (their ratio is the geometric mean of the loads' ratios) and the loads'
    per-GB ratios."""
    per_load = []
    for load in range(PLACEMENTS):
        kinds = ("forkv", "redis") if load % 2 == 0 else ("redis", "forkv")
        pair = [Server(kind, ["--save", "", "--appendonly", "no"]) for kind in kinds]
        try:
            for s in pair:
                s.start()
            for s in pair:
                populate(s, keys)
            forks = {s.kind: [] for s in pair}
            for _ in range(FORKS):
                for s in pair:
                    s.cli("BGSAVE")
                    time.sleep(0.05)
                    s.wait_no_child()
                    forks[s.kind].append(int(s.info("stats")["latest_fork_usec"]))
            result = {}
            for s in pair:
                rss = int(s.info("memory")["used_memory_rss"])
                usec = statistics.median(forks[s.kind])
                result[s.kind] = {"fork_usec": usec, "fork_ms_per_gb": usec / 1000 / (rss / 2**30)}
            per_load.append(result)
        finally:
            for s in pair:
                s.cleanup()
    means = {kind: {key: statistics.geometric_mean(r[kind][key] for r in per_load)
                    for key in ("fork_usec", "fork_ms_per_gb")} for kind in ("forkv", "redis")}
    ratios = [r["forkv"]["fork_ms_per_gb"] / r["redis"]["fork_ms_per_gb"] for r in per_load]
    return means, ratios


def dataset_section(keys, report):
    """Memory per key, fork, BGSAVE, load, AOF rewrite and COW figures."""
    rows = {}
    for kind in ("forkv", "redis"):
        s = Server(kind, ["--save", "", "--appendonly", "no"])
        s.start()
        try:
            base_rss = int(s.info("memory")["used_memory_rss"])
            populate(s, keys)
            m = s.info("memory")
            rss = int(m["used_memory_rss"])
            res = {"rss_per_key": (rss - base_rss) / keys, "used_per_key": int(m["used_memory"]) / keys}
            # One save is at the mercy of the VM's scheduler: take the median.
            saves = []
            for _ in range(SAVES):
                t0 = time.time()
                s.cli("BGSAVE")
                time.sleep(0.05)
                s.wait_no_child()
                saves.append(time.time() - t0)
            res["bgsave_s"] = statistics.median(saves)
            res["rdb_bytes"] = os.path.getsize(os.path.join(s.dir, "dump.rdb"))
            # COW while a write load runs.
            load = subprocess.Popen(["redis-benchmark", "-p", str(s.port), "-c", "20", "-n", "2000000", "-t", "set",
                                     "-r", str(keys), "-P", "16", "-q"], stdout=subprocess.DEVNULL)
            time.sleep(0.5)
            s.cli("BGSAVE")
            time.sleep(0.05)
            s.wait_no_child()
            load.terminate()
            load.wait()
            res["cow_bytes"] = int(s.info("persistence")["rdb_last_cow_size"])
            # AOF rewrite from the dataset.
            t0 = time.time()
            s.cli("CONFIG", "SET", "appendonly", "yes")
            time.sleep(0.05)
            s.wait_no_child()
            res["aof_rewrite_s"] = time.time() - t0
            s.stop()
            # Restart from the snapshot, then from the AOF.
            for label, extra in (("load_rdb_s", ["--appendonly", "no"]), ("load_aof_s", ["--appendonly", "yes"])):
                s.extra = ["--save", ""] + extra
                if kind == "redis" and label == "load_aof_s":
                    s.extra += ["--aof-use-rdb-preamble", "no"]
                t0 = time.time()
                s.start()
                res[label] = time.time() - t0
                s.stop()
        finally:
            s.cleanup()
        rows[kind] = res
    means, ratios = fork_over_placements(keys)
    for kind in rows:
        rows[kind].update(means[kind])
    labels = [("rss_per_key", "used_memory_rss per key (B)", "{:.1f}"),
              ("used_per_key", "used_memory per key (B)", "{:.1f}"),
              ("fork_usec", f"latest_fork_usec ({PLACEMENTS} loads × {FORKS} BGSAVEs)", "{:.0f}"),
              ("fork_ms_per_gb", "fork time per GB of used_memory_rss (ms)", "{:.2f}"),
              ("bgsave_s", f"BGSAVE duration (s, median of {SAVES})", "{:.2f}"),
              ("rdb_bytes", "snapshot size (B)", "{:,.0f}"),
              ("load_rdb_s", "restart load from snapshot (s)", "{:.2f}"),
              ("aof_rewrite_s", "AOF rewrite (CONFIG SET appendonly yes) (s)", "{:.2f}"),
              ("load_aof_s", "restart load from AOF (s)", "{:.2f}"),
              ("cow_bytes", "COW bytes of a BGSAVE under write load", "{:,.0f}")]
    report.append(f"| {keys:,} keys | forkv | redis | ratio |")
    report.append("|---|---|---|---|")
    for key, label, fmt in labels:
        fv, rv = rows["forkv"][key], rows["redis"][key]
        ratio = f"{fv / rv:.2f}" if rv else "-"
        report.append(f"| {label} | {fmt.format(fv)} | {fmt.format(rv)} | **{ratio}** |")
        print(report[-1], flush=True)
    report += ["", f"Fork time per GB, forkv/redis per load of both servers (populated first: forkv, "
               f"redis, …): {', '.join(f'{r:.2f}' for r in ratios)}; the table shows their geometric mean."]


def cpu_times():
    """The machine's CPU time so far, in ticks: (total, stolen by the hypervisor)."""
    with open("/proc/stat") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:9]]
    return sum(ticks), ticks[7]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--skip-datasets", action="store_true")
    ap.add_argument("--tests", default="set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset,append")
    ap.add_argument("--no-aof", action="store_true", help="skip the appendonly sections")
    args = ap.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    requests = 50_000 if args.quick else 200_000
    tests = args.tests.split(",")
    cpu_at_start = cpu_times()
    # The day the run started names it, even when it ends after midnight.
    today = datetime.date.today()
    report = [f"# forkv vs redis-server — {today}", "",
              f"Machine: {os.cpu_count()} cores; redis-benchmark -c 50, medians of {rounds} alternating rounds; "
              f"ratio = forkv / redis (throughput: the median of the rounds' ratios, higher is better; "
              f"sizes and times: lower is better).", "",
              "## Throughput, persistence off", ""]
    off = ["--save", "", "--appendonly", "no"]
    throughput_section(rounds, requests, off, tests, [1, 16], report)
    for policy in () if args.no_aof else ("everysec", "always"):
        report += ["", f"## Throughput, appendonly yes, appendfsync {policy}", ""]
        throughput_section(rounds, requests, ["--save", "", "--appendonly", "yes", "--appendfsync", policy],
                           ["set", "incr"], [1, 16], report)
    if not args.no_aof and os.path.exists(SLOW_FSYNC):
        # How `always` fares when the disk, not the CPU, bounds it: the same
        # shim adds the same latency to every fdatasync of both servers.
        for us in SLOW_FSYNC_US:
            report += ["", f"## Throughput, appendfsync always, every fdatasync {us} µs slower (both servers)", ""]
            throughput_section(rounds, requests // 10, ["--save", "", "--appendonly", "yes", "--appendfsync", "always"],
                               ["set", "incr"], [1], report,
                               env={"LD_PRELOAD": SLOW_FSYNC, "SLOW_FSYNC_US": str(us)})
    if not args.skip_datasets:
        for keys in ([1_000_000] if args.quick else [1_000_000, 5_000_000]):
            report += ["", f"## Dataset of {keys:,} keys (DEBUG POPULATE, 16-byte values)", ""]
            dataset_section(keys, report)
    total, stolen = (now - then for now, then in zip(cpu_times(), cpu_at_start))
    # On a shared VM, time stolen by other guests is the main source of noise.
    report[3:3] = ["", f"CPU steal during the run: {100 * stolen / max(total, 1):.1f}% of the machine's CPU time."]
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    # A second run on the same day gets its own file: results are kept in the repo.
    path = os.path.join(ROOT, "bench", "results", f"{today}.md")
    run = 1
    while os.path.exists(path):
        run += 1
        path = os.path.join(ROOT, "bench", "results", f"{today}-{run}.md")
    with open(path, "w") as fh:
        fh.write("\n".join(report) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
