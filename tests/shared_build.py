"""One build of the real dataset per test run, shared by every module that needs it.

The build runs through the console command (``openskies build``), so its
printed report is also what the CLI tests check; reasoning makes it the
slowest step of the suite, which is why it happens once.
"""

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from typer.testing import CliRunner

from openskies.cli import app


@cache
def cli_build() -> tuple[Path, str]:
    """(build directory, the command's output) of ``openskies build --out <tmp>``."""
    out = Path(tempfile.mkdtemp(prefix="openskies-test-build-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    result = CliRunner().invoke(app, ["build", "--out", str(out)])
    if result.exit_code != 0:
        raise RuntimeError(f"openskies build failed ({result.exit_code}):\n{result.output}")
    return out, result.output


def built_dir() -> Path:
    return cli_build()[0]
