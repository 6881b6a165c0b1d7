"""`choqr` commands for imports (registered by merchants.cli.register_commands)."""

import click

commands: list[click.Command] = []
