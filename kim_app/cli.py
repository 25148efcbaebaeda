"""``flask --app wsgi kim …``: set-up, region import, accounts, demo data, backup and restore."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from kim_app import ROOT
from kim_app.auth.models import Role, User
from kim_app.auth.operations import AccountError, create_user
from kim_app.backup import BackupError, Summary, backup, restore
from kim_app.demo import DEMO_PASSWORD, DEMO_USERS, load_demo_event, load_demo_users
from kim_app.extensions import db
from kim_app.regions.models import LEVELS, Region
from kim_app.regions.operations import RegionImportError, import_regions, region_counts

kim_cli = AppGroup("kim", help="KIM administration commands.")
DEFAULT_REGION_DIR = ROOT / "node_modules" / "idn-area-data" / "data"


@kim_cli.command("import-regions")
@click.option(
    "--from",
    "source",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_REGION_DIR,
    show_default=True,
    help="Folder with provinces.csv, regencies.csv, districts.csv, villages.csv.",
)
def import_regions_command(source: Path) -> None:
    """Load or refresh provinces, regencies, districts and villages."""
    started = time.perf_counter()
    try:
        result = import_regions(source)
        db.session.commit()
    except RegionImportError as error:
        db.session.rollback()
        click.echo(f"Region import stopped, nothing changed: {error}", err=True)
        sys.exit(2)
    seconds = time.perf_counter() - started
    click.echo(
        f"Regions: {result.total} rows ({result.added} added, {result.renamed} renamed, "
        f"{result.unchanged} unchanged) in {seconds:.1f} s"
    )


@kim_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, help=", ".join(r.value for r in Role))
@click.option("--scope", "scope", default="", help="Region code (empty for admin).")
def create_user_command(email: str, name: str, role: str, scope: str) -> None:
    """Create an account; the password comes from KIM_PASSWORD or a prompt."""
    if role not in {r.value for r in Role}:
        click.echo(
            f"Unknown role {role!r}; choose one of: {', '.join(r.value for r in Role)}", err=True
        )
        sys.exit(2)
    password = os.environ.get("KIM_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        user = create_user(
            email=email,
            name=name,
            role=Role(role),
            scope_code=scope or None,
            password=password,
            by=None,
        )
    except AccountError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}, scope {user.scope_code or 'Indonesia'})")


@kim_cli.command("load-demo")
def load_demo_command() -> None:
    """Create the demo accounts and the demo event (local trial only) when they are missing."""
    load_demo_users()
    load_demo_event()
    db.session.commit()
    print_demo_sign_ins()


def print_demo_sign_ins() -> None:
    click.echo("Demo sign-ins (local trial only), password " + DEMO_PASSWORD + ":")
    for email, _name, role, scope in DEMO_USERS:
        click.echo(f"  {email:<22} {role.label:<26} {scope or 'Indonesia'}")


@kim_cli.command("setup")
@click.pass_context
def setup_command(ctx: click.Context) -> None:
    """Migrate; on an empty database import regions and demo data. Fast when already done."""
    from flask_migrate import upgrade

    upgrade()
    if db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == 0:
        ctx.invoke(import_regions_command, source=DEFAULT_REGION_DIR)
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        ctx.invoke(load_demo_command)
    else:
        print_demo_sign_ins()
    counts = region_counts()
    click.echo(
        "Regions loaded: " + ", ".join(f"{lvl.value} {counts.get(lvl, 0)}" for lvl in LEVELS)
    )


@kim_cli.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
def backup_command(path: Path) -> None:
    """Write the database and the upload folder to one archive (PATH: a new file or a folder)."""
    try:
        summary = backup(path)
    except BackupError as error:
        click.echo(f"Backup failed, no archive written: {error}", err=True)
        sys.exit(2)
    click.echo(f"Backup written to {summary.path}")
    click.echo(describe(summary))


@kim_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace without asking.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database content and the upload folder with a checked backup archive."""

    def confirm(summary: Summary) -> bool:
        click.echo(f"Backup checked: {path}")
        click.echo(describe(summary))
        return yes or click.confirm(
            "Replace ALL current data and uploaded files with this backup?", default=False
        )

    try:
        summary = restore(path, confirm=confirm)
    except BackupError as error:
        click.echo(f"Restore stopped: {error}", err=True)
        sys.exit(2)
    if summary is None:
        click.echo("Nothing changed.")
        sys.exit(1)
    click.echo("Restored; row counts and file checksums match the backup.")


def describe(summary: Summary) -> str:
    """Counts and sizes only: never a row's content."""
    return (
        f"  made {summary.created_at}, {summary.database} at migration {summary.revision}\n"
        f"  {summary.tables} tables, {summary.rows:,} rows, "
        f"{summary.files} uploaded file{'' if summary.files == 1 else 's'}, "
        f"{summary.size / 1_000_000:.1f} MB"
    )


# how much lower than the app servers the worker runs (nice(1): 0 is normal, 19 the lowest)
WORKER_NICENESS = 10


@kim_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads running jobs.")
def worker_command(workers: int) -> None:
    """Run the job queue's consumer (emails, prepared files and other work kept out of
    requests) until stopped. Ctrl-C (SIGINT) lets running jobs finish first; SIGTERM cuts them
    short (a prepared file cut short is made again by the next worker)."""
    import logging

    from flask import current_app

    from kim_app.files.operations import reap
    from kim_app.jobs import consumer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # a big PDF takes a core for a minute: the app servers' requests go first whenever they
    # want it (issue 24: a page polled while a file is made stays within 50 ms)
    os.nice(WORKER_NICENESS)
    reap()  # the files a worker that died left half made: queued again before taking new work
    consumer(current_app._get_current_object(), workers=workers).run()
