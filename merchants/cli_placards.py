"""`choqr` commands for placards (registered by merchants.cli.register_commands)."""

import click

commands: list[click.Command] = []
