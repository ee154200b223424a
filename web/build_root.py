#!/usr/bin/env python3
"""Assembles the served web root in the build tree.

  build_root.py --source DIR --out DIR --stamp FILE   (at build time)
  build_root.py --install ROOT RELDIR                 (meson install script)

At build time the pinned npm packages are installed with `npm ci` into
OUT/npm (outside the source tree), then our files and the vis bundles are
copied to OUT/root, which webd serves (--web-root) and `meson install`
copies to the data directory.  npm runs again only when the lockfile
changes.  Files in the root that are no longer wanted are removed.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys

OURS = ["index.html", "app.js", "style.css", "js", "img"]
VENDOR = {
    # Peer build of vis-network: the standalone one injects a <style>
    # element, which our self-only CSP refuses.
    "vendor/vis-network.min.js": "vis-network/peer/umd/vis-network.min.js",
    "vendor/vis-data.min.js": "vis-data/standalone/umd/vis-data.min.js",
    "vendor/LICENSE-vis-network.txt": "vis-network/LICENSE-MIT",
    "vendor/LICENSE-vis-data.txt": "vis-data/LICENSE-MIT",
}
SUFFIXES = (".html", ".js", ".css", ".svg", ".png", ".txt")


def die(msg):
    print("build_root.py: " + msg, file=sys.stderr)
    sys.exit(1)


def digest(paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def npm_install(src, npmdir):
    lock = [os.path.join(src, "package.json"), os.path.join(src, "package-lock.json")]
    for p in lock:
        if not os.path.isfile(p):
            die("missing " + p)
    want = digest(lock)
    mark = os.path.join(npmdir, "node_modules", ".procnet-lock")
    try:
        with open(mark) as f:
            if f.read().strip() == want:
                return
    except OSError:
        pass
    os.makedirs(npmdir, exist_ok=True)
    for p in lock:
        shutil.copyfile(p, os.path.join(npmdir, os.path.basename(p)))
    npm = shutil.which("npm")
    if not npm:
        die("npm not found (packaging/deps.sh build installs it)")
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    print("build_root.py: " + " ".join(cmd[1:]) + " in " + npmdir, file=sys.stderr)
    r = subprocess.run(cmd, cwd=npmdir)
    if r.returncode != 0:
        die("npm ci failed with exit code %d" % r.returncode)
    with open(mark, "w") as f:
        f.write(want + "\n")


def wanted_files(src, modules):
    """Maps each path under the root to the file it is copied from."""
    out = {}
    for name in OURS:
        p = os.path.join(src, name)
        if os.path.isfile(p):
            out[name] = p
        elif os.path.isdir(p):
            for dirpath, _, files in os.walk(p):
                for fn in files:
                    if fn.endswith(SUFFIXES):
                        full = os.path.join(dirpath, fn)
                        out[os.path.relpath(full, src)] = full
        else:
            die("missing " + p)
    for dst, rel in VENDOR.items():
        p = os.path.join(modules, rel)
        if not os.path.isfile(p):
            die("npm package file missing: " + p)
        out[dst] = p
    return out


def sync(files, root):
    os.makedirs(root, exist_ok=True)
    for dst, srcp in files.items():
        d = os.path.join(root, dst)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        try:
            with open(srcp, "rb") as a, open(d, "rb") as b:
                if a.read() == b.read():
                    continue
        except OSError:
            pass
        shutil.copyfile(srcp, d)
    for dirpath, dirs, fns in os.walk(root, topdown=False):
        for fn in fns:
            rel = os.path.relpath(os.path.join(dirpath, fn), root)
            if rel not in files:
                os.unlink(os.path.join(dirpath, fn))
        if dirpath != root and not os.listdir(dirpath):
            os.rmdir(dirpath)


def install(root, reldir):
    base = os.environ.get("MESON_INSTALL_DESTDIR_PREFIX")
    if not base:
        die("--install runs from meson install only")
    dest = os.path.join(base, reldir)
    if not os.path.isdir(root):
        die("web root not built: " + root)
    for dirpath, _, fns in os.walk(root):
        for fn in fns:
            s = os.path.join(dirpath, fn)
            d = os.path.join(dest, os.path.relpath(s, root))
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copyfile(s, d)
            os.chmod(d, 0o644)
    print("Installed web root to " + dest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source")
    ap.add_argument("--out")
    ap.add_argument("--stamp")
    ap.add_argument("--install", nargs=2, metavar=("ROOT", "RELDIR"))
    a = ap.parse_args()
    if a.install:
        install(*a.install)
        return
    if not (a.source and a.out and a.stamp):
        die("need --source, --out and --stamp")
    npmdir = os.path.join(a.out, "npm")
    npm_install(a.source, npmdir)
    files = wanted_files(a.source, os.path.join(npmdir, "node_modules"))
    sync(files, os.path.join(a.out, "root"))
    with open(a.stamp, "w") as f:
        f.write("%d files\n" % len(files))


if __name__ == "__main__":
    main()
