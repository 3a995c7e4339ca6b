"""Errors that stop the local stack at start, each with a message a newcomer can act on."""

from __future__ import annotations


class StackError(RuntimeError):
    """The local stack cannot start; the message says why and what to do."""


class TemplateError(StackError):
    """template.yaml asks for something the local stack cannot run."""


class PortInUseError(StackError):
    """The HTTP port is taken by another process."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"Port {port} on {host} is already in use (another `make dev`?). "
            f"Stop that process or pick another port: `make dev PORT={port + 1}` "
            f"or `leadflow dev --port {port + 1}`."
        )
        self.port = port


class BundleRefusedError(StackError):
    """The definitions bundle given at start was refused; ``problems`` maps each path to its message."""

    def __init__(self, source: str, message: str, problems: dict[str, str]) -> None:
        lines = [f"The definitions in {source} were refused: {message}"]
        lines += [f"  - {path}: {problem}" for path, problem in problems.items()]
        super().__init__("\n".join(lines))
        self.problems = problems
