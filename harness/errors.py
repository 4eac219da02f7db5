"""The one base class for mistakes a user can fix (bad flag, missing file, unreachable server), and the exit codes.

Entry points catch `UserError`, print `error: <message>` on one line and exit EXIT_USER_ERROR (2); anything else is
a bug and keeps its traceback. `UserError` is deliberately not a ValueError: an `except ValueError` somewhere must
never turn a bug into a user message, nor a user message into something else.
"""

EXIT_OK = 0
EXIT_USER_ERROR = 2  # bad input: one `error:` line, nothing graded
EXIT_INCOMPLETE = 3  # finished, but some samples are infra_error or missing: the score is not over the selection
EXIT_INTERRUPTED = 130  # Ctrl-C: everything graded is kept; --resume finishes


class UserError(Exception):
    """A problem with the user's input or environment, stated in one line that says what to do."""
