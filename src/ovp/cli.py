"""The `ovp` command: serve, migrate the database, manage API keys, import rate decks."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import logging.config
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson
from sqlalchemy.engine import make_url

from ovp.config import DISTRIBUTION, Settings
from ovp.domain.calls.rates import parse_rate_deck
from ovp.domain.clock import now_timestamp, wall_ms
from ovp.domain.errors import InvalidInput
from ovp.domain.keys import OPEN_ACCOUNT_PREFIX, new_key, open_mode_account
from ovp.domain.rate_limit import NONE as NO_RATE_LIMIT
from ovp.domain.rate_limit import RateLimitSyntaxError, parse_rate_limit
from ovp.domain.webhooks.signing import KeyPair
from ovp.flags import database_option, settings_from, settings_options
from ovp.processes.logs import logging_config
from ovp.server.run import ServeError, check_addresses
from ovp.server.run import serve as run_server
from ovp.services import seed as seeding
from ovp.services import webhook_deliveries
from ovp.store import calls as call_store
from ovp.store import keys as key_store
from ovp.store import rates as rate_store
from ovp.store.backends import is_memory_sqlite, open_database
from ovp.store.database import Database

log = logging.getLogger("ovp")

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class RateLimitType(click.ParamType):  # type: ignore[type-arg]
    name = "N/unit"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            parse_rate_limit(str(value))
        except RateLimitSyntaxError as error:
            self.fail(str(error), param, ctx)
        return str(value).strip()


RATE_LIMIT = RateLimitType()


def with_database(url: str, use: Callable[[Database], Awaitable[T]], *, existing: bool = False) -> T:
    """Opens the database at `url`, brings it up to date, runs `use` on it, and closes it.
    `existing`: for a command that has nothing to do in a new database, an SQLite file must be there
    already (opening a path that holds none would make a new, empty one)."""
    file = _sqlite_file(url)
    if existing and file is not None and not file.exists():
        raise click.ClickException(
            f"there is no database at {shown(url)}: give --database (or OVP_DATABASE_URL) the one your server "
            "uses, which `ovp serve` names as it starts")

    async def run() -> T:
        try:
            database = open_database(url)
            try:
                await database.migrate()
            except BaseException:
                await database.close()
                raise
        except Exception as error:  # SQLAlchemy's errors, the drivers' (a bad URL), OSError
            reason = " ".join(str(getattr(error, "orig", None) or error).split())
            raise click.ClickException(f"cannot use the database {shown(url)}: {reason}") from error
        try:
            return await use(database)
        finally:
            await database.close()

    return asyncio.run(run())


def _sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL, resolved from the working directory; None for memory or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or is_memory_sqlite(url):
        return None
    return Path(str(parsed.database)).resolve()


def shown(url: str) -> str:
    """A database URL fit to print: an SQLite file's path made absolute (a relative one is the working
    directory's, which differs from one shell to another), never with its password."""
    parsed = make_url(url)
    file = _sqlite_file(url)
    if file is not None:
        parsed = parsed.set(database=str(file))
    return parsed.render_as_string(hide_password=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=DISTRIBUTION, prog_name="ovp", message="%(prog)s %(version)s")
def cli() -> None:
    """ovp: a faithful, stateful server for Telnyx-style outbound voice profiles.

    Every option can also be set by the environment variable its help names (OVP_*); an option given
    on the command line wins."""


@cli.command()
@settings_options
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Open mode: load profiles from a JSON file ({"data": [...]}, as the API answers; ids kept) at start.',
)
@click.option(
    "--seed-token",
    default="test",
    show_default=True,
    help="The bearer token whose account the seed goes to.",
)
@click.pass_context
def serve(ctx: click.Context, /, seed_file: Path | None, seed_token: str, **given: Any) -> None:
    """Run the HTTP server."""
    settings = settings_from(given)
    own_database = settings.auth == "open" and "database_url" not in settings.model_fields_set
    scratch = tempfile.mkdtemp(prefix="ovp-open-") if own_database else None
    if scratch is not None:
        # Open mode never touches keys mode's data (ovp.db by default): without --database it serves
        # a database of its own, gone when the server stops.
        settings = settings.model_copy(update={"database_url": f"sqlite:///{Path(scratch) / 'ovp.db'}"})
    try:
        _serve(ctx, settings, seed_file, seed_token, temporary=scratch is not None)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _serve(ctx: click.Context, settings: Settings, seed_file: Path | None, seed_token: str, *,
           temporary: bool) -> None:
    database_url, workers, auth = settings.database_url, settings.workers, settings.auth
    if workers > 1 and is_memory_sqlite(database_url):
        raise click.BadParameter("an in-memory database cannot be shared by several workers", param_hint="--workers")
    if auth == "keys" and is_memory_sqlite(database_url):
        raise click.BadParameter("keys mode needs API keys, which `ovp keys create` keeps in a database file: an "
                                 "in-memory database could never hold one", param_hint="--database")
    if workers > 1 and auth == "keys" and settings.rate_limit != NO_RATE_LIMIT and not settings.rate_limit_storage:
        raise click.BadParameter(
            f"with --workers {workers}, each worker would count apart: give --rate-limit-storage redis://HOST:6379, "
            "which every worker shares, or --rate-limit 0", param_hint="--rate-limit-storage",
        )
    if seed_file is not None and auth != "open":
        raise click.BadParameter("seeding is for the emulator: serve with --auth open", param_hint="--seed")
    if seed_file is not None and is_memory_sqlite(database_url):
        raise click.BadParameter("a seed in an in-memory database would not reach the server", param_hint="--seed")
    seed = _read_seed(seed_file) if seed_file is not None else None
    try:
        check_addresses(settings)
    except ServeError as error:
        raise click.ClickException(str(error)) from None
    logging.config.dictConfig(logging_config(settings.log_format, access_log=settings.access_log))

    async def prepare(database: Database) -> int:
        if seed is not None:
            await _load_seed(database, seed, seed_token)
        return await database.read_one(key_store.count_active)

    active_keys = with_database(database_url, prepare)
    if auth == "open" and active_keys:
        raise click.UsageError(
            f"{shown(database_url)} holds API keys, so it is keys mode's: open mode would let any token read "
            "and reset it. Serve it with --auth keys, or serve open mode without --database (a database of its "
            "own) or with a --database of its own", ctx)
    _announce(settings, active_keys, temporary=temporary)
    try:
        status = run_server(settings)
    except ServeError as error:
        raise click.ClickException(str(error)) from None
    if status:
        sys.exit(status)


@dataclass(frozen=True)
class _Seed:
    path: Path
    document: object


def _read_seed(seed_file: Path) -> _Seed:
    try:
        return _Seed(seed_file, orjson.loads(seed_file.read_bytes()))
    except orjson.JSONDecodeError as error:
        raise click.BadParameter(f"{seed_file} is not valid JSON: {error}", param_hint="--seed") from error


async def _load_seed(database: Database, seed: _Seed, token: str) -> None:
    account_id = open_mode_account(token)
    try:
        loaded = await database.write_long(lambda tx: seeding.load(tx, account_id, seed.document))
    except InvalidInput as error:
        problems = "; ".join(f"{problem.pointer}: {problem.detail}" for problem in error.problems)
        raise click.BadParameter(f"{seed.path}: {problems}", param_hint="--seed") from error
    log.info("loaded %d profiles, %d credential connections and %d billing groups from %s for the token %r",
             loaded.profiles, loaded.connections, loaded.billing_groups, seed.path, token)


def _announce(settings: Settings, active_keys: int, *, temporary: bool) -> None:
    log.info("serving http://%s:%d/v2 with %s in %s mode", settings.host, settings.port,
             shown(settings.database_url), settings.auth)
    if temporary:
        log.info("open mode: that database is its own, and is deleted when the server stops "
                 "(give --database to keep one)")
    if settings.auth == "open" and not _is_loopback(settings.host):
        log.warning("open mode accepts any token, and it is listening beyond loopback")
    if settings.auth == "keys" and active_keys == 0:
        log.warning("no API keys yet, so every request will get 401. Create one (shown once) with "
                    "`%s keys create --account me --database %s`, or, for local testing only, serve with "
                    "--auth open to accept any bearer token", _ovp_command(), shown(settings.database_url))


def _ovp_command() -> str:
    """How to run this very `ovp` from the shell the user typed in: `ovp` when that is it on PATH."""
    this = Path(sys.argv[0]).resolve()
    on_path = shutil.which("ovp")
    return "ovp" if on_path is not None and Path(on_path).resolve() == this else str(this)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@database_option
def db_upgrade(database_url: str) -> None:
    """Apply every pending migration."""

    async def nothing_more(_database: Database) -> None:
        return None

    with_database(database_url, nothing_more)
    click.echo(f"ovp: the database {shown(database_url)} is up to date.", err=True)


@cli.group()
def keys() -> None:
    """API keys for --auth keys."""


@keys.command("create")
@click.option("--account", required=True, help="The account the key belongs to.")
@click.option("--rate-limit", type=RATE_LIMIT, default=None,
              help="The key's own rate limit (10/second; 0: none), instead of the server's --rate-limit.")
@database_option
def keys_create(account: str, rate_limit: str | None, database_url: str) -> None:
    """Make a key and print it. It is shown this once; only its hash is kept."""
    if not account.strip() or len(account) > 58:
        raise click.BadParameter("give 1 to 58 characters", param_hint="--account")
    if account.startswith(OPEN_ACCOUNT_PREFIX):
        # Open mode names its accounts so; a key for such a name would reach an open-mode account's data.
        raise click.BadParameter(f"names starting {OPEN_ACCOUNT_PREFIX!r} are reserved", param_hint="--account")
    if is_memory_sqlite(database_url):
        raise click.BadParameter("a key in an in-memory database would vanish at once", param_hint="--database")
    key = new_key()
    with_database(database_url, lambda database: database.write_long(
        lambda tx: key_store.insert(tx, account, key, now_timestamp(), rate_limit)
    ))
    click.echo(key.secret)
    click.echo(f"ovp: key {key.id} for account {account!r}, in {shown(database_url)}. Keep it now: it cannot be "
               "shown again.", err=True)


@keys.command("list")
@database_option
def keys_list(database_url: str) -> None:
    """List keys (never the keys themselves)."""
    records = with_database(database_url, lambda database: database.read_one(key_store.all_keys), existing=True)
    click.echo(f"ovp: the keys of {shown(database_url)}", err=True)
    click.echo(f"{'ID':<22} {'ACCOUNT':<24} {'PREFIX':<12} {'CREATED':<25} {'REVOKED':<25} RATE LIMIT")
    for record in records:
        click.echo(f"{record.id:<22} {record.account_id:<24} {record.shown_prefix + '…':<12} "
                   f"{record.created_at:<25} {record.revoked_at or '-':<25} {record.rate_limit or 'default'}")


@keys.command("revoke")
@click.argument("key_id")
@database_option
def keys_revoke(key_id: str, database_url: str) -> None:
    """Revoke a key by its id; it stops working at once."""
    revoked = with_database(database_url, lambda database: database.write_long(
        lambda tx: key_store.revoke(tx, key_id, now_timestamp())
    ), existing=True)
    if not revoked:
        raise click.ClickException(f"no active key with id {key_id!r} in {shown(database_url)}")
    click.echo(f"ovp: key {key_id} revoked in {shown(database_url)}.", err=True)


@cli.group()
def webhooks() -> None:
    """The key that signs every call webhook the servers of a database send."""


@webhooks.command("public-key")
@database_option
def webhooks_public_key(database_url: str) -> None:
    """Print the public key that verifies the webhooks (base64, as the SDKs' webhooks.unwrap takes it)."""
    candidate, now_ms = KeyPair.generate(), wall_ms()
    pair = with_database(database_url, lambda database: database.write_long(
        lambda tx: webhook_deliveries.ensure_signing_key(tx, candidate, now_ms)), existing=True)
    click.echo(pair.public_key)


@webhooks.command("rotate-key")
@database_option
def webhooks_rotate_key(database_url: str) -> None:
    """Replace the key pair and print the new public key. Every server signs with it from its next
    claim of events; receivers must verify with the new key from then on."""
    pair, now_ms = KeyPair.generate(), wall_ms()
    with_database(database_url, lambda database: database.write_long(
        lambda tx: webhook_deliveries.replace_signing_key(tx, pair, now_ms)), existing=True)
    click.echo(pair.public_key)
    click.echo(f"ovp: a new webhook signing key in {shown(database_url)}; hand its public key to your receivers.",
               err=True)


@cli.group()
def rates() -> None:
    """Rate decks: per-minute rates by destination prefix, per account."""


@rates.command("import")
@click.argument("csv_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", help="The account (as in `ovp keys create --account`) whose deck this becomes.")
@click.option("--token", help="Open mode: the bearer token whose account's deck this becomes.")
@database_option
def rates_import(csv_file: Path, account: str | None, token: str | None, database_url: str) -> None:
    """Replace an account's rate deck with FILE, a CSV of prefix,rate lines (USD per minute)."""
    if (account is None) == (token is None):
        raise click.UsageError("give exactly one of --account and --token")
    owner = account if account is not None else open_mode_account(token or "")
    try:
        deck = parse_rate_deck(csv_file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        raise click.BadParameter(f"{csv_file} is not UTF-8 text: {error}", param_hint="FILE") from error
    except InvalidInput as error:
        problems = "; ".join(problem.detail for problem in error.problems)
        raise click.BadParameter(f"{csv_file}: {problems}", param_hint="FILE") from error

    def no_key() -> click.BadParameter:
        return click.BadParameter(f"no API key belongs to the account {account!r} in {shown(database_url)}, so no "
                                  f"request could use its deck: create one first (ovp keys create --account "
                                  f"{account} --database {shown(database_url)})", param_hint="--account")

    async def load(database: Database) -> int:
        if account is not None and account not in await database.read_one(key_store.accounts):
            raise no_key()
        return await database.write_long(lambda tx: rate_store.replace_deck(tx, owner, deck))

    file = _sqlite_file(database_url)
    if account is not None and file is not None and not file.exists():
        raise no_key()  # and no database is made where there is none: the key's would be elsewhere
    loaded = with_database(database_url, load)
    click.echo(f"ovp: {loaded} rates loaded for the account {account or 'of that token'}, in {shown(database_url)}.",
               err=True)


@cli.group()
def calls() -> None:
    """Call records: one row is kept for each call decided, allowed or refused."""


@calls.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=2), required=True,
              help="Keep the last DAYS days (at least 2: calls_per_cld counts back up to a day).")
@database_option
def calls_purge(days: int, database_url: str) -> None:
    """Delete the records of calls older than DAYS days (the allowed ones once they ended or expired),
    the webhook deliveries settled of older events, and older daily spend."""
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    purged = with_database(database_url, lambda database: database.write_long(
        lambda tx: call_store.purge(tx, before_ms=int(cutoff.timestamp() * 1000),
                                    before_day=cutoff.date().isoformat(), now_ms=int(now.timestamp() * 1000))
    ), existing=True)
    click.echo(f"ovp: purged {purged.calls} call authorizations, {purged.refusals} refusals, {purged.deliveries} "
               f"webhook deliveries and {purged.days} days of spend from {shown(database_url)}.", err=True)


def main(argv: list[str] | None = None) -> None:
    """Runs the command; a usage error is one line on stderr and exit status 2, never a traceback."""
    try:
        cli.main(args=argv, prog_name="ovp", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:  # `ovp` alone, or a group alone: its help
        click.echo(error.ctx.get_help() if error.ctx else "")
        sys.exit(2)
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        click.echo(f"ovp: error: {error.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as error:
        click.echo(f"ovp: error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except click.Abort:
        sys.exit(130)
